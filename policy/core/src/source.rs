//! Turning the text of one manifest file into JSON documents that remember
//! the line every value came from.
//!
//! YAML and JSON both go through `serde-saphyr` (JSON is YAML's flow style),
//! so a finding in `kubectl get -o json` output points at a line just like a
//! finding in a hand-written YAML file. Hostile input is bounded here: the
//! parser's budget stops alias bombs, nesting deeper than [`MAX_DEPTH`] and
//! event floods before they allocate.

use std::fmt;

#[cfg(feature = "yaml")]
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
#[cfg(feature = "yaml")]
use serde_json::{Map, Number};
#[cfg(feature = "yaml")]
use serde_saphyr::Spanned;

/// Structural nesting allowed in one document. Kubernetes objects nest about
/// 15 levels deep; CRD schemas a little more.
pub const MAX_DEPTH: usize = 64;

/// Largest input the core accepts in one file, in bytes. Faces check this
/// before reading so that a huge file is refused without being loaded.
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;

/// A problem with the input itself (not a Workload ID finding): the file
/// cannot be read as manifests at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    /// 1-based; 0 when the problem is not tied to a line (such as size).
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// One manifest file handed to the core by a face.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub content: String,
}

/// The line each value of a document starts on, as a tree shaped like the
/// value: a map's children in key order (serde_json keeps insertion order
/// here), an array's in index order. Cheaper to build than a map keyed by
/// pointer, and only walked when a finding needs its line.
#[derive(Debug, Clone, Default)]
pub struct LineTree {
    line: u32,
    /// Line of the mapping key this value belongs to (0 for list items and
    /// documents): where a missing field below it is reported, since a
    /// block mapping's value starts on the line after its key.
    key_line: u32,
    children: Vec<LineTree>,
}

/// One YAML document (or JSON value) of a file.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    pub lines: LineTree,
    /// Line where the document's value starts (0 for objects that did not
    /// come from text, such as admission requests).
    pub line: u32,
}

#[cfg(feature = "yaml")]
impl LineTree {
    /// Moves every line down by `by` (a part of a file parsed on its own).
    fn shift(&mut self, by: u32) {
        if self.line > 0 {
            self.line += by;
        }
        if self.key_line > 0 {
            self.key_line += by;
        }
        for child in &mut self.children {
            child.shift(by);
        }
    }
}

impl Document {
    /// Line of the value at RFC 6901 `pointer`; when it is missing, the line
    /// of its nearest ancestor's key (`spec:` for a missing
    /// `/spec/serviceAccountName`), where the field would be written.
    pub fn line_of(&self, pointer: &str) -> u32 {
        let (mut value, mut lines) = (&self.value, &self.lines);
        let mut missing = false;
        for raw in pointer.split('/').skip(1) {
            let segment = raw.replace("~1", "/").replace("~0", "~");
            let child = match value {
                Value::Object(map) => map.iter().enumerate().find(|(_, (k, _))| **k == segment).map(|(i, (_, v))| (i, v)),
                Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i).map(|v| (i, v))),
                _ => None,
            };
            let Some((i, child_value)) = child else {
                missing = true;
                break;
            };
            let Some(child_lines) = lines.children.get(i) else { break };
            value = child_value;
            lines = child_lines;
        }
        if missing && lines.key_line > 0 {
            lines.key_line
        } else if lines.line > 0 {
            lines.line
        } else {
            self.line
        }
    }
}

