//! Writing objects back out as YAML that kubectl reads exactly as the
//! objects are: every string stays a string, every number the same number.
//!
//! The serializer quotes what YAML 1.1 would read as another type, but its
//! idea of YAML 1.1 and go-yaml's can differ at the edges (`1__0` is ten to
//! go-yaml). So each document is read back with the same reader `lint` uses
//! (kubectl's rules, [`crate::yaml11`]) and written again with every string
//! quoted if it does not come back equal; JSON, which is also YAML, is the
//! last resort.

use serde_json::Value;

use crate::source::{SourceFile, parse_documents};

/// A multi-document YAML stream of `objects`, each starting with `---`.
pub fn yaml_stream(objects: &[Value]) -> String {
    let mut out = String::new();
    for object in objects {
        out.push_str("---\n");
        out.push_str(&yaml_document(object));
    }
    out
}

fn yaml_document(object: &Value) -> String {
    // Long one-line values (issuer URLs, images) stay on one line instead of
    // becoming folded `>-` blocks.
    let plain = serde_saphyr::ser_options! { folded_wrap_chars: usize::MAX };
    let quoted = serde_saphyr::ser_options! { folded_wrap_chars: usize::MAX, quote_all: true };
    for options in [plain, quoted] {
        if let Ok(text) = serde_saphyr::to_string_with_options(object, options) {
            if reads_back_as(&text, object) {
                return text;
            }
        }
    }
    let mut json = serde_json::to_string_pretty(object).unwrap_or_else(|_| object.to_string());
    json.push('\n');
    json
}

fn reads_back_as(text: &str, object: &Value) -> bool {
    let file = SourceFile { name: String::new(), content: text.to_string() };
    matches!(parse_documents(&file).as_deref(), Ok([doc]) if doc.value == *object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_that_look_like_other_types_stay_strings() {
        let object = json!({
            "kind": "ConfigMap",
            "data": {"a": "0400", "b": "yes", "c": "1__0", "d": "1_", "e": "0x1E", "f": "y", "g": "~", "h": "", "i": "2024-01-01", "j": "0o17", "k": ".inf"},
            "spec": {"mode": 256, "ratio": 0.5, "big": 100000000000000000000.0, "flag": true, "none": null}
        });
        let text = yaml_stream(std::slice::from_ref(&object));
        assert!(reads_back_as(text.trim_start_matches("---\n"), &object), "{text}");
    }
}
