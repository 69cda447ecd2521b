//! YAML text to documents, straight from the parser's events.
//!
//! The events of `granit-parser` carry each node's style, tag, anchor and
//! line, which is all a manifest reader needs: plain scalars are resolved
//! with kubectl's YAML 1.1 rules ([`crate::yaml11`]) from the text the parser
//! hands over, quoted and block scalars stay strings, and the line tree is
//! built beside the value in the same pass. Going through serde (with a
//! `Spanned` wrapper per node) cost about three times the parse itself.
//!
//! Hostile input is bounded here: nesting deeper than [`MAX_DEPTH`] is
//! refused as it opens, and aliases may not expand to more nodes than the
//! text could hold without them (an alias bomb stops before it allocates).

use std::collections::{HashMap, HashSet};

use granit_parser::{Event, Parser, ScalarStyle, Tag};
use serde_json::{Map, Value};

use super::{Document, LineTree, MAX_DEPTH, NestedLines, Problem, too_deep};
use crate::yaml11::{self, Resolved};

/// A finished node: its value, its lines, and how many nodes it holds (what
/// an alias of it costs).
#[derive(Clone)]
struct Node {
    value: Value,
    /// Nested while the document is read: merge keys rearrange children.
    lines: NestedLines,
    size: usize,
}

/// A collection being read.
enum Open {
    Sequence {
        values: Vec<Value>,
        lines: Vec<NestedLines>,
    },
    Mapping {
        map: Map<String, Value>,
        lines: Vec<NestedLines>,
        /// The key read, waiting for its value: text, line, and whether it
        /// is the merge key `<<`.
        key: Option<(String, u32, bool)>,
        /// Keys set by a merge (`<<`), which a later explicit key may set
        /// again (go-yaml applies keys in order, the last one winning).
        merged: HashSet<String>,
        /// Position of each key, built at the first merge (merges set keys
        /// again where they are, which needs their line tree's index).
        positions: Option<HashMap<String, usize>>,
    },
}

struct Frame {
    open: Open,
    line: u32,
    anchor: usize,
    size: usize,
}