/// Escapes one pointer segment (RFC 6901: `~` -> `~0`, `/` -> `~1`).
pub fn escape_pointer_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(feature = "yaml")]
/// Parses every document of `file`. Empty documents are skipped.
///
/// YAML is read with kubectl's YAML 1.1 rules (see [`crate::yaml11`]). A file
/// whose first character is `{` or `[` is JSON, as kubectl treats it: a stream
/// of JSON values (what `jq '.items[]'` prints) is one document per value,
/// and JSON's own errors (a `//` comment, a trailing comma) are reported as
/// such. A file that only looks like JSON but is YAML flow style still reads.
pub fn parse_documents(file: &SourceFile) -> Result<Vec<Document>, InputError> {
    let fail = |line: u32, column: u32, message: String| InputError {
        file: file.name.clone(),
        line,
        column,
        message,
    };
    if file.content.len() > MAX_FILE_BYTES {
        return Err(fail(
            0,
            0,
            format!(
                "file is {} bytes, over the {} MiB limit",
                file.content.len(),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    // A byte-order mark is not content (kubectl drops it too).
    let text = file.content.strip_prefix('\u{feff}').unwrap_or(&file.content);
    let starts = text.trim_start().chars().next();
    // `{{- if ... }}` opens many Helm templates: not JSON.
    if matches!(starts, Some('{' | '[')) && !text.trim_start().starts_with("{{") {
        match json_value_ranges(text) {
            Ok(ranges) if ranges.len() > 1 => {
                let mut docs = Vec::with_capacity(ranges.len());
                let (mut shift, mut counted_to) = (0u32, 0usize);
                for range in ranges {
                    shift += text[counted_to..range.start].bytes().filter(|b| *b == b'\n').count() as u32;
                    counted_to = range.start;
                    let part = parse_yaml(&text[range]).map_err(|(l, c, m)| fail(l + shift, c, m))?;
                    docs.extend(part.into_iter().map(|mut d| {
                        d.line += shift;
                        d.lines.shift(shift);
                        d
                    }));
                }
                return Ok(docs);
            }
            Ok(_) => {}
            // kubectl reads a `{` file as JSON only, so does this reader. A
            // `[` file is YAML to kubectl: YAML flow style is still read
            // then, but never a file whose JSON problem is a comment (YAML
            // would take `// x` as text).
            Err(json_error) => {
                let is_comment = json_error.2.starts_with(JSON_COMMENT);
                return match parse_yaml(text) {
                    Ok(docs) if !is_comment && starts == Some('[') => Ok(docs),
                    _ => Err(fail(json_error.0, json_error.1, json_error.2)),
                };
            }
        }
    }
    parse_yaml(text).map_err(|(l, c, m)| match helm_template_line(text) {
        // The syntax error is a symptom: the file is a template, not YAML.
        Some(at) => fail(
            at,
            0,
            format!("this looks like a Helm template (`{{{{ ... }}}}` on line {at}), not a manifest: render it with `helm template` first and lint the output ({m} at line {l})"),
        ),
        None => fail(l, c, m),
    })
}

/// The first line holding a Go template action (`{{ ... }}`), as Helm
/// charts have.
#[cfg(feature = "yaml")]
fn helm_template_line(text: &str) -> Option<u32> {
    text.lines().position(|line| line.find("{{").is_some_and(|i| line[i..].contains("}}"))).map(|i| i as u32 + 1)
}

#[cfg(feature = "yaml")]
/// Byte ranges of the JSON values of a JSON text stream, or the first
/// error as (line, column, message).
fn json_value_ranges(text: &str) -> Result<Vec<std::ops::Range<usize>>, (u32, u32, String)> {
    let mut ranges = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde::de::IgnoredAny>();
    let mut start = 0;
    while let Some(item) = stream.next() {
        match item {
            Ok(_) => {
                let end = stream.byte_offset();
                ranges.push(start..end);
                start = end;
            }
            Err(e) => return Err((e.line() as u32, e.column() as u32, json_message(text, &e))),
        }
    }
    Ok(ranges)
}

#[cfg(feature = "yaml")]
const JSON_COMMENT: &str = "JSON has no comments";

#[cfg(feature = "yaml")]
/// serde_json's message without its position (reported separately), and a
/// plain word for the mistakes people make in JSON by hand.
fn json_message(text: &str, e: &serde_json::Error) -> String {
    let at = text
        .lines()
        .nth(e.line().saturating_sub(1))
        .and_then(|l| l.get(e.column().saturating_sub(1)..))
        .unwrap_or("");
    if at.starts_with("//") || at.starts_with("/*") {
        return format!("{JSON_COMMENT}; remove the comment (or write the file as YAML)");
    }
    let message = e.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message);
    if message.starts_with("recursion limit exceeded") {
        return format!("nesting deeper than {MAX_DEPTH} levels");
    }
    format!("invalid JSON: {message}")
}

#[cfg(feature = "yaml")]
/// Parses YAML (or JSON, YAML's flow style) text; errors as (line, column,
/// message) relative to `text`.
fn parse_yaml(text: &str) -> Result<Vec<Document>, (u32, u32, String)> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            // Every event, node and document consumes at least one input byte
            // unless it comes from an alias, so these bounds only ever trip
            // on alias expansion; the parser's defaults (250,000 nodes, 1,024
            // documents) would refuse an honest 10,000-object file.
            max_events: text.len() + 10_000,
            max_nodes: text.len() + 10_000,
            max_documents: text.len() + 1,
            // Many aliases of one anchor are honest YAML (kubectl reads
            // them); expansion is bounded by the events and nodes above.
            enforce_alias_anchor_ratio: false,
        },
        with_snippet: false,
        // `.inf` and `.nan` reach the scalar resolution, which names them.
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::AsString,
        // go-yaml reads `!!binary` as text too.
        ignore_binary_tag_for_string: true,
    };
    let _source = ScalarSource::enter(text);
    let nodes: Vec<Spanned<Node>> = serde_saphyr::from_multiple_with_options(text, options).map_err(|e| {
        let (line, column) = e.location().map(|l| (l.line() as u32, l.column() as u32)).unwrap_or((0, 0));
        (line, column, parse_error_message(&e))
    })?;
    nodes
        .into_iter()
        .map(|node| {
            let line = node.defined.line() as u32;
            let node = resolved(node).map_err(|m| (line, 0, m))?;
            let (value, lines) = node.into_json(line);
            Ok(Document { value, lines, line })
        })
        .collect()
}

