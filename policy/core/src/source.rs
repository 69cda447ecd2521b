//! Turning the text of one manifest file into JSON documents that remember
//! the line every value came from.
//!
//! YAML and JSON both go through `serde-saphyr` (JSON is YAML's flow style),
//! so a finding in `kubectl get -o json` output points at a line just like a
//! finding in a hand-written YAML file. Hostile input is bounded here: the
//! parser's budget stops alias bombs, nesting deeper than [`MAX_DEPTH`] and
//! event floods before they allocate.

use std::collections::HashMap;
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

/// Where each value of a document came from, keyed by RFC 6901 JSON pointer.
#[derive(Debug, Clone, Default)]
pub struct LineMap {
    lines: HashMap<String, u32>,
}

impl LineMap {
    /// Line of the value at `pointer`, or of its nearest ancestor that has one.
    pub fn line_of(&self, pointer: &str) -> Option<u32> {
        let mut p = pointer;
        loop {
            if let Some(line) = self.lines.get(p) {
                return Some(*line);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }

    /// Shifts every pointer under `prefix` to sit at the root, for the items of
    /// a `kind: List` or a JSON array that become objects of their own.
    fn extract(&self, prefix: &str) -> LineMap {
        let mut lines = HashMap::new();
        for (k, v) in &self.lines {
            if k == prefix {
                lines.insert(String::new(), *v);
            } else if let Some(rest) = k.strip_prefix(prefix) {
                if rest.starts_with('/') {
                    lines.insert(rest.to_string(), *v);
                }
            }
        }
        LineMap { lines }
    }
}

/// One YAML document (or JSON value) of a file.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    pub lines: LineMap,
    /// Line where the document's value starts.
    pub line: u32,
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
            // Every event consumes at least one input byte unless it comes from
            // an alias, so this only ever trips on alias expansion.
            max_events: file.content.len() + 10_000,
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
            let mut lines = LineMap::default();
            let value = node.value.into_json(String::new(), line, &mut lines);
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
        Value::Array(items) => (items, String::new()),
        Value::Object(mut map) if is_list => match map.remove("items") {
            Some(Value::Array(items)) => (items, "/items".to_string()),
            _ => unreachable!("checked above"),
        },
        value => {
            return vec![Document {
                value,
                lines: doc.lines,
                line: doc.line,
            }];
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let lines = doc.lines.extract(&format!("{prefix}/{i}"));
            let line = lines.line_of("").unwrap_or(doc.line);
            Document { value, lines, line }
        })
        .collect()
}

#[cfg(feature = "yaml")]
/// A parsed YAML node before it becomes JSON; only exists so that every value
/// can carry its line through `Spanned`.
enum Node {
    Null,
    Bool(bool),
    Number(Number),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(String, Spanned<Node>)>),
}

#[cfg(feature = "yaml")]
impl Node {
    fn into_json(self, pointer: String, line: u32, lines: &mut LineMap) -> Value {
        let value = match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Number(n) => Value::Number(n),
            Node::Str(s) => Value::String(s),
            Node::Seq(items) => Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let line = item.defined.line() as u32;
                        item.value.into_json(format!("{pointer}/{i}"), line, lines)
                    })
                    .collect(),
            ),
            Node::Map(entries) => {
                let mut map = Map::with_capacity(entries.len());
                for (key, item) in entries {
                    let line = item.defined.line() as u32;
                    let child = format!("{pointer}/{}", escape_pointer_segment(&key));
                    map.insert(key, item.value.into_json(child, line, lines));
                }
                Value::Object(map)
            }
        };
        lines.lines.insert(pointer, line);
        value
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
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        // Beyond 64 bits JSON has no exact integer; keep the digits as text.
        Ok(Node::Str(v.to_string()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Number::from_f64(v)
            .map(Node::Number)
            .ok_or_else(|| E::custom(format!("{v} is not a number JSON can hold")))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Node, E> {
        String::from_utf8(v.to_vec())
            .map(Node::Str)
            .map_err(|_| E::custom("binary value is not UTF-8"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Key>()? {
            entries.push((key.0, map.next_value::<Spanned<Node>>()?));
        }
        Ok(Node::Map(entries))
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
        assert_eq!(docs[1].lines.line_of("/metadata/labels/x~1y"), Some(6));
        assert_eq!(docs[1].lines.line_of("/metadata/labels/x~1y/deeper"), Some(6));
        assert_eq!(docs[1].value["metadata"]["labels"]["x/y"], "true");
    }

    #[test]
    fn json_gets_lines_too() {
        let docs = parse("{\n  \"kind\": \"Pod\",\n  \"spec\": {\n    \"a\": [1, 2]\n  }\n}\n").unwrap();
        assert_eq!(docs[0].lines.line_of("/spec/a"), Some(4));
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
    fn lists_split_into_items_with_their_lines() {
        let docs = parse("kind: List\nitems:\n- kind: Pod\n  metadata: {name: a}\n- kind: Pod\n  metadata:\n    name: b\n").unwrap();
        let items = split_items(docs.into_iter().next().unwrap());
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].line, 5);
        assert_eq!(items[1].lines.line_of("/metadata/name"), Some(7));
    }
}
