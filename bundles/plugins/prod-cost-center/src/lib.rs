//! An example rule plugin for `kubectl wi lint --plugin`: every
//! ServiceAccount in a namespace labelled `env: prod` must carry a
//! `cost-center` label, so that the Azure spend of its identity can be
//! charged to a team.
//!
//! Build: `make plugins` (or `cargo build --target wasm32-unknown-unknown
//! --release -p wi-plugin-prod-cost-center`); the `.wasm` wit-bindgen writes
//! is what `--plugin` takes.

wit_bindgen::generate!({
    world: "rule-plugin",
    path: "../../../wit",
});

use exports::wi::policy::rules::{Finding, Guest, Manifest, PluginInfo, RuleInfo, CoreFinding, Severity};
use serde_json::Value;
use std::collections::HashSet;

const CODE: &str = "ORG001";

struct CostCenter;

fn label<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.pointer("/metadata/labels")?.get(key)?.as_str()
}

impl Guest for CostCenter {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "prod-cost-center".into(),
            prefix: "ORG".into(),
            rules: vec![RuleInfo {
                code: CODE.into(),
                name: "prod-service-account-cost-center".into(),
                severity: Severity::Error,
                summary: "A ServiceAccount in a namespace labelled env: prod has no cost-center label.".into(),
                documentation: "## What it does\nReports every ServiceAccount whose namespace (a Namespace object among the inputs) is labelled `env: prod` and which has no `cost-center` label.\n\n## Why is this bad?\nThe Azure spend of a workload identity cannot be charged to a team.\n\n## Use instead\n```yaml\nmetadata:\n  labels:\n    cost-center: cc-1234\n```\n".into(),
            }],
        }
    }

    fn check(objects: Vec<Manifest>, _core: Vec<CoreFinding>) -> Result<Vec<Finding>, String> {
        let parsed: Vec<Value> = objects
            .iter()
            .map(|m| serde_json::from_str(&m.json).map_err(|e| format!("{}:{}: not JSON: {e}", m.at.file, m.at.line)))
            .collect::<Result<_, _>>()?;
        let prod: HashSet<&str> = objects
            .iter()
            .zip(&parsed)
            .filter(|(m, v)| m.at.kind == "Namespace" && label(v, "env") == Some("prod"))
            .map(|(m, _)| m.at.name.as_str())
            .collect();
        Ok(objects
            .iter()
            .zip(&parsed)
            .enumerate()
            .filter(|(_, (m, v))| m.at.kind == "ServiceAccount" && prod.contains(m.at.namespace.as_str()) && label(v, "cost-center").is_none_or(str::is_empty))
            .map(|(index, (m, _))| Finding {
                rule: CODE.into(),
                severity: Severity::Error,
                message: format!("ServiceAccount {} in the prod namespace {} has no cost-center label", m.at.name, m.at.namespace),
                fix: "Add metadata.labels.cost-center with the team's cost center, e.g. cost-center: cc-1234.".into(),
                object: index as u32,
            })
            .collect())
    }
}

export!(CostCenter);