#[cfg(feature = "yaml")]
/// The parser's message as a user should read it: no option names of the
/// library, no debug dumps, no position (reported separately).
fn parse_error_message(e: &serde_saphyr::Error) -> String {
    use serde_saphyr::budget::BudgetBreach;
    // Alias replays and snippets wrap the error that says what went wrong.
    let mut e = e;
    loop {
        match e {
            serde_saphyr::Error::WithSnippet { error, .. } | serde_saphyr::Error::AliasError { error, .. } => e = error,
            _ => break,
        }
    }
    match e {
        serde_saphyr::Error::DuplicateMappingKey { key: Some(key), .. } => format!("duplicate key `{key}` in a mapping"),
        serde_saphyr::Error::DuplicateMappingKey { key: None, .. } => "duplicate key in a mapping".to_string(),
        serde_saphyr::Error::Budget { breach, .. } => match breach {
            BudgetBreach::Depth { .. } => format!("nesting deeper than {MAX_DEPTH} levels"),
            BudgetBreach::Documents { .. } => "too many documents".to_string(),
            _ => "aliases expand to far more data than the file holds (a YAML alias bomb?)".to_string(),
        },
        other => {
            let text = other.to_string();
            let line = text.lines().next().unwrap_or(&text).trim();
            // serde-saphyr prefixes some messages with `error: ` and ends
            // others with their own position.
            let line = line.strip_prefix("error: ").unwrap_or(line);
            let line = match line.find(" at line ") {
                Some(i) => &line[..i],
                None => line,
            };
            let line = line.trim_end_matches(|c: char| c == ',' || c == ':');
            if line.starts_with("recursion limit exceeded") {
                format!("nesting deeper than {MAX_DEPTH} levels")
            } else {
                line.to_string()
            }
        }
    }
}

enum ItemsAt {
    Root,
    /// `items` is the n-th key of the List object.
    ListItems(usize),
}

