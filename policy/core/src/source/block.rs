//! A quick reader for the block YAML that manifests are written in.
//!
//! granit-parser reads every corner of YAML at about 30 MB/s here, which was
//! nearly half of lint's time on a large manifest stream. Manifests use a
//! small part of YAML: block mappings and sequences, one-line scalars,
//! one-line flow collections, literal (`|`) blocks and comments. This reader
//! takes exactly that part straight from the text, in one pass, and declines
//! (returns `None`) at the first thing outside it: anchors, aliases, tags,
//! merge keys, multi-line plain or quoted scalars, escapes, folded blocks,
//! tabs, non-ASCII text, directives, `...`, duplicate keys. A declined file
//! goes whole to [`super::yaml`], which reads all of YAML and words the
//! errors; this reader never reports one.
//!
//! Where it accepts a file, it must give what granit gives: the same values
//! and the same lines. The tests hold it to that on every fixture and
//! example, and on generated documents.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::yaml::{key_text, scalar_value};
use super::{Document, LineBuilder, MAX_DEPTH};
use granit_parser::ScalarStyle;

/// Reads every document of `text`, or `None` when the text uses YAML this
/// reader leaves to granit.
pub(super) fn parse(text: &str) -> Option<Vec<Document>> {
    let mut reader = Reader::new(text);
    let mut docs = Vec::new();
    loop {
        reader.skip_blank();
        if reader.unusual {
            return None;
        }
        let Some((indent, rest)) = reader.current() else { break };
        if indent == 0 && is_marker(rest) {
            let tail = rest[3..].trim_start_matches(' ');
            if !rest.starts_with("---") || !(tail.is_empty() || tail.starts_with('#')) {
                return None;
            }
            reader.next_line();
            continue;
        }
        if rest.starts_with(['{', '[']) {
            // A flow document: rare in YAML files, left to granit.
            return None;
        }
        let value = reader.block_node(indent, rest, 1)?;
        reader.skip_blank();
        match reader.current() {
            None => {}
            Some((0, rest)) if is_marker(rest) => {}
            Some(_) => return None,
        }
        let lines = reader.lines.finish();
        docs.push(Document { line: lines.line(), value, lines });
    }
    (!reader.unusual).then_some(docs)
}

/// `---` or `...` at the start of a line.
fn is_marker(rest: &str) -> bool {
    (rest.starts_with("---") || rest.starts_with("...")) && matches!(rest.as_bytes().get(3), None | Some(b' '))
}

