//! Turning the text of one manifest file into JSON documents that remember
//! the line every value came from.
//!
//! YAML is read from the parser's events ([`yaml`]), JSON by serde_json
//! with a second pass for lines ([`json`]), so a finding in `kubectl get -o
//! json` output points at a line just like a finding in a hand-written YAML
//! file. Hostile input is bounded in both: alias bombs and nesting deeper
//! than [`MAX_DEPTH`] are refused before they allocate.

use std::fmt;

use serde_json::Value;

use crate::objects::Field;

#[cfg(feature = "yaml")]
mod block;
#[cfg(feature = "yaml")]
mod json;
#[cfg(feature = "yaml")]
mod yaml;

/// A problem found while reading, as (line, column, message), relative to
/// the text the reader was given.
#[cfg(feature = "yaml")]
type Problem = (u32, u32, String);

/// What both readers say when nesting passes [`MAX_DEPTH`].
#[cfg(feature = "yaml")]
fn too_deep() -> String {
    format!("nesting deeper than {MAX_DEPTH} levels")
}

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

/// The line each value of a document starts on, in the shape of the value:
/// a map's children in key order (serde_json keeps insertion order here),
/// an array's in index order. Kept flat, each value before the values
/// inside it, in one allocation per document (a tree of vectors cost an
/// allocation per mapping and 2.5 times the memory), and only walked when
/// a finding needs its line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineTree {
    nodes: Vec<LineNode>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct LineNode {
    line: u32,
    /// Line of the mapping key this value belongs to (0 for list items and
    /// documents): where a missing field below it is reported, since a
    /// block mapping's value starts on the line after its key.
    key_line: u32,
    /// Nodes of this value, itself and everything inside it.
    len: u32,
}

impl LineTree {
    /// Line where the value starts (0 when unknown).
    pub(crate) fn line(&self) -> u32 {
        self.nodes.first().map_or(0, |n| n.line)
    }

    /// Index of the `nth` child of the node at `at`.
    fn child(&self, at: usize, nth: usize) -> Option<usize> {
        self.children(at).nth(nth)
    }

    /// Indexes of the children of the node at `at`.
    fn children(&self, at: usize) -> impl Iterator<Item = usize> + '_ {
        let end = self.nodes.get(at).map_or(at, |n| at + n.len as usize);
        let mut next = at + 1;
        std::iter::from_fn(move || {
            (next < end).then(|| {
                let child = next;
                next += self.nodes[child].len as usize;
                child
            })
        })
    }

    /// The tree of the value at `at`, on its own.
    fn subtree(&self, at: usize) -> LineTree {
        let len = self.nodes.get(at).map_or(0, |n| n.len as usize);
        LineTree { nodes: self.nodes[at..at + len].to_vec() }
    }
}

/// Builds [`LineTree`]s as a reader descends through a document: a
/// collection is opened before its children are read and closed after
/// them. One builder serves every document of a file.
#[derive(Default)]
pub(crate) struct LineBuilder {
    nodes: Vec<LineNode>,
}

// Without `yaml` only nested lines are flattened (Terraform/ARM models).
#[cfg_attr(not(feature = "yaml"), allow(dead_code))]
impl LineBuilder {
    /// Starts a collection on `line`; returns its index for [`Self::close`].
    pub(crate) fn open(&mut self, line: u32) -> usize {
        self.nodes.push(LineNode { line, key_line: 0, len: 0 });
        self.nodes.len() - 1
    }

    /// Ends the collection opened at `at`: its children are the nodes since.
    pub(crate) fn close(&mut self, at: usize) {
        self.nodes[at].len = (self.nodes.len() - at) as u32;
    }

    /// A scalar (or an empty value) on `line`.
    pub(crate) fn leaf(&mut self, line: u32) {
        self.nodes.push(LineNode { line, key_line: 0, len: 1 });
    }

    /// Index the next node will have.
    pub(crate) fn next(&self) -> usize {
        self.nodes.len()
    }

    /// Marks the value at `at` as the value of a key on `key_line`.
    pub(crate) fn set_key_line(&mut self, at: usize, key_line: u32) {
        self.nodes[at].key_line = key_line;
    }

    /// The finished document's tree (everything built since the last one),
    /// at its exact size.
    pub(crate) fn finish(&mut self) -> LineTree {
        let nodes = self.nodes.as_slice().to_vec();
        self.nodes.clear();
        LineTree { nodes }
    }
}

/// A line tree as nested vectors, for readers that rearrange children
/// (YAML merge keys) or build small documents by hand (Terraform, ARM);
/// turned into a [`LineTree`] once finished.
#[derive(Debug, Clone, Default)]
pub(crate) struct NestedLines {
    pub line: u32,
    pub key_line: u32,
    pub children: Vec<NestedLines>,
}

impl NestedLines {
    pub(crate) fn new(line: u32, key_line: u32, children: Vec<NestedLines>) -> Self {
        NestedLines { line, key_line, children }
    }

    fn flatten_into(self, lines: &mut LineBuilder) {
        let at = lines.open(self.line);
        lines.set_key_line(at, self.key_line);
        for child in self.children {
            child.flatten_into(lines);
        }
        lines.close(at);
    }
}