/// Splits a document into the objects it carries: a `kind: List` or a bare
/// JSON array (as `az ... list` prints) becomes its items, each with its own
/// line map, and a List inside a List is flattened too (its pods are pods
/// like any other); anything else is one object. Nesting is bounded by the
/// parser's depth limit.
pub fn split_items(doc: Document) -> Vec<Document> {
    let is_list = doc
        .value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k == "List" || k.ends_with("List"))
        && doc.value.get("items").is_some_and(Value::is_array);
    let (items, prefix) = match doc.value {
        Value::Array(items) => (items, ItemsAt::Root),
        Value::Object(mut map) if is_list => {
            let position = map.keys().position(|k| k == "items").unwrap_or(usize::MAX);
            match map.shift_remove("items") {
                Some(Value::Array(items)) => (items, ItemsAt::ListItems(position)),
                _ => unreachable!("checked above"),
            }
        }
        value => {
            return vec![Document {
                value,
                lines: doc.lines,
                line: doc.line,
            }];
        }
    };
    // The items' line trees: the document's own children for an array, the
    // children of `items` for a List.
    let item_lines = match prefix {
        ItemsAt::Root => doc.lines.children,
        ItemsAt::ListItems(position) => doc.lines.children.into_iter().nth(position).map(|t| t.children).unwrap_or_default(),
    };
    let mut item_lines = item_lines.into_iter();
    items
        .into_iter()
        .flat_map(|value| {
            let lines = item_lines.next().unwrap_or_default();
            let line = if lines.line > 0 { lines.line } else { doc.line };
            split_items(Document { value, lines, line })
        })
        .collect()
}

#[cfg(feature = "yaml")]
/// A parsed value with the lines of everything inside it; its own line
/// comes from the `Spanned` wrapper around it. Built directly while
/// deserializing, so no intermediate tree is made.
struct Node {
    value: Value,
    children: Vec<LineTree>,
}

#[cfg(feature = "yaml")]
impl Node {
    fn leaf(value: Value) -> Node {
        Node { value, children: Vec::new() }
    }
    fn into_json(self, line: u32) -> (Value, LineTree) {
        (self.value, LineTree { line, key_line: 0, children: self.children })
    }
}

#[cfg(feature = "yaml")]
impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

#[cfg(feature = "yaml")]
struct NodeVisitor;

