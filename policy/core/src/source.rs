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

impl Document {
    /// Line of the value at RFC 6901 `pointer`, or of its nearest ancestor
    /// present in the document.
    pub fn line_of(&self, pointer: &str) -> u32 {
        let (mut value, mut lines) = (&self.value, &self.lines);
        for raw in pointer.split('/').skip(1) {
            let segment = raw.replace("~1", "/").replace("~0", "~");
            let child = match value {
                Value::Object(map) => map.iter().enumerate().find(|(_, (k, _))| **k == segment).map(|(i, (_, v))| (i, v)),
                Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i).map(|v| (i, v))),
                _ => None,
            };
            let Some((i, child_value)) = child else { break };
            let Some(child_lines) = lines.children.get(i) else { break };
            value = child_value;
            lines = child_lines;
        }
        if lines.line > 0 { lines.line } else { self.line }
    }
}

/// Escapes one pointer segment (RFC 6901: `~` -> `~0`, `/` -> `~1`).
pub fn escape_pointer_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(feature = "yaml")]
/// Parses every document of `file`. Empty documents are skipped.
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
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            // Every event, node and document consumes at least one input byte
            // unless it comes from an alias, so these bounds only ever trip
            // on alias expansion; the parser's defaults (250,000 nodes, 1,024
            // documents) would refuse an honest 10,000-object file.
            max_events: file.content.len() + 10_000,
            max_nodes: file.content.len() + 10_000,
            max_documents: file.content.len() + 1,
        },
        with_snippet: false,
    };
    let nodes: Vec<Spanned<Node>> =
        serde_saphyr::from_multiple_with_options(&file.content, options).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line() as u32, l.column() as u32))
                .unwrap_or((0, 0));
            fail(line, column, first_line(&e.to_string()))
        })?;
    Ok(nodes
        .into_iter()
        .map(|node| {
            let line = node.defined.line() as u32;
            let (value, lines) = node.value.into_json(line);
            Document { value, lines, line }
        })
        .collect())
}

#[cfg(feature = "yaml")]
/// The parser's messages can carry a source excerpt after the first line; the
/// file and line are reported separately, so keep the sentence only.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message).trim();
    // serde-saphyr prefixes some messages with their own position.
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

enum ItemsAt {
    Root,
    /// `items` is the n-th key of the List object.
    ListItems(usize),
}

/// Splits a document into the objects it carries: a `kind: List` or a bare
/// JSON array (as `az ... list` prints) becomes its items, each with its own
/// line map; anything else is one object.
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
        .map(|value| {
            let lines = item_lines.next().unwrap_or_default();
            let line = if lines.line > 0 { lines.line } else { doc.line };
            Document { value, lines, line }
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
        (self.value, LineTree { line, children: self.children })
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
            let (value, lines) = item.value.into_json(item.defined.line() as u32);
            values.push(value);
            children.push(lines);
        }
        Ok(Node { value: Value::Array(values), children })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut values = Map::new();
        let mut children = Vec::new();
        while let Some(key) = map.next_key::<Key>()? {
            let item = map.next_value::<Spanned<Node>>()?;
            let (value, lines) = item.value.into_json(item.defined.line() as u32);
            values.insert(key.0, value);
            children.push(lines);
        }
        Ok(Node { value: Value::Object(values), children })
    }
}

#[cfg(feature = "yaml")]
/// A mapping key. JSON keys are strings; YAML allows scalars of any type, which
/// Kubernetes reads as their text (`80: http` is the key `"80"`).
struct Key(String);

#[cfg(feature = "yaml")]
impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Key, E> {
                Ok(Key(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Key, E> {
                Ok(Key("null".to_string()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
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
        // The nearest ancestor, `metadata`, whose value starts at line 5.
        assert_eq!(docs[1].line_of("/metadata/annotations/none"), 5);
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
}