impl From<NestedLines> for LineTree {
    fn from(nested: NestedLines) -> LineTree {
        let mut lines = LineBuilder::default();
        nested.flatten_into(&mut lines);
        LineTree { nodes: lines.nodes }
    }
}

/// One YAML document (or JSON value) of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    pub lines: LineTree,
    /// Line where the document's value starts (0 for objects that did not
    /// come from text, such as admission requests).
    pub line: u32,
}

impl Document {
    /// Line of the value at RFC 6901 `pointer`; when it is missing, the line
    /// of its nearest ancestor's key (`spec:` for a missing
    /// `/spec/serviceAccountName`), where the field would be written.
    pub fn line_of(&self, pointer: &str) -> u32 {
        let (mut value, mut node) = (&self.value, Some(0).filter(|_| !self.lines.nodes.is_empty()));
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
            let Some(child_node) = node.and_then(|at| self.lines.child(at, i)) else { break };
            value = child_value;
            node = Some(child_node);
        }
        let node = node.map(|at| self.lines.nodes[at]);
        match node {
            Some(n) if missing && n.key_line > 0 => n.key_line,
            Some(n) if n.line > 0 => n.line,
            _ => self.line,
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
        return match json::parse(text) {
            Ok(docs) => Ok(docs),
            // kubectl reads a file that is not valid JSON as YAML (flow
            // style, `0400`, comments): so does this reader. When YAML
            // cannot read it either, JSON's error is the one that helps.
            // A `//` comment is refused, though: YAML would read it as part
            // of a key, which is never what its writer meant.
            Err(json_error) => match yaml_documents(text) {
                Ok(docs) if !json_error.2.starts_with(json::JSON_COMMENT) => Ok(docs),
                _ => Err(fail(json_error.0, json_error.1, json_error.2)),
            },
        };
    }
    yaml_documents(text).map_err(|(l, c, m)| match helm_template_line(text) {
        // The syntax error is a symptom: the file is a template, not YAML.
        Some(at) => fail(
            at,
            0,
            format!("this looks like a Helm template (`{{{{ ... }}}}` on line {at}), not a manifest: render it with `helm template` first and lint the output ({m} at line {l})"),
        ),
        None => fail(l, c, m),
    })
}

/// For the fuzz targets: where the quick block reader ([`block`]) accepts
/// `text`, it must read what the full YAML reader reads; the error says how
/// they differ.
#[cfg(feature = "yaml")]
#[doc(hidden)]
pub fn check_quick_reader(text: &str) -> Result<(), String> {
    block::assert_agrees_with_granit(text)
}