#[cfg(feature = "yaml")]
impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML or JSON value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::leaf(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::leaf(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::leaf(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::leaf(Value::Number(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::leaf(Value::Number(v.into())))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        // Beyond 64 bits JSON has no exact integer; keep the digits as text.
        Ok(Node::leaf(Value::String(v.to_string())))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(Node::leaf(Value::String(v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Number::from_f64(v)
            .map(|n| Node::leaf(Value::Number(n)))
            .ok_or_else(|| E::custom(format!("{v} is not a number JSON can hold")))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::leaf(Value::String(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::leaf(Value::String(v)))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Node, E> {
        String::from_utf8(v.to_vec())
            .map(|t| Node::leaf(Value::String(t)))
            .map_err(|_| E::custom("binary value is not UTF-8"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut values = Vec::new();
        let mut children = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            let line = item.defined.line() as u32;
            let (value, lines) = resolved(item).map_err(de::Error::custom)?.into_json(line);
            values.push(value);
            children.push(lines);
        }
        Ok(Node { value: Value::Array(values), children })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut values = Map::new();
        let mut children = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Key>>()? {
            let key_line = key.defined.line() as u32;
            let key = resolved_key(key).map_err(de::Error::custom)?;
            let item = map.next_value::<Spanned<Node>>()?;
            let line = item.defined.line() as u32;
            let (value, mut lines) = resolved(item).map_err(de::Error::custom)?.into_json(line);
            lines.key_line = key_line;
            values.insert(key, value);
            children.push(lines);
        }
        Ok(Node { value: Value::Object(values), children })
    }
}

#[cfg(feature = "yaml")]
/// A mapping key. JSON keys are strings; YAML allows scalars of any type, which
/// Kubernetes reads as their text (`80: http` is the key `"80"`, `yes: x` the
/// key `"true"`). `typed` says the parser inferred a non-string type, so the
/// text must be resolved again with kubectl's rules.
struct Key {
    text: String,
    typed: bool,
}

#[cfg(feature = "yaml")]
impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        fn typed(text: String) -> Key {
            Key { text, typed: true }
        }
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(Key { text: v.to_string(), typed: false })
            }
            fn visit_string<E>(self, v: String) -> Result<Key, E> {
                Ok(Key { text: v, typed: false })
            }
            fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
                Ok(typed(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
                Ok(typed(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
                Ok(typed(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
                Ok(typed(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Key, E> {
                Ok(typed("null".to_string()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

#[cfg(feature = "yaml")]
std::thread_local! {
    /// The text being parsed, so that scalars can be resolved again from what
    /// was written. Set by [`ScalarSource::enter`] for one parse.
    static SCALAR_SOURCE: std::cell::RefCell<std::rc::Rc<str>> = std::cell::RefCell::new(std::rc::Rc::from(""));
}

#[cfg(feature = "yaml")]
/// Holds the text being parsed in [`SCALAR_SOURCE`] until dropped.
struct ScalarSource;

#[cfg(feature = "yaml")]
impl ScalarSource {
    fn enter(text: &str) -> ScalarSource {
        SCALAR_SOURCE.with(|s| *s.borrow_mut() = std::rc::Rc::from(text));
        ScalarSource
    }
}

#[cfg(feature = "yaml")]
impl Drop for ScalarSource {
    fn drop(&mut self) {
        SCALAR_SOURCE.with(|s| *s.borrow_mut() = std::rc::Rc::from(""));
    }
}

#[cfg(feature = "yaml")]
/// The source text of a spanned node and the text just before it.
fn with_raw<T>(location: &serde_saphyr::Location, f: impl FnOnce(&str, &str) -> T) -> Option<T> {
    let span = location.span();
    let (offset, len) = (span.byte_offset()? as usize, span.byte_len()? as usize);
    SCALAR_SOURCE.with(|s| {
        let source = s.borrow();
        let raw = source.get(offset..offset.checked_add(len)?)?;
        Some(f(raw, &source[..offset]))
    })
}

#[cfg(feature = "yaml")]
/// True when the scalar at `before`'s end starts on the line of its key or
/// sequence dash, unquoted and untagged: a plain scalar for certain. (A block
/// scalar's text starts on its own line; a tag or anchor comes between.)
fn plain_on_key_line(raw: &str, before: &str) -> bool {
    let previous = before.trim_end_matches([' ', '\t']).chars().last();
    !raw.starts_with(['"', '\'']) && matches!(previous, Some(':' | '-' | '[' | ',' | '{' | '?'))
}

#[cfg(feature = "yaml")]
/// Like [`plain_on_key_line`] for a mapping key, which may also start a line
/// (a block scalar is never a key).
fn plain_key(raw: &str, before: &str) -> bool {
    let previous = before.trim_end_matches([' ', '\t']).chars().last();
    plain_on_key_line(raw, before) || (!raw.starts_with(['"', '\'']) && matches!(previous, None | Some('\n')))
}

#[cfg(feature = "yaml")]
/// A plain scalar's text as one line (a multi-line plain scalar folds).
fn folded(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.contains('\n') {
        std::borrow::Cow::Owned(raw.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" "))
    } else {
        std::borrow::Cow::Borrowed(raw.trim())
    }
}

#[cfg(feature = "yaml")]
/// A scalar node resolved again with kubectl's YAML 1.1 rules. The parser
/// types plain scalars by YAML 1.2; a type it inferred (number, boolean,
/// null) always came from a plain scalar, so that text is resolved again.
/// A string is resolved again only when it is surely plain, because quoted
/// and block scalars are strings in every YAML version.
fn resolved(node: Spanned<Node>) -> Result<Node, String> {
    let Spanned { value: node, defined, .. } = node;
    let inferred = match &node.value {
        Value::Array(_) | Value::Object(_) => return Ok(node),
        // What the parser makes of a float it cannot hold (`1e400`, `.Inf`).
        Value::String(s) => matches!(s.as_str(), ".inf" | "-.inf" | ".nan"),
        _ => true,
    };
    let text = with_raw(&defined, |raw, before| {
        match explicit_tag(before) {
            // `!!int "12"`: the tag decides, as the parser did.
            Some(tag) if is_core_tag(tag) => return None,
            // A tag go-yaml does not resolve keeps the text as a string.
            Some(_) => return Some(Err(unquoted(raw).to_string())),
            None => {}
        }
        if raw.starts_with(['"', '\'']) {
            None
        } else if inferred {
            Some(Ok(folded(raw).into_owned()))
        } else if node.value.as_str() == Some(raw) && plain_on_key_line(raw, before) {
            Some(Ok(raw.to_string()))
        } else {
            None
        }
    })
    .flatten();
    let text = match text {
        None => return Ok(node),
        Some(Err(as_string)) => return Ok(Node::leaf(Value::String(as_string))),
        Some(Ok(text)) => text,
    };
    match crate::yaml11::resolve_plain(&text) {
        crate::yaml11::Resolved::Value(value) => Ok(Node::leaf(value)),
        crate::yaml11::Resolved::NotFinite => Err(format!("`{text}` is not a number JSON can hold; quote it if it is text")),
    }
}

#[cfg(feature = "yaml")]
/// The explicit tag written right before a scalar (`!!int`, `!foo`), if any.
fn explicit_tag(before: &str) -> Option<&str> {
    let line = before.rsplit('\n').next().unwrap_or(before).trim_end_matches([' ', '\t']);
    let token = line.rsplit([' ', '\t', '[', ',', '{']).next().unwrap_or("");
    token.starts_with('!').then_some(token)
}

#[cfg(feature = "yaml")]
/// Tags of YAML's core types, which go-yaml resolves like the parser does.
fn is_core_tag(tag: &str) -> bool {
    let name = tag.strip_prefix("!!").or_else(|| tag.strip_prefix("!<tag:yaml.org,2002:").map(|t| t.trim_end_matches('>')));
    matches!(name, Some("int" | "float" | "bool" | "null" | "str" | "timestamp" | "binary" | "map" | "seq"))
}

#[cfg(feature = "yaml")]
/// A scalar's text without its quotes (no escapes are expanded: only for
/// values a tag makes strings of, where quoting is rare).
fn unquoted(raw: &str) -> &str {
    let t = raw.trim();
    for q in ['"', '\''] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return &t[1..t.len() - 1];
        }
    }
    t
}

#[cfg(feature = "yaml")]
/// A mapping key resolved again like [`resolved`], then as kubectl turns
/// it into a JSON key.
fn resolved_key(key: Spanned<Key>) -> Result<String, String> {
    let Spanned { value: key, defined, .. } = key;
    let text = with_raw(&defined, |raw, before| {
        if key.typed {
            Some(folded(raw).into_owned())
        } else if key.text == raw && plain_key(raw, before) {
            Some(raw.to_string())
        } else {
            None
        }
    })
    .flatten();
    let Some(text) = text else { return Ok(key.text) };
    // sigs.k8s.io/yaml names keys as Go prints them: integers in decimal,
    // booleans as words, floats with `%g` at 32-bit precision; it refuses
    // null keys and integers above int64.
    let refuse = || Err(format!("mapping key `{text}` is not a key kubectl can read; quote it"));
    match crate::yaml11::resolve_plain(&text) {
        crate::yaml11::Resolved::Value(Value::String(s)) => Ok(s),
        crate::yaml11::Resolved::Value(Value::Bool(b)) => Ok(b.to_string()),
        crate::yaml11::Resolved::Value(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(i.to_string()),
            (None, Some(f)) if n.is_f64() => Ok(crate::yaml11::go_format_float32_g(f)),
            _ => refuse(),
        },
        _ => refuse(),
    }
}

#[cfg(all(test, feature = "yaml"))]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Document>, InputError> {
        parse_documents(&SourceFile {
            name: "t.yaml".into(),
            content: text.into(),
        })
    }

    #[test]
    fn remembers_lines_of_nested_values() {
        let docs = parse("a: 1\n---\nkind: Pod\nmetadata:\n  labels:\n    x/y: \"true\"\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].line, 3);
        assert_eq!(docs[1].line_of("/metadata/labels/x~1y"), 6);
        assert_eq!(docs[1].line_of("/metadata/labels/x~1y/deeper"), 6);
        // Missing: the line of the nearest ancestor's key, `metadata:`.
        assert_eq!(docs[1].line_of("/metadata/annotations/none"), 4);
        assert_eq!(docs[1].value["metadata"]["labels"]["x/y"], "true");
    }

    #[test]
    fn json_gets_lines_too() {
        let docs = parse("{\n  \"kind\": \"Pod\",\n  \"spec\": {\n    \"a\": [1, 2]\n  }\n}\n").unwrap();
        assert_eq!(docs[0].line_of("/spec/a"), 4);
        assert_eq!(docs[0].line_of("/spec/a/1"), 4);
    }

    #[test]
    fn syntax_error_names_line() {
        let err = parse("kind: Pod\nmetadata:\n  name: [unclosed\n").unwrap_err();
        assert!(err.line >= 3, "{err}");
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        for i in 1..12 {
            text.push_str(&format!(
                "{}: &{} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n",
                (b'a' + i) as char,
                (b'a' + i) as char,
                p = (b'a' + i - 1) as char
            ));
        }
        assert!(parse(&text).is_err());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(100_000);
        assert!(parse(&text).is_err());
        let mut block = String::new();
        for i in 0..200 {
            block.push_str(&" ".repeat(i));
            block.push_str("a:\n");
        }
        assert!(parse(&block).is_err());
    }

    #[test]
    fn many_documents_and_nodes_are_fine() {
        let text = "kind: ConfigMap\ndata: {a: b, c: d}\n---\n".repeat(20_000);
        assert_eq!(parse(&text).unwrap().len(), 20_000);
    }

    #[test]
    fn lists_split_into_items_with_their_lines() {
        let docs = parse("kind: List\nitems:\n- kind: Pod\n  metadata: {name: a}\n- kind: Pod\n  metadata:\n    name: b\n").unwrap();
        let items = split_items(docs.into_iter().next().unwrap());
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].line, 5);
        assert_eq!(items[1].line_of("/metadata/name"), 7);
        assert_eq!(items[0].line_of("/metadata/name"), 4);
    }

    #[test]
    fn nested_lists_are_flattened() {
        let docs = parse("kind: List\nitems:\n- kind: List\n  items:\n  - kind: Pod\n    metadata: {name: a}\n- kind: Pod\n  metadata: {name: b}\n").unwrap();
        let items = split_items(docs.into_iter().next().unwrap());
        let names: Vec<_> = items.iter().map(|d| d.value["metadata"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(items[0].line, 5);
        assert_eq!(items[0].line_of("/metadata/name"), 6);
    }

    #[test]
    fn plain_scalars_resolve_as_kubectl_reads_them() {
        let text = "a: 0400\nb: \"0400\"\nc: '0x1E'\nd: 0x1E\ne: yEs\nf: yes\ng: &n 1_000\nh: *n\ni: [0777, 08, \"08\"]\nj: |-\n  0400\nk: !!str 0400\n0400: key\nyes: key2\nl: 1__0\nm: multi\n  line\n";
        let doc = parse(text).unwrap().remove(0).value;
        let want = serde_json::json!({
            "a": 256, "b": "0400", "c": "0x1E", "d": 30, "e": "yEs", "f": true, "g": 1000, "h": 1000,
            "i": [511, 8.0, "08"], "j": "0400", "k": "0400", "256": "key", "true": "key2", "l": 10, "m": "multi line"
        });
        assert_eq!(doc, want);
    }

    #[test]
    fn infinities_are_refused_with_their_line() {
        let err = parse("kind: Pod\nspec:\n  x: .inf\n").unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(err.message.contains("`.inf` is not a number"), "{err}");
    }

    #[test]
    fn json_stream_is_one_document_per_value_with_lines() {
        let text = "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"}}\n{\"kind\": \"Pod\",\n \"metadata\": {\"name\": \"b\"}}\n";
        let docs = parse(text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].line, 1);
        assert_eq!(docs[1].line, 2);
        assert_eq!(docs[1].line_of("/metadata/name"), 3);
        assert_eq!(docs[1].value["metadata"]["name"], "b");
    }

    #[test]
    fn json_comment_is_named_with_its_column() {
        let err = parse("{\n  \"kind\": \"Pod\",\n  // why\n  \"a\": 1\n}\n").unwrap_err();
        assert_eq!((err.line, err.column), (3, 3), "{err}");
        assert!(err.message.contains("JSON has no comments"), "{err}");
    }

    #[test]
    fn a_brace_file_is_json_as_kubectl_reads_it() {
        let err = parse("{kind: Pod, metadata: {name: a}}\n").unwrap_err();
        assert!(err.message.starts_with("invalid JSON"), "{err}");
        assert!(parse("{\"kind\": \"ConfigMap\", \"data\": {\"mode\": 0400}}").is_err());
        // `[` is YAML to kubectl: flow style still reads.
        let docs = parse("[{kind: Pod, metadata: {name: a}}]\n").unwrap();
        assert_eq!(docs[0].value[0]["metadata"]["name"], "a");
        let bom = parse("\u{feff}{\"kind\": \"Pod\"}\n{\"kind\": \"Pod\"}\n").unwrap();
        assert_eq!(bom.len(), 2);
    }

    #[test]
    fn tags_decide_as_go_yaml_decides() {
        let doc = parse("a: !!int \"12\"\nb: !!bool \"no\"\nc: !foo 12\nd: 1e400\ne: !!str 12\n").unwrap().remove(0).value;
        assert_eq!(doc, serde_json::json!({"a": 12, "b": false, "c": "12", "d": "1e400", "e": "12"}));
        for bad in ["a: .Inf\n", "a: +.inf\n", "a: .NAN\n", "~: x\n", "9223372036854775808: x\n"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let keys = parse("2.0: a\n1e7: b\n08: c\n").unwrap().remove(0).value;
        assert_eq!(keys, serde_json::json!({"2": "a", "1e+07": "b", "8": "c"}));
    }

    #[test]
    fn messages_hold_no_library_internals() {
        let dup = parse("kind: Pod\nmetadata:\n  name: a\n  name: b\n").unwrap_err();
        assert_eq!(dup.message, "duplicate key `name` in a mapping");
        assert_eq!(dup.line, 4);
        let mut bomb = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        for i in 1..12u8 {
            let (c, p) = ((b'a' + i) as char, (b'a' + i - 1) as char);
            bomb.push_str(&format!("{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"));
        }
        let err = parse(&bomb).unwrap_err();
        assert!(!err.message.contains('{') && !err.message.contains("budget"), "{err}");
        for deep in ["[".repeat(1000) + &"]".repeat(1000), (0..200).map(|i| format!("{}a:\n", " ".repeat(i))).collect()] {
            let err = parse(&deep).unwrap_err();
            assert!(err.message.contains("nesting deeper than 64"), "{err}");
        }
        let many = format!("kind: Foo\nspec:\n  v: &v x\n  l:\n{}", "  - *v\n".repeat(500));
        assert_eq!(parse(&many).unwrap()[0].value["spec"]["l"].as_array().unwrap().len(), 500);
        let syntax = parse("kind: Pod\nmetadata:\n  name: [unclosed\n").unwrap_err();
        assert!(!syntax.message.contains(" at line "), "{syntax}");
    }
}
