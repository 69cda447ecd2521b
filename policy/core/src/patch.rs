//! RFC 6902 JSON Patch: the difference between two documents. Admission
//! webhooks answer with a patch; so does the core, and every face shows the
//! object that patch produces. Nothing here applies a patch: the tests apply
//! [`to_json`]'s output with the `json-patch` crate, an independent reader
//! of RFC 6902.

use serde_json::{Map, Value, json};

use crate::source::escape_pointer_segment;

/// One patch operation. Only the three the diff produces are modelled.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    Add { path: String, value: Value },
    Remove { path: String },
    Replace { path: String, value: Value },
}

impl Operation {
    pub fn to_json(&self) -> Value {
        match self {
            Operation::Add { path, value } => json!({"op": "add", "path": path, "value": value}),
            Operation::Remove { path } => json!({"op": "remove", "path": path}),
            Operation::Replace { path, value } => json!({"op": "replace", "path": path, "value": value}),
        }
    }
}

pub fn to_json(patch: &[Operation]) -> Value {
    Value::Array(patch.iter().map(Operation::to_json).collect())
}

/// The operations that turn `from` into `to`.
pub fn diff(from: &Value, to: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    diff_at(String::new(), from, to, &mut ops);
    ops
}

fn diff_at(path: String, from: &Value, to: &Value, ops: &mut Vec<Operation>) {
    if from == to {
        return;
    }
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let p = format!("{path}/{}", escape_pointer_segment(k));
                match b.get(k) {
                    Some(vb) => diff_at(p, va, vb, ops),
                    None => ops.push(Operation::Remove { path: p }),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    ops.push(Operation::Add {
                        path: format!("{path}/{}", escape_pointer_segment(k)),
                        value: vb.clone(),
                    });
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            // Elements prepended (as the proxy sidecar is) are added at the
            // front, so the rest of the array diffs element by element.
            let prepended = if b.len() > a.len() && b[b.len() - a.len()..] == a[..] { b.len() - a.len() } else { 0 };
            if prepended > 0 {
                for (i, v) in b[..prepended].iter().enumerate() {
                    ops.push(Operation::Add { path: format!("{path}/{i}"), value: v.clone() });
                }
                return;
            }
            let common = a.len().min(b.len());
            for i in 0..common {
                diff_at(format!("{path}/{i}"), &a[i], &b[i], ops);
            }
            for (i, v) in b.iter().enumerate().skip(common) {
                ops.push(Operation::Add { path: format!("{path}/{i}"), value: v.clone() });
            }
            for i in (common..a.len()).rev() {
                ops.push(Operation::Remove { path: format!("{path}/{i}") });
            }
        }
        _ => ops.push(Operation::Replace { path, value: to.clone() }),
    }
}

/// A shallow helper for building objects in a fixed key order.
pub(crate) fn object(entries: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    Value::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map<_, _>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ops` as RFC 6902 JSON, read back by the `json-patch` crate.
    fn rfc6902(ops: &[Operation]) -> json_patch::Patch {
        serde_json::from_value(to_json(ops)).unwrap_or_else(|e| panic!("{e}: {:#}", to_json(ops)))
    }

    fn roundtrip(a: Value, b: Value) {
        let ops = diff(&a, &b);
        let mut c = a.clone();
        json_patch::patch(&mut c, &rfc6902(&ops)).unwrap_or_else(|e| panic!("{e}; ops: {ops:?}"));
        assert_eq!(c, b, "ops: {ops:?}");
    }

    #[test]
    fn diff_then_apply_gives_target() {
        roundtrip(json!({"a": 1, "b": [1, 2]}), json!({"a": 2, "b": [1, 2, 3], "c/d": {"e~": 1}}));
        roundtrip(json!({"c": [1, 2, 3]}), json!({"c": [0, 1, 2, 3]}));
        roundtrip(json!({"c": [1, 2, 3]}), json!({"c": [3]}));
        roundtrip(json!({"c": [{"x": 1}]}), json!({"c": [{"x": 1, "y": [1]}, {"z": 2}]}));
        roundtrip(json!([1]), json!({"a": 1}));
        roundtrip(json!({"a/b": {"~": 1}, "x": 1}), json!({"a/b": {}, "x": [1]}));
    }

    #[test]
    fn prepend_is_one_add_at_zero() {
        let ops = diff(&json!({"c": [1, 2]}), &json!({"c": [0, 1, 2]}));
        assert_eq!(ops, vec![Operation::Add { path: "/c/0".into(), value: json!(0) }]);
    }

    /// Each operation serializes as the RFC 6902 operation of its name,
    /// path and value, as another implementation reads it.
    #[test]
    fn to_json_is_rfc6902() {
        let ops = [
            Operation::Add { path: "/a~1b/0".into(), value: json!({"x": 1}) },
            Operation::Remove { path: "/c~0".into() },
            Operation::Replace { path: "".into(), value: json!([1]) },
        ];
        let read = rfc6902(&ops);
        let expected: Vec<json_patch::PatchOperation> = vec![
            json_patch::PatchOperation::Add(json_patch::AddOperation { path: jsonptr_of("/a~1b/0"), value: json!({"x": 1}) }),
            json_patch::PatchOperation::Remove(json_patch::RemoveOperation { path: jsonptr_of("/c~0") }),
            json_patch::PatchOperation::Replace(json_patch::ReplaceOperation { path: jsonptr_of(""), value: json!([1]) }),
        ];
        assert_eq!(read.0, expected);
        // The escaped segments name the keys `a/b` and `c~`.
        let mut doc = json!({"a/b": [], "c~": 1});
        json_patch::patch(&mut doc, &read[..2]).unwrap();
        assert_eq!(doc, json!({"a/b": [{"x": 1}]}));
    }

    fn jsonptr_of(pointer: &str) -> json_patch::jsonptr::PointerBuf {
        json_patch::jsonptr::PointerBuf::parse(pointer).unwrap()
    }
}
