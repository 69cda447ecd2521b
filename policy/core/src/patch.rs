//! RFC 6902 JSON Patch: the difference between two documents, and applying
//! it. Admission webhooks answer with a patch; so does the core, and every
//! face shows the object that patch produces.

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

/// Applies `patch` to `doc`. Fails on a path that does not resolve.
pub fn apply(doc: &mut Value, patch: &[Operation]) -> Result<(), String> {
    for op in patch {
        match op {
            Operation::Add { path, value } => insert(doc, path, value.clone(), false)?,
            Operation::Replace { path, value } => insert(doc, path, value.clone(), true)?,
            Operation::Remove { path } => {
                let (parent, last) = parent_of(doc, path)?;
                match parent {
                    Value::Object(m) => {
                        m.remove(&last).ok_or_else(|| format!("remove: no member at {path}"))?;
                    }
                    Value::Array(a) => {
                        let i = index(&last, a.len())?;
                        a.remove(i);
                    }
                    _ => return Err(format!("remove: {path} is inside a scalar")),
                }
            }
        }
    }
    Ok(())
}

fn insert(doc: &mut Value, path: &str, value: Value, replace: bool) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = parent_of(doc, path)?;
    match parent {
        Value::Object(m) => {
            if replace && !m.contains_key(&last) {
                return Err(format!("replace: no member at {path}"));
            }
            m.insert(last, value);
        }
        Value::Array(a) => {
            if last == "-" && !replace {
                a.push(value);
            } else if replace {
                let i = index(&last, a.len())?;
                a[i] = value;
            } else {
                let i = index(&last, a.len() + 1)?;
                a.insert(i, value);
            }
        }
        _ => return Err(format!("{path} is inside a scalar")),
    }
    Ok(())
}

fn index(segment: &str, bound: usize) -> Result<usize, String> {
    segment
        .parse::<usize>()
        .ok()
        .filter(|i| *i < bound)
        .ok_or_else(|| format!("array index {segment:?} out of range"))
}

fn parent_of<'a>(doc: &'a mut Value, path: &str) -> Result<(&'a mut Value, String), String> {
    let (parent, last) = path.rsplit_once('/').ok_or_else(|| format!("path {path:?} does not start with /"))?;
    let last = last.replace("~1", "/").replace("~0", "~");
    let target = doc.pointer_mut(parent).ok_or_else(|| format!("path {parent:?} does not exist"))?;
    Ok((target, last))
}

/// A shallow helper for building objects in a fixed key order.
pub(crate) fn object(entries: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    Value::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map<_, _>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(a: Value, b: Value) {
        let ops = diff(&a, &b);
        let mut c = a.clone();
        apply(&mut c, &ops).unwrap();
        assert_eq!(c, b, "ops: {ops:?}");
    }

    #[test]
    fn diff_then_apply_gives_target() {
        roundtrip(json!({"a": 1, "b": [1, 2]}), json!({"a": 2, "b": [1, 2, 3], "c/d": {"e~": 1}}));
        roundtrip(json!({"c": [1, 2, 3]}), json!({"c": [0, 1, 2, 3]}));
        roundtrip(json!({"c": [1, 2, 3]}), json!({"c": [3]}));
        roundtrip(json!({"c": [{"x": 1}]}), json!({"c": [{"x": 1, "y": [1]}, {"z": 2}]}));
        roundtrip(json!([1]), json!({"a": 1}));
    }

    #[test]
    fn prepend_is_one_add_at_zero() {
        let ops = diff(&json!({"c": [1, 2]}), &json!({"c": [0, 1, 2]}));
        assert_eq!(ops, vec![Operation::Add { path: "/c/0".into(), value: json!(0) }]);
    }

    #[test]
    fn bad_paths_are_errors() {
        let mut doc = json!({"a": [1]});
        assert!(apply(&mut doc, &[Operation::Remove { path: "/a/5".into() }]).is_err());
        assert!(apply(&mut doc, &[Operation::Replace { path: "/b".into(), value: json!(1) }]).is_err());
        assert!(apply(&mut doc, &[Operation::Add { path: "/x/y".into(), value: json!(1) }]).is_err());
    }
}