/// Reads every document of `text`. Empty and null documents are skipped.
pub(super) fn parse(text: &str) -> Result<Vec<Document>, Problem> {
    let mut parser = Parser::new_from_str(text);
    // Every node consumes at least one byte of input unless it comes from
    // an alias, so only alias expansion can pass this.
    let budget = text.len() + 10_000;
    let mut produced = 0usize;
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut docs = Vec::new();
    let (mut ended_by_dots, mut skip_document) = (false, false);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| (e.marker().line() as u32, e.marker().col() as u32 + 1, e.info()))?;
        let line = span.start.line() as u32;
        let node = match event {
            Event::StreamStart | Event::StreamEnd => continue,
            Event::DocumentEnd => {
                let at = span.start.byte_offset().unwrap_or(usize::MAX);
                ended_by_dots = text.get(at..).is_some_and(|rest| rest.starts_with("..."));
                continue;
            }
            Event::DocumentStart(explicit, _) => {
                // kubectl cuts its input at `---` lines and reads the first
                // document of each part: what follows `...` before the next
                // `---` is never read.
                skip_document = ended_by_dots && !explicit;
                ended_by_dots = false;
                anchors.clear();
                continue;
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err((line, span.start.col() as u32 + 1, too_deep()));
                }
                let open = if matches!(event, Event::SequenceStart(..)) {
                    Open::Sequence { values: Vec::new(), lines: Vec::new() }
                } else {
                    Open::Mapping { map: Map::new(), lines: Vec::new(), key: None, merged: HashSet::new(), positions: None }
                };
                stack.push(Frame { open, line, anchor, size: 1 });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = stack.pop() else {
                    return Err((line, 0, "unbalanced collection end".to_string()));
                };
                let (value, children) = match frame.open {
                    Open::Sequence { values, lines } => (Value::Array(values), lines),
                    Open::Mapping { map, lines, .. } => (Value::Object(map), lines),
                };
                let node = Node { value, lines: NestedLines::new(frame.line, 0, children), size: frame.size };
                if frame.anchor != 0 {
                    anchors.insert(frame.anchor, node.clone());
                }
                node
            }
            Event::Scalar(text, style, anchor, tag) => {
                produced += 1;
                if expecting_key(&stack) {
                    let merge = style == ScalarStyle::Plain && text == "<<" && tag.as_deref().is_none_or(|t| t.suffix_in_namespace("tag:yaml.org,2002:").as_deref() == Some("merge"));
                    let key = if merge { text.into_owned() } else { key_text(&text, style, tag.as_deref()).map_err(|m| (line, 0, m))? };
                    if anchor != 0 {
                        anchors.insert(anchor, Node { value: Value::String(key.clone()), lines: leaf(line), size: 1 });
                    }
                    set_key(&mut stack, key, line, merge);
                    continue;
                }
                let value = scalar_value(&text, style, tag.as_deref()).map_err(|m| (line, 0, m))?;
                let node = Node { value, lines: leaf(line), size: 1 };
                if anchor != 0 {
                    anchors.insert(anchor, node.clone());
                }
                node
            }
            Event::Alias(id) => {
                let Some(target) = anchors.get(&id) else {
                    return Err((line, 0, "alias of a node that is not finished (a recursive alias?)".to_string()));
                };
                produced += target.size;
                if produced > budget {
                    return Err((line, 0, "aliases expand to far more data than the file holds (a YAML alias bomb?)".to_string()));
                }
                if expecting_key(&stack) {
                    let key = match &target.value {
                        Value::String(s) => s.clone(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
                        _ => return Err((line, 0, "a mapping key must be a string, number or boolean".to_string())),
                    };
                    set_key(&mut stack, key, line, false);
                    continue;
                }
                target.clone()
            }
            // Not emitted with the parser's default options.
            _ => continue,
        };
        // A finished node goes into its parent, or is a document.
        let Some(parent) = stack.last_mut() else {
            if !node.value.is_null() && !skip_document {
                let lines = LineTree::from(node.lines);
                docs.push(Document { line: lines.line(), value: node.value, lines });
            }
            continue;
        };
        parent.size += node.size;
        match &mut parent.open {
            Open::Sequence { values, lines } => {
                values.push(node.value);
                lines.push(node.lines);
            }
            Open::Mapping { map, lines, key, merged, positions } => {
                let Some((name, key_line, merge)) = key.take() else {
                    return Err((line, 0, "a mapping key must be a string, number or boolean, not a list or mapping".to_string()));
                };
                if merge {
                    // go-yaml: a mapping's keys are set in order; a sequence's
                    // mappings from last to first, so earlier ones win.
                    let sources: Vec<(Value, NestedLines)> = match node.value {
                        Value::Object(_) => vec![(node.value, node.lines)],
                        Value::Array(items) => items.into_iter().zip(node.lines.children).rev().collect(),
                        _ => return Err((key_line, 0, "`<<` merges mappings only".to_string())),
                    };
                    for (source, source_lines) in sources {
                        let Value::Object(entries) = source else {
                            return Err((key_line, 0, "`<<` merges mappings only".to_string()));
                        };
                        let positions = positions.get_or_insert_with(|| map.keys().enumerate().map(|(i, k)| (k.clone(), i)).collect());
                        for ((name, value), child) in entries.into_iter().zip(source_lines.children) {
                            set_merged(map, lines, positions, merged, name, value, child);
                        }
                    }
                    continue;
                }
                let mut lines_of_value = node.lines;
                lines_of_value.key_line = key_line;
                if let Some(positions) = positions {
                    positions.entry(name.clone()).or_insert(lines.len());
                }
                match map.entry(name) {
                    serde_json::map::Entry::Vacant(slot) => {
                        slot.insert(node.value);
                    }
                    serde_json::map::Entry::Occupied(mut taken) => {
                        if !merged.remove(taken.key()) {
                            return Err((key_line, 0, format!("duplicate key `{}` in a mapping", taken.key())));
                        }
                        // A key a merge set before it: the explicit one wins.
                        taken.insert(node.value);
                        if let Some(&at) = positions.as_ref().and_then(|p| p.get(taken.key())) {
                            lines[at] = lines_of_value;
                        }
                        continue;
                    }
                }
                lines.push(lines_of_value);
            }
        }
    }
    Ok(docs)
}