struct Reader<'a> {
    text: &'a str,
    /// Byte offset where the current line starts, and where it ends
    /// (without its `\n` and a `\r` before it).
    pos: usize,
    end: usize,
    /// Its 1-based number.
    line: u32,
    /// The current line after its indentation, and how deep that is;
    /// `None` past the end. Computed once per line: every level of the
    /// reader looks at it.
    content: Option<(usize, &'a str)>,
    /// Set at a line holding a byte other than printable ASCII (a `\r`
    /// before the line break aside): tabs, control characters and non-ASCII
    /// text are left to granit. Checked by [`parse`] before it returns.
    unusual: bool,
    /// Finished entries of the collections being read, one level each,
    /// reused so that a collection is built once at its final size.
    entries: Vec<Vec<(String, Value)>>,
    items: Vec<Vec<Value>>,
    /// The lines of the document being read.
    lines: LineBuilder,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        let mut reader = Reader { text, pos: 0, end: 0, line: 0, content: None, unusual: false, entries: Vec::new(), items: Vec::new(), lines: LineBuilder::default() };
        reader.enter(0);
        reader
    }

    /// Makes the line starting at `pos` current.
    fn enter(&mut self, pos: usize) {
        let bytes = self.text.as_bytes();
        self.pos = pos;
        self.line += 1;
        if pos >= bytes.len() {
            self.end = bytes.len();
            self.content = None;
            return;
        }
        // One pass finds the line's end and anything unusual in it.
        let mut newline = bytes.len();
        for (at, &b) in bytes[pos..].iter().enumerate() {
            if b == b'\n' {
                newline = pos + at;
                break;
            }
            // A `\r` not before the line break is a line break of its own
            // in YAML.
            if !(0x20..0x7f).contains(&b) && !(b == b'\r' && bytes.get(pos + at + 1) == Some(&b'\n')) {
                self.unusual = true;
            }
        }
        self.end = if newline > pos && bytes[newline - 1] == b'\r' { newline - 1 } else { newline };
        let line = &self.text[pos..self.end];
        let content = line.trim_start_matches(' ');
        self.content = Some((line.len() - content.len(), content));
    }

    /// The current line without its line break; `None` at the end.
    fn raw(&self) -> Option<&'a str> {
        self.content.map(|_| &self.text[self.pos..self.end])
    }

    fn next_line(&mut self) {
        let bytes = self.text.as_bytes();
        // `end` stops at the line break, or at the `\r` before it.
        let next = match bytes.get(self.end) {
            Some(b'\r') => self.end + 2,
            Some(_) => self.end + 1,
            None => bytes.len(),
        };
        self.enter(next);
    }

    /// Moves past blank lines and comment lines.
    fn skip_blank(&mut self) {
        while let Some((_, content)) = self.content {
            if !content.is_empty() && !content.starts_with('#') {
                break;
            }
            self.next_line();
        }
    }

    /// The current line's indentation and the text after it.
    fn current(&self) -> Option<(usize, &'a str)> {
        self.content
    }

    /// A block node whose first line is the current one, starting at column
    /// `indent` with text `rest` (a compact mapping starts after `- `).
    fn block_node(&mut self, indent: usize, rest: &'a str, depth: usize) -> Option<Value> {
        if is_entry(rest) {
            self.block_sequence(indent, depth)
        } else {
            self.block_mapping(indent, block_key(rest)?, depth)
        }
    }

    /// A block mapping at column `indent` whose first key (with what
    /// follows its `:`) is `first`.
    fn block_mapping(&mut self, indent: usize, first: (String, &'a str), depth: usize) -> Option<Value> {
        // Every collection counts towards granit's depth limit (and bounds
        // this reader's recursion).
        if depth > MAX_DEPTH {
            return None;
        }
        let at = self.lines.open(self.line);
        let mut entries = self.entries.pop().unwrap_or_default();
        let read = self.mapping_entries(indent, first, depth, &mut entries);
        let node = read.map(|()| {
            self.lines.close(at);
            let mut map = Map::with_capacity(entries.len());
            map.extend(entries.drain(..));
            Value::Object(map)
        });
        entries.clear();
        self.entries.push(entries);
        node
    }

    fn mapping_entries(&mut self, indent: usize, first: (String, &'a str), depth: usize, entries: &mut Vec<(String, Value)>) -> Option<()> {
        let mut next_key = first;
        // Keys seen, once a mapping is large enough for scanning them to cost
        // more than a set (a manifest's mappings hold a handful).
        let mut seen: Option<HashSet<String>> = None;
        loop {
            let (key, after) = next_key;
            // Duplicate keys are granit's to report.
            let duplicate = match &mut seen {
                Some(seen) => !seen.insert(key.clone()),
                None => entries.iter().any(|(k, _)| *k == key),
            };
            if duplicate {
                return None;
            }
            if seen.is_none() && entries.len() >= 16 {
                seen = Some(entries.iter().map(|(k, _)| k.clone()).chain([key.clone()]).collect());
            }
            let (key_line, value_at) = (self.line, self.lines.next());
            let value = self.value_after(indent, after, true, depth)?;
            self.lines.set_key_line(value_at, key_line);
            entries.push((key, value));
            // value_after leaves the reader on the next content line.
            match self.current() {
                Some((i, next)) if i == indent && !is_entry(next) && !(i == 0 && is_marker(next)) => next_key = block_key(next)?,
                Some((i, _)) if i > indent => return None,
                _ => return Some(()),
            }
        }
    }

    fn block_sequence(&mut self, indent: usize, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let at = self.lines.open(self.line);
        let mut items = self.items.pop().unwrap_or_default();
        let read = self.sequence_items(indent, depth, &mut items);
        let node = read.map(|()| {
            self.lines.close(at);
            Value::Array(items.drain(..).collect())
        });
        items.clear();
        self.items.push(items);
        node
    }

    fn sequence_items(&mut self, indent: usize, depth: usize, items: &mut Vec<Value>) -> Option<()> {
        while let Some((i, rest)) = self.current() {
            if i != indent || !is_entry(rest) {
                if i > indent {
                    return None;
                }
                break;
            }
            let after = &rest[1..];
            let item = after.trim_start_matches(' ');
            let item_column = indent + 1 + (after.len() - item.len());
            let node = if is_entry(item) {
                return None;
            } else if let Some(first) = block_key(item) {
                let node = self.block_mapping(item_column, first, depth + 1)?;
                if let Some((i, _)) = self.current() {
                    if i > indent && i != item_column {
                        return None;
                    }
                }
                node
            } else {
                self.value_after(indent, after, false, depth)?
            };
            items.push(node);
        }
        Some(())
    }

    /// The value after a key's `:` or an entry's `-` (`after` is the rest of
    /// that line, empty or starting with a space, as [`block_key`] and
    /// [`is_entry`] make sure), in a collection at column `indent`. Leaves
    /// the reader on the next content line.
    fn value_after(&mut self, indent: usize, after: &'a str, in_mapping: bool, depth: usize) -> Option<Value> {
        let text = after.trim_start_matches(' ');
        let line = self.line;
        if text.is_empty() || text.starts_with('#') {
            self.next_line();
            self.skip_blank();
            return match self.current() {
                Some((i, rest)) if i > indent && !(i == 0 && is_marker(rest)) => self.block_node(i, rest, depth + 1),
                // A sequence may sit at its key's own column.
                Some((i, rest)) if in_mapping && i == indent && is_entry(rest) => self.block_sequence(indent, depth + 1),
                // An empty value is null, placed where the key's line ends.
                _ => {
                    self.lines.leaf(line);
                    Some(Value::Null)
                }
            };
        }
        let value = match text.as_bytes()[0] {
            b'|' => return self.literal_block(indent, &text[1..]),
            b'[' | b'{' => {
                let (value, rest) = flow_node(text, line, depth + 1, &mut self.lines)?;
                end_of_line(rest)?;
                self.next_line();
                value
            }
            b'"' | b'\'' => {
                let (value, rest) = quoted(text)?;
                end_of_line(rest)?;
                self.next_line();
                self.lines.leaf(line);
                Value::String(value)
            }
            _ => {
                let plain = block_plain(text)?;
                let value = scalar_value(plain, ScalarStyle::Plain, None).ok()?;
                self.next_line();
                self.lines.leaf(line);
                value
            }
        };
        self.after_value(indent)?;
        Some(value)
    }

    /// Moves to the next content line after a value that ended on the lines
    /// read so far. A line deeper than the collection at `indent` would
    /// continue that value (a multi-line scalar) or be an error: granit's
    /// to judge.
    fn after_value(&mut self, indent: usize) -> Option<()> {
        self.skip_blank();
        match self.current() {
            Some((i, _)) if i > indent => None,
            _ => Some(()),
        }
    }

    /// A `|` block scalar; `header` is the text after `|`.
    /// Its line is that of its first text, as granit places it.
    fn literal_block(&mut self, indent: usize, header: &str) -> Option<Value> {
        let (chomp, tail) = match header.as_bytes().first() {
            Some(b'-') => (Chomp::Strip, &header[1..]),
            Some(b'+') => (Chomp::Keep, &header[1..]),
            _ => (Chomp::Clip, header),
        };
        // Nothing after the indicators but a comment, after a space.
        let comment = tail.trim_start_matches(' ');
        if !(comment.is_empty() || (comment.starts_with('#') && comment.len() < tail.len())) {
            return None;
        }
        self.next_line();
        let mut content_indent = None;
        let mut line = 0;
        let mut text = String::new();
        let mut blank_run = 0usize;
        // Blank lines before the first text may not be indented past it.
        let mut leading_spaces = 0usize;
        while let Some(raw) = self.raw() {
            let content = raw.trim_start_matches(' ');
            let spaces = raw.len() - content.len();
            if content.is_empty() {
                // A blank line inside (or after) the block; spaces past the
                // content's indentation would be text, left to granit.
                match content_indent {
                    Some(c) if spaces > c => return None,
                    Some(_) => {}
                    None => leading_spaces = leading_spaces.max(spaces),
                }
                // Spaces on a last line with no line break end nothing.
                if self.end < self.text.len() {
                    blank_run += 1;
                }
                self.next_line();
                continue;
            }
            let at = *content_indent.get_or_insert_with(|| {
                line = self.line;
                spaces
            });
            if spaces < at || spaces <= indent {
                break;
            }
            for _ in 0..blank_run {
                text.push('\n');
            }
            blank_run = 0;
            text.push_str(&raw[at..]);
            text.push('\n');
            self.next_line();
        }
        if content_indent.is_none_or(|c| c <= indent || leading_spaces > c) {
            return None;
        }
        match chomp {
            Chomp::Strip => {
                text.pop();
            }
            Chomp::Clip => {}
            Chomp::Keep => (0..blank_run).for_each(|_| text.push('\n')),
        }
        self.after_value(indent)?;
        self.lines.leaf(line);
        Some(Value::String(text))
    }
}

enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// A block sequence entry: `-` alone or followed by a space.
fn is_entry(rest: &str) -> bool {
    rest.starts_with('-') && matches!(rest.as_bytes().get(1), None | Some(b' '))
}

/// What a plain scalar may not start with here (YAML's indicators, and `-`,
/// `?`, `:` whose plain uses are rare enough to leave to granit).
fn starts_with_indicator(text: &str) -> bool {
    matches!(text.as_bytes().first(), Some(b'-' | b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`'))
}

/// `key: rest` at the start of `line`: the key as JSON text and what follows
/// the `:`. Quoted keys are taken when they hold no escapes.
fn block_key(line: &str) -> Option<(String, &str)> {
    let (key, after) = if line.starts_with(['"', '\'']) {
        let (key, rest) = quoted(line)?;
        // Implicit keys are at most 1024 characters in YAML, quotes and
        // spaces before the `:` included.
        if line.len() - rest.len() > 1024 {
            return None;
        }
        (key, rest.strip_prefix(':')?)
    } else {
        // Leading `-` (a negative number key) is left to granit.
        if starts_with_indicator(line) {
            return None;
        }
        let Some((colon, b':')) = key_colon_or_comment(line) else { return None };
        let text = line[..colon].trim_end_matches(' ');
        // Implicit keys are at most 1024 characters in YAML (spaces before
        // the `:` included); `<<` merges.
        if colon > 1024 || text == "<<" {
            return None;
        }
        (key_text(text, ScalarStyle::Plain, None).ok()?, &line[colon + 1..])
    };
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    Some((key, after))
}

/// `-v`, `-1`: a plain scalar may start with `-` when a character other
/// than a space or flow indicator follows.
fn dash_then_text(text: &str) -> bool {
    text.starts_with('-') && text.as_bytes().get(1).is_some_and(|b| !matches!(b, b' ' | b',' | b'[' | b']' | b'{' | b'}'))
}

/// A plain scalar filling the rest of a block line (up to a comment).
fn block_plain(text: &str) -> Option<&str> {
    if starts_with_indicator(text) && !dash_then_text(text) {
        return None;
    }
    // A comment ends it; `a: b: c` is an error in YAML, and `x:` at the end
    // a key.
    let end = match key_colon_or_comment(text) {
        Some((_, b':')) => return None,
        Some((comment, _)) => comment,
        None => text.len(),
    };
    Some(text[..end].trim_end_matches(' '))
}

/// The first `:` that ends a key (followed by a space or the line's end) or
/// `#` that starts a comment (after a space) in a block line that does not
/// start with `#`, with its position.
fn key_colon_or_comment(line: &str) -> Option<(usize, u8)> {
    let bytes = line.as_bytes();
    (0..bytes.len())
        .find(|&i| (bytes[i] == b':' && matches!(bytes.get(i + 1), None | Some(b' '))) || (bytes[i] == b'#' && i > 0 && bytes[i - 1] == b' '))
        .map(|i| (i, bytes[i]))
}

/// A one-line quoted scalar at the start of `text` and what follows it.
/// Double-quoted scalars with escapes are left to granit.
fn quoted(text: &str) -> Option<(String, &str)> {
    let quote = text.as_bytes()[0];
    let body = &text[1..];
    if quote == b'"' {
        let close = body.find(['"', '\\'])?;
        if body.as_bytes()[close] == b'\\' {
            return None;
        }
        return Some((body[..close].to_string(), &body[close + 1..]));
    }
    let mut value = String::new();
    let mut rest = body;
    loop {
        let close = rest.find('\'')?;
        value.push_str(&rest[..close]);
        if rest.as_bytes().get(close + 1) == Some(&b'\'') {
            value.push('\'');
            rest = &rest[close + 2..];
        } else {
            return Some((value, &rest[close + 1..]));
        }
    }
}

/// After a value on its line: nothing, or a comment after a space.
fn end_of_line(rest: &str) -> Option<()> {
    let trimmed = rest.trim_start_matches(' ');
    (trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())).then_some(())
}

/// A one-line flow collection at the start of `text` (`[a, b]`,
/// `{k: v}`), and the text after it.
fn flow_node<'t>(text: &'t str, line: u32, depth: usize, lines: &mut LineBuilder) -> Option<(Value, &'t str)> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mapping = text.starts_with('{');
    let close = if mapping { '}' } else { ']' };
    let mut rest = text[1..].trim_start_matches(' ');
    let mut values = Vec::new();
    let mut map = Map::new();
    let at = lines.open(line);
    if let Some(after) = rest.strip_prefix(close) {
        lines.close(at);
        let value = if mapping { Value::Object(map) } else { Value::Array(values) };
        return Some((value, after));
    }
    loop {
        if mapping {
            let (key, after_key) = flow_scalar(rest, true)?;
            if rest.len() - after_key.len() > 1024 {
                return None;
            }
            let key = match key {
                Value::String(s) => s,
                _ => return None,
            };
            rest = after_key.strip_prefix(": ")?.trim_start_matches(' ');
            let value_at = lines.next();
            let (value, after) = flow_item(rest, line, depth, lines)?;
            lines.set_key_line(value_at, line);
            match map.entry(key) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                serde_json::map::Entry::Occupied(_) => return None,
            }
            rest = after;
        } else {
            let (value, after) = flow_item(rest, line, depth, lines)?;
            values.push(value);
            rest = after;
        }
        rest = rest.trim_start_matches(' ');
        if let Some(after) = rest.strip_prefix(close) {
            lines.close(at);
            let value = if mapping { Value::Object(map) } else { Value::Array(values) };
            return Some((value, after));
        }
        rest = rest.strip_prefix(',')?.trim_start_matches(' ');
        // A trailing comma, or the line ends inside the collection.
        if rest.is_empty() || rest.starts_with(close) {
            return None;
        }
    }
}

fn flow_item<'t>(text: &'t str, line: u32, depth: usize, lines: &mut LineBuilder) -> Option<(Value, &'t str)> {
    if text.starts_with(['[', '{']) {
        return flow_node(text, line, depth + 1, lines);
    }
    let (value, rest) = flow_scalar(text, false)?;
    lines.leaf(line);
    Some((value, rest))
}

/// A scalar inside a flow collection: quoted, or plain up to a flow
/// indicator or `: `. Keys come back as their JSON text.
fn flow_scalar(text: &str, key: bool) -> Option<(Value, &str)> {
    if text.starts_with(['"', '\'']) {
        let (value, rest) = quoted(text)?;
        return Some((Value::String(value), rest));
    }
    if starts_with_indicator(text) && !dash_then_text(text) {
        return None;
    }
    let bytes = text.as_bytes();
    let end = (0..bytes.len())
        .find(|&i| matches!(bytes[i], b',' | b'[' | b']' | b'{' | b'}') || (bytes[i] == b':' && matches!(bytes.get(i + 1), None | Some(b' ' | b',' | b'[' | b']' | b'{' | b'}'))) || (bytes[i] == b'#' && bytes[i - 1] == b' '))
        .unwrap_or(bytes.len());
    let plain = text[..end].trim_end_matches(' ');
    if plain.is_empty() || (end < bytes.len() && bytes[end] == b'#') {
        return None;
    }
    let value = if key {
        // `<<` merges, as in block mappings.
        if plain == "<<" {
            return None;
        }
        Value::String(key_text(plain, ScalarStyle::Plain, None).ok()?)
    } else {
        scalar_value(plain, ScalarStyle::Plain, None).ok()?
    };
    Some((value, &text[end..]))
}

/// Where this reader accepts `text`, granit reads the same documents with
/// the same lines: what the tests and the fuzz targets hold it to.
pub(crate) fn assert_agrees_with_granit(text: &str) -> Result<(), String> {
    let Some(quick) = parse(text) else { return Ok(()) };
    let full = super::yaml::parse(text).map_err(|e| format!("read here, refused by granit: {e:?}"))?;
    if quick.len() != full.len() {
        return Err(format!("{} documents here, {} by granit", quick.len(), full.len()));
    }
    for (q, f) in quick.iter().zip(&full) {
        if q != f {
            return Err(format!("read here as {q:?}\nby granit as {f:?}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_granit(name: &str, text: &str) -> bool {
        let accepted = parse(text).is_some();
        assert_agrees_with_granit(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        accepted
    }

    /// Every YAML file of the repository's fixtures and examples.
    fn repository_yaml() -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut found = Vec::new();
        let mut dirs = vec![root.join("tests"), root.join("bundles")];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    if let Ok(text) = std::fs::read_to_string(&path) {
                        found.push((path.display().to_string(), text));
                    }
                }
            }
        }
        found
    }

    #[test]
    fn agrees_with_granit_on_every_repository_file() {
        let files = repository_yaml();
        assert!(files.len() > 100, "{} files", files.len());
        let accepted = files.iter().filter(|(name, text)| {
            let ok = same_as_granit(name, text.strip_prefix('\u{feff}').unwrap_or(text));
            if !ok && std::env::var_os("WI_SHOW_DECLINED").is_some() {
                eprintln!("declined: {name}");
            }
            ok
        }).count();
        // Most manifests are the plain block YAML this reader is for.
        assert!(accepted * 10 >= files.len() * 8, "accepted {accepted} of {}", files.len());
    }

    #[test]
    fn reads_the_shapes_manifests_use() {
        let text = "apiVersion: apps/v1\r\nkind: Deployment # c\r\nmetadata:\r\n  name: app\r\n---\r\nspec:\r\n  selector:\r\n    matchLabels: {app: a, 'b': \"c\"}\r\n  ports: [80, 443]\r\n  containers:\r\n  - name: app\r\n    args:\r\n    - -c\r\n    - |\r\n      echo a\r\n\r\n      echo b\r\n    env: []\r\n  empty:\r\n";
        assert!(same_as_granit("manifest", text));
        assert_eq!(parse(text).unwrap()[1].value["spec"]["containers"][0]["args"][1], "echo a\n\necho b\n");
    }

    /// What a hostile review found, each declined or read as granit reads it.
    #[test]
    fn agrees_on_what_review_found() {
        let mut cases: Vec<String> = ["a: |-#\n x\n", "a: |+#\n x\n", "a: |+\n x\n ", "- |+\n x\n\n ", "a: |+\r\n x\r\n "].map(String::from).to_vec();
        cases.push(format!("a{}: 1\n", " ".repeat(1024)));
        cases.push(format!("a{}: 1\n", " ".repeat(1023)));
        cases.push(format!("\"{}\": 1\n", "a".repeat(1023)));
        cases.push(format!("- '{}': 1\n", "a".repeat(1023)));
        cases.push(format!("a: {{{}: 1}}\n", "a".repeat(1025)));
        cases.push(format!("a: {{\"{}\": 1}}\n", "a".repeat(1023)));
        cases.push(format!("a: {{b{}: 1}}\n", " ".repeat(1024)));
        cases.push((0..64).map(|i| format!("{}k:\n", " ".repeat(i))).collect::<String>() + &" ".repeat(63) + "- x\n");
        cases.push((0..63).map(|i| format!("{}k:\n", " ".repeat(i))).collect::<String>() + &" ".repeat(63) + "- a: 1\n");
        cases.push((0..32).map(|i| format!("{}- k:\n", " ".repeat(2 * i))).collect::<String>() + &" ".repeat(64) + "- x\n");
        for (i, case) in cases.iter().enumerate() {
            same_as_granit(&format!("case {i}"), case);
        }
        // Deep compact nesting is declined, not a stack overflow.
        let deep = (0..5000).map(|i| format!("{}- k:\n", " ".repeat(2 * i))).collect::<String>() + &" ".repeat(10_000) + "- a: 1\n";
        assert!(parse(&deep).is_none());
    }

    #[test]
    fn leaves_unusual_text_to_granit() {
        for text in ["a: caf\u{e9}\n", "a:\tb\n", "a: b\rc: d\n", "a: &x b\nc: *x\n", "a: >\n  folded\n", "a: \"esc\\n\"\n", "? a\n: b\n", "a: b\n...\n", "%YAML 1.1\n---\na: b\n"] {
            assert!(parse(text).is_none(), "{text:?}");
            assert!(super::super::parse_documents(&super::super::SourceFile { name: "t.yaml".into(), content: text.into() }).is_ok(), "{text:?}");
        }
        // A control character: declined here, refused by granit.
        assert!(parse("a: b\n# \u{1}\n").is_none());
    }

    use proptest::prelude::*;

    /// A document as a tree of YAML texts, rendered in the layouts people
    /// write (see [`render`]).
    #[derive(Debug, Clone)]
    enum Tree {
        Scalar(&'static str),
        /// Lines of a `|` block.
        Block(Vec<&'static str>),
        Map(Vec<(&'static str, Tree)>),
        Seq(Vec<Tree>),
    }

    const SCALARS: &[&str] = &[
        "v", "app", "1", "-1", "0400", "08", "0x1F", "1_000", "1e3", "3.5", "true", "No", "yes", "~", "null", "''", "'q'", "'it''s'", "\"d\"", "\"\"", "-v", "a b  c",
        "http://x:1/y", "api://AzureADTokenExchange", "a#b", "v # c", "[a, b]", "[]", "{}", "{a: b}", "{a: [1, {b: -c}]}", "{'k': \"v\", n: 2}", "0o17", "+1", "x.y/z",
    ];
    /// Scalars and fragments that are odd, wrong, or left to granit.
    const ODD: &[&str] = &[
        ".inf", "\"a\\tb\"", "-", "a b  c", "http://x:1/y", "api://AzureADTokenExchange", "a#b", "v # c", "a: b", "x:", "&a x", "*a", "!!str 1", "[a, b]", "[]", "{}", "{a: b}", "{a: [1, {b: -c}]}",
        "[a,]", "{a}", "[a: b]", "{<<: 5}", "{<<: {a: 1}}", "{a: 1, a: 2}", "{'k': \"v\", n: 2}", "[a, b", "\"open", "{{ x }}", ":x", "?x", "@x", "%x", ">", "|2", "9223372036854775808", "0o17", "+1", "- x",
    ];
    const KEYS: &[&str] = &["a", "b", "name", "image", "x y", "a:b", "\"q\"", "'s''t'", "0400", "yes", "1e3", "k ", "a/b.c", "azure.workload.identity/use", "c", "d", "e"];
    const ODD_KEYS: &[&str] = &["-1", "<<", "\"e\\n\"", "~", "? k", "&x k", "[k]"];
    const LINES: &[&str] = &["echo a", "  indented", "# not a comment", "x: y", "", "- z", "tail "];

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = prop_oneof![
            12 => prop::sample::select(SCALARS).prop_map(Tree::Scalar),
            1 => prop::sample::select(ODD).prop_map(Tree::Scalar),
            1 => prop::collection::vec(prop::sample::select(LINES), 1..4).prop_map(Tree::Block),
        ];
        leaf.prop_recursive(5, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec((prop_oneof![12 => prop::sample::select(KEYS), 1 => prop::sample::select(ODD_KEYS)], inner.clone()), 1..5).prop_map(Tree::Map),
                prop::collection::vec(inner, 1..4).prop_map(Tree::Seq),
            ]
        })
    }

    /// Choices for layout, drawn per line from `style`.
    struct Style<'a> {
        bits: &'a [u8],
        at: usize,
    }

    impl Style<'_> {
        fn pick(&mut self, n: u8) -> u8 {
            let b = self.bits[self.at % self.bits.len()];
            self.at += 1;
            b % n
        }
    }

    fn render(tree: &Tree, indent: usize, style: &mut Style, out: &mut String) {
        let pad = " ".repeat(indent);
        let eol = |style: &mut Style, out: &mut String| {
            match style.pick(12) {
                0 => out.push_str(" # note"),
                1 => out.push_str("\n\n"),
                2 => out.push_str(&format!("\n{pad}# between")),
                3 => out.push('\r'),
                _ => {}
            }
            out.push('\n');
        };
        match tree {
            Tree::Map(entries) => {
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&pad);
                    }
                    out.push_str(key);
                    out.push(':');
                    render_value(value, indent, true, style, out, &eol);
                }
            }
            Tree::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&pad);
                    }
                    out.push('-');
                    render_value(item, indent, false, style, out, &eol);
                }
            }
            _ => unreachable!("collections only"),
        }
    }

    fn render_value(value: &Tree, indent: usize, in_map: bool, style: &mut Style, out: &mut String, eol: &dyn Fn(&mut Style, &mut String)) {
        match value {
            Tree::Scalar(s) => {
                out.push(' ');
                out.push_str(s);
                eol(style, out);
            }
            Tree::Block(lines) => {
                out.push_str([" |", " |-", " |+", " |  # c"][style.pick(4) as usize]);
                out.push('\n');
                let deeper = " ".repeat(indent + 2 + style.pick(2) as usize * 2);
                for line in lines {
                    if !line.is_empty() {
                        out.push_str(&deeper);
                    }
                    out.push_str(line);
                    out.push('\n');
                }
            }
            Tree::Map(entries) if !in_map && style.pick(2) == 0 => {
                // Compact: `- key: value` with the rest under the key.
                let column = indent + 2;
                out.push(' ');
                render(&Tree::Map(entries.clone()), column, style, out);
            }
            Tree::Seq(_) if in_map && style.pick(2) == 0 => {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                render(value, indent, style, out);
            }
            _ => {
                eol(style, out);
                let deeper = indent + 2 + style.pick(2) as usize * 2;
                out.push_str(&" ".repeat(deeper));
                render(value, deeper, style, out);
            }
        }
    }

    fn documents() -> impl Strategy<Value = String> {
        let collection = tree().prop_filter("a collection", |t| matches!(t, Tree::Map(_) | Tree::Seq(_)));
        (prop::collection::vec(collection, 1..3), prop::collection::vec(any::<u8>(), 1..64)).prop_map(|(docs, bits)| {
            let mut style = Style { bits: &bits, at: 0 };
            let mut text = String::new();
            for (i, doc) in docs.iter().enumerate() {
                if i > 0 || style.pick(3) == 0 {
                    text.push_str(["---\n", "--- # doc\n", "---\n\n"][style.pick(3) as usize]);
                }
                render(doc, style.pick(2) as usize, &mut style, &mut text);
            }
            text
        })
    }

    #[test]
    fn agrees_with_granit_wherever_it_reads() {
        use proptest::test_runner::{Config, TestRunner};
        let accepted = std::cell::Cell::new(0usize);
        let cases = 20_000;
        let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
        runner
            .run(&documents(), |text| {
                accepted.set(accepted.get() + usize::from(same_as_granit("generated", &text)));
                Ok(())
            })
            .unwrap();
        // Enough of the generated texts are read here for the comparison to
        // mean something (most hold a piece this reader leaves to granit).
        assert!(accepted.get() > cases as usize / 4, "accepted {} of {cases}", accepted.get());
        eprintln!("accepted {} of {cases}", accepted.get());
    }
}
