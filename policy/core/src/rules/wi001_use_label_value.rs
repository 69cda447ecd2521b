use serde_json::Value;

use super::{Context, Finding, Rule, Severity, shown};
use crate::wellknown::USE_LABEL;

pub const RULE: Rule = Rule {
    code: "WI001",
    name: "use-label-not-true",
    severity: Severity::Error,
    summary: "Pod label `azure.workload.identity/use` is present but not the string \"true\"",
    doc: rule_doc!(r#"## What it does
Checks the `azure.workload.identity/use` label on pods and pod templates and
reports any value other than the string `"true"`.

## Why is this bad?
The webhook's object selector matches the label value `"true"` exactly. Any
other value (`"True"`, `"yes"`, `"enabled"`) means the pod is silently not
mutated: no token, no `AZURE_*` variables, and the Azure SDK fails at run time.
An unquoted `true` is a YAML boolean, which the API server rejects as a label.

## Example
```yaml
metadata:
  labels:
    azure.workload.identity/use: True
```

## Use instead
```yaml
metadata:
  labels:
    azure.workload.identity/use: "true"
```
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods() {
        let Some(value) = pod.label(USE_LABEL) else { continue };
        let message = match value {
            Value::String(s) if s == "true" => continue,
            Value::Bool(true) => format!(
                "label `{USE_LABEL}` is the YAML boolean true, not the string \"true\"; the API server rejects non-string labels"
            ),
            other => format!(
                "label `{USE_LABEL}` is {}; the webhook only injects pods labelled exactly \"true\"",
                shown(other)
            ),
        };
        out.push(Finding::new(
            &RULE,
            pod.index,
            pod.meta_pointer("labels", USE_LABEL),
            message,
            format!("set `{USE_LABEL}: \"true\"` (quoted) in the pod labels"),
        ));
    }
}