fn leaf(line: u32) -> NestedLines {
    NestedLines::new(line, 0, Vec::new())
}

/// True when the next node is a mapping key.
fn expecting_key(stack: &[Frame]) -> bool {
    matches!(stack.last(), Some(Frame { open: Open::Mapping { key: None, .. }, .. }))
}

fn set_key(stack: &mut [Frame], name: String, line: u32, merge: bool) {
    if let Some(Frame { open: Open::Mapping { key, .. }, .. }) = stack.last_mut() {
        *key = Some((name, line, merge));
    }
}

/// One key of a merged mapping: set, or set again, where the key already
/// is (go-yaml lets a merge override the keys before it).
fn set_merged(map: &mut Map<String, Value>, lines: &mut Vec<NestedLines>, positions: &mut HashMap<String, usize>, merged: &mut HashSet<String>, name: String, value: Value, child: NestedLines) {
    match positions.get(&name) {
        Some(&at) => lines[at] = child,
        None => {
            positions.insert(name.clone(), lines.len());
            lines.push(child);
        }
    }
    merged.insert(name.clone());
    map.insert(name, value);
}

/// The core schema's tag name (`!!int` -> `int`), or `None` for a local or
/// other tag.
fn core_tag(tag: &Tag) -> Option<&str> {
    tag.core_suffix()
}

/// A scalar value as kubectl reads it.
pub(super) fn scalar_value(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let plain = style == ScalarStyle::Plain;
    let Some(tag) = tag else {
        if !plain {
            return Ok(Value::String(text.to_string()));
        }
        return match yaml11::resolve_plain(text) {
            Resolved::Value(value) => Ok(value),
            Resolved::NotFinite => Err(format!("`{text}` is not a number JSON can hold; quote it if it is text")),
        };
    };
    // A tag go-yaml does not resolve keeps the text as a string; so do the
    // string-like core tags (go-yaml reads `!!binary` as its text too).
    let Some(name) = core_tag(tag) else { return Ok(Value::String(text.to_string())) };
    let resolved = || match yaml11::resolve_plain(text) {
        Resolved::Value(value) => Some(value),
        Resolved::NotFinite => None,
    };
    let wrong = || Err(format!("`{text}` is not a valid !!{name}"));
    match name {
        "str" | "binary" | "timestamp" => Ok(Value::String(text.to_string())),
        "null" => match resolved() {
            Some(Value::Null) => Ok(Value::Null),
            _ => wrong(),
        },
        "bool" => match resolved() {
            Some(Value::Bool(b)) => Ok(Value::Bool(b)),
            _ => wrong(),
        },
        "int" => match resolved() {
            Some(Value::Number(n)) if !n.is_f64() => Ok(Value::Number(n)),
            _ => wrong(),
        },
        "float" => match resolved() {
            Some(Value::Number(n)) => n.as_f64().and_then(serde_json::Number::from_f64).map(Value::Number).map_or_else(wrong, Ok),
            None => Err(format!("`{text}` is not a number JSON can hold; quote it if it is text")),
            _ => wrong(),
        },
        _ => wrong(),
    }
}

/// A mapping key as kubectl turns it into a JSON key: scalars of any type
/// by their text as Go prints it (integers in decimal, booleans as words,
/// floats with `%g` at 32-bit precision); null keys and integers above
/// int64 are refused, as sigs.k8s.io/yaml refuses them.
pub(super) fn key_text(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<String, String> {
    let value = scalar_value(text, style, tag).map_err(|_| refuse_key(text))?;
    match value {
        Value::String(s) => Ok(s),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ok(i.to_string()),
            None if n.is_f64() => Ok(yaml11::go_format_float32_g(n.as_f64().unwrap_or_default())),
            None => Err(refuse_key(text)),
        },
        _ => Err(refuse_key(text)),
    }
}

fn refuse_key(text: &str) -> String {
    format!("mapping key `{text}` is not a key kubectl can read; quote it")
}
