//! JSON text to documents: `serde_json` reads the values, then one pass over
//! the bytes gives each value its line.
//!
//! `kubectl get -o json` output is the largest input people lint, and
//! serde_json reads it several times faster than a YAML parser would. It
//! keeps no positions, so the text is walked once more beside the parsed
//! value (the text is known to be valid JSON by then, so the walk only
//! needs brackets, strings and commas). The walk also finds what serde_json
//! lets pass silently: a key given twice in one object, and nesting deeper
//! than [`MAX_DEPTH`].

use serde_json::Value;

use super::{Document, LineBuilder, MAX_DEPTH, Problem, too_deep};

/// Message start of a comment in JSON, which the caller treats specially.
pub(super) const JSON_COMMENT: &str = "JSON has no comments";

/// Reads a stream of JSON values (one, or several as `jq` prints them).
pub(super) fn parse(text: &str) -> Result<Vec<Document>, Problem> {
    let mut docs = Vec::new();
    let mut walk = Walk { bytes: text.as_bytes(), at: 0, line: 1, lines: LineBuilder::default() };
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    while let Some(next) = stream.next() {
        let value = next.map_err(|e| (e.line() as u32, e.column() as u32, message(text, &e)))?;
        walk.value(&value, 1)?;
        let lines = walk.lines.finish();
        docs.push(Document { line: lines.line(), value, lines });
    }
    Ok(docs)
}

/// serde_json's message without its position (reported separately), and a
/// plain word for the mistakes people make in JSON by hand.
fn message(text: &str, e: &serde_json::Error) -> String {
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
        return too_deep();
    }
    format!("invalid JSON: {message}")
}

/// A cursor over text serde_json has accepted, counting lines.
struct Walk<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u32,
    lines: LineBuilder,
}

impl Walk<'_> {
    fn peek(&self) -> u8 {
        self.bytes.get(self.at).copied().unwrap_or(0)
    }

    fn skip_space(&mut self) {
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => break,
            }
            self.at += 1;
        }
    }

    /// Skips a string at the cursor and returns its raw text between the
    /// quotes (escapes not expanded). JSON strings hold no raw line breaks.
    fn string(&mut self) -> &[u8] {
        let start = self.at + 1;
        let mut i = start;
        while let Some(&b) = self.bytes.get(i) {
            match b {
                b'"' => break,
                b'\\' => i += 2,
                _ => i += 1,
            }
        }
        let end = i.min(self.bytes.len());
        self.at = (end + 1).min(self.bytes.len());
        &self.bytes[start..end]
    }

    /// The lines of `value`, whose text starts at the cursor.
    fn value(&mut self, value: &Value, depth: usize) -> Result<(), Problem> {
        self.skip_space();
        let line = self.line;
        if depth > MAX_DEPTH && matches!(self.peek(), b'{' | b'[') {
            return Err((line, 0, too_deep()));
        }
        let at = self.lines.open(line);
        match (self.peek(), value) {
            (b'{', Value::Object(map)) => {
                self.at += 1;
                let mut entries = map.iter();
                loop {
                    self.skip_space();
                    match self.peek() {
                        b'}' => {
                            self.at += 1;
                            break;
                        }
                        b',' => {
                            self.at += 1;
                            self.skip_space();
                        }
                        _ => {}
                    }
                    let key_line = self.line;
                    let raw = self.string();
                    // serde_json keeps the first position of a key given
                    // twice, so the entries fall out of step exactly there.
                    let entry = entries.next().filter(|(key, _)| same_key(raw, key));
                    let Some((_, child)) = entry else {
                        return Err((key_line, 0, format!("duplicate key `{}` in a mapping", decoded(raw))));
                    };
                    self.skip_space();
                    self.at += 1; // the `:`
                    let value_at = self.lines.next();
                    self.value(child, depth + 1)?;
                    self.lines.set_key_line(value_at, key_line);
                }
            }
            (b'[', Value::Array(items)) => {
                self.at += 1;
                for item in items {
                    self.skip_space();
                    if self.peek() == b',' {
                        self.at += 1;
                    }
                    self.value(item, depth + 1)?;
                }
                self.skip_space();
                self.at += 1; // the `]`
            }
            (b'"', _) => {
                self.string();
            }
            _ => {
                // A number, `true`, `false` or `null`: up to the next delimiter.
                while !matches!(self.peek(), b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n' | 0) {
                    self.at += 1;
                }
            }
        }
        self.lines.close(at);
        Ok(())
    }
}

fn same_key(raw: &[u8], key: &str) -> bool {
    if raw.contains(&b'\\') { decoded(raw) == key } else { raw == key.as_bytes() }
}

/// A raw JSON string's text with its escapes expanded.
fn decoded(raw: &[u8]) -> String {
    let quoted = [&b"\""[..], raw, &b"\""[..]].concat();
    serde_json::from_slice::<String>(&quoted).unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned())
}
