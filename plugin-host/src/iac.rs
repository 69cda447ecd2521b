//! `lint -v`: what the core read from Terraform and ARM files, from the
//! objects it returns. The core marks them with `address` and
//! `attributes`; their `notChecked` entries say what was left unknown.

use serde_json::{Value, json};

use crate::host::Manifest;
use crate::report::printable;

/// Every resource read from infrastructure code, as `-o json` lists them.
pub fn resources(objects: &[Manifest]) -> Vec<Value> {
    objects
        .iter()
        .filter_map(|m| {
            let doc: Value = serde_json::from_str(&m.json).ok()?;
            let (address, attributes) = (doc.get("address")?, doc.get("attributes")?);
            Some(json!({
                "file": m.at.file,
                "line": m.at.line,
                "type": doc.get("type"),
                "address": address,
                "attributes": attributes,
                "dependsOn": doc.get("dependsOn"),
                "notChecked": doc.get("notChecked").cloned().unwrap_or_else(|| json!({})),
            }))
        })
        .collect()
}

/// `FILE:LINE: not checked: ADDRESS ATTRIBUTE: WHY`, one line each.
pub fn not_checked_text(resources: &[Value]) -> String {
    let mut out = String::new();
    for r in resources {
        let Some(entries) = r["notChecked"].as_object() else { continue };
        for (attribute, entry) in entries {
            out.push_str(&format!(
                "{}:{}: not checked: {} {attribute}: {}\n",
                printable(r["file"].as_str().unwrap_or_default()),
                entry["line"],
                printable(r["address"].as_str().unwrap_or_default()),
                printable(entry["reason"].as_str().unwrap_or_default())
            ));
        }
    }
    out
}