/// YAML text to documents, refusing the characters YAML 1.1 (and so
/// kubectl) reads as line breaks but YAML 1.2 (this parser) does not: text
/// after one would be live to kubectl and invisible here.
#[cfg(feature = "yaml")]
fn yaml_documents(text: &str) -> Result<Vec<Document>, Problem> {
    if let Some(docs) = block::parse(text) {
        return Ok(docs);
    }
    // Their UTF-8 starts with 0xC2 (U+0085) or 0xE2 (U+2028/9): a byte scan,
    // so that the check costs little on every YAML file.
    let breaks = text.bytes().enumerate().filter(|(_, b)| matches!(b, 0xC2 | 0xE2)).find_map(|(at, _)| {
        text[at..].chars().next().filter(|c| matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')).map(|c| (at, c))
    });
    if let Some((at, c)) = breaks {
        let line = text[..at].bytes().filter(|b| *b == b'\n').count() as u32 + 1;
        let column = text[..at].rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
        let name = match c {
            '\u{85}' => "U+0085 NEXT LINE",
            '\u{2028}' => "U+2028 LINE SEPARATOR",
            _ => "U+2029 PARAGRAPH SEPARATOR",
        };
        return Err((line, column, format!("{name}: kubectl's YAML reader takes it for a line break and this reader does not; replace it with a line break or remove it")));
    }
    yaml::parse(text)
}

/// The first line holding a Go template action (`{{ ... }}`), as Helm
/// charts have.
#[cfg(feature = "yaml")]
fn helm_template_line(text: &str) -> Option<u32> {
    text.lines().position(|line| line.find("{{").is_some_and(|i| line[i..].contains("}}"))).map(|i| i as u32 + 1)
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
    // kubectl decodes any object with an `items` list as a list (whatever
    // its kind) and applies only the items.
    let is_list = doc.value.field("items").is_some_and(Value::is_array);
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
    let lines = &doc.lines;
    let items_node = match prefix {
        ItemsAt::Root => Some(0),
        ItemsAt::ListItems(position) => lines.child(0, position),
    };
    let mut item_nodes = items_node.into_iter().flat_map(|at| lines.children(at));
    items
        .into_iter()
        .flat_map(|value| {
            let lines = item_nodes.next().map(|at| doc.lines.subtree(at)).unwrap_or_default();
            let line = if lines.line() > 0 { lines.line() } else { doc.line };
            split_items(Document { value, lines, line })
        })
        .collect()
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
    fn a_brace_file_that_is_not_json_reads_as_yaml_as_kubectl_reads_it() {
        let docs = parse("{kind: Pod, metadata: {name: a}}\n").unwrap();
        assert_eq!(docs[0].value["metadata"]["name"], "a");
        let docs = parse("{\"kind\": \"ConfigMap\", \"data\": {\"mode\": 0400}}").unwrap();
        assert_eq!(docs[0].value["data"]["mode"], 256);
        // Neither JSON nor YAML: JSON's error, which names the real problem.
        let err = parse("{\"kind\": \"Pod\",, \"a\": [}\n").unwrap_err();
        assert!(err.message.starts_with("invalid JSON"), "{err}");
        let docs = parse("[{kind: Pod, metadata: {name: a}}]\n").unwrap();
        assert_eq!(docs[0].value[0]["metadata"]["name"], "a");
        let bom = parse("\u{feff}{\"kind\": \"Pod\"}\n{\"kind\": \"Pod\"}\n").unwrap();
        assert_eq!(bom.len(), 2);
    }

    #[test]
    fn go_yaml_semantics_kubectl_relies_on() {
        // A merge overrides the keys before it; later keys override it.
        let doc = parse("d: &d {p: 1, q: 1}\nx:\n  p: 9\n  <<: *d\n  q: 7\nz: {!!merge <<: *d}\n").unwrap().remove(0);
        assert_eq!(doc.value["x"], serde_json::json!({"p": 1, "q": 7}));
        assert_eq!((doc.line_of("/x/p"), doc.line_of("/x/q")), (1, 5));
        assert_eq!(doc.value["z"], serde_json::json!({"p": 1, "q": 1}));
        assert!(parse("x:\n  p: 1\n  p: 2\n").is_err());
        // What follows `...` before the next `---` is never read.
        let docs = parse("kind: A\n...\nkind: B\n---\nkind: C\n").unwrap();
        let kinds: Vec<_> = docs.iter().map(|d| d.value["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["A", "C"]);
        // YAML 1.1 line breaks that YAML 1.2 reads as text are refused.
        for c in ['\u{85}', '\u{2028}', '\u{2029}'] {
            let err = parse(&format!("kind: Pod\nx: 1 # a{c}y: 2\n")).unwrap_err();
            assert_eq!((err.line, err.column), (2, 9), "{err}");
        }
        // Any object with an `items` list is a list to kubectl.
        let items = split_items(parse("kind: Pod\nitems:\n- kind: ServiceAccount\n  metadata: {name: a}\n").unwrap().remove(0));
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].value["kind"], "ServiceAccount");
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

    #[test]
    fn merge_keys_merge_with_explicit_keys_winning() {
        let doc = parse("base: &b {a: 1, b: 2}\nmore: &m {c: 3}\nx:\n  <<: *b\n  b: 9\nw:\n  <<: [*m, *b]\n  a: 0\n").unwrap().remove(0);
        assert_eq!(doc.value["x"], serde_json::json!({"b": 9, "a": 1}));
        assert_eq!(doc.value["w"], serde_json::json!({"a": 0, "c": 3, "b": 2}));
        assert_eq!(doc.line_of("/x/b"), 5);
        assert!(parse("a: {<<: 5}\n").unwrap_err().message.contains("merges mappings only"));
    }

    #[test]
    fn json_duplicate_keys_and_depth_are_refused_with_lines() {
        let err = parse("{\"kind\": \"Pod\",\n \"k\\u0069nd\": \"Pod\"}").unwrap_err();
        assert_eq!((err.line, err.message.as_str()), (2, "duplicate key `kind` in a mapping"), "{err}");
        let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(parse(&deep(64)).is_ok());
        assert!(parse(&deep(65)).unwrap_err().message.contains("nesting deeper than 64"));
        assert!(parse(&("[".repeat(10_000) + &"]".repeat(10_000))).is_err());
    }

    #[test]
    fn crlf_and_bom_keep_line_numbers() {
        let lf = parse("kind: Pod\nmetadata:\n  name: a\n  labels:\n    x: \"y\"\n").unwrap().remove(0);
        let crlf = parse("\u{feff}kind: Pod\r\nmetadata:\r\n  name: a\r\n  labels:\r\n    x: \"y\"\r\n").unwrap().remove(0);
        assert_eq!(lf.value, crlf.value);
        for pointer in ["/metadata/name", "/metadata/labels/x", "/metadata/missing"] {
            assert_eq!(lf.line_of(pointer), crlf.line_of(pointer), "{pointer}");
        }
        let json = parse("\u{feff}{\r\n  \"kind\": \"Pod\",\r\n  \"metadata\": {\"name\": \"a\"}\r\n}\r\n").unwrap().remove(0);
        assert_eq!(json.line_of("/metadata/name"), 3);
    }

    #[test]
    fn core_tags_resolve_with_kubectl_rules() {
        let doc = parse("a: !!int 0400\nb: !!float 1\nc: !!null ~\n").unwrap().remove(0).value;
        assert_eq!(doc, serde_json::json!({"a": 256, "b": 1.0, "c": null}));
        assert!(parse("a: !!int x\n").unwrap_err().message.contains("not a valid !!int"));
    }
}
