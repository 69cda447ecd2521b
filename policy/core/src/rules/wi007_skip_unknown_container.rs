use serde_json::Value;

use super::{Context, Finding, Rule, Severity};
use crate::objects::Field;
use crate::wellknown::{SKIP_CONTAINERS_ANNOTATION, skipped_containers};

pub const RULE: Rule = Rule {
    code: "WI007",
    name: "skip-containers-unknown",
    severity: Severity::Warning,
    summary: "`skip-containers` names a container the pod does not have",
    doc: rule_doc!(r#"## What it does
Compares the `;`-separated names in `azure.workload.identity/skip-containers`
with the pod's containers and init containers.

## Why is this bad?
A misspelt name skips nothing: the container you meant to keep free of the
token and `AZURE_*` variables gets them anyway.

## Example
```yaml
annotations:
  azure.workload.identity/skip-containers: "istio-proxy;sidecar"   # no container `sidecar`
```

## Use instead
```yaml
annotations:
  azure.workload.identity/skip-containers: "istio-proxy;log-shipper"
```
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods() {
        let Some(value) = pod.annotation_str(SKIP_CONTAINERS_ANNOTATION) else { continue };
        let names: Vec<&str> = pod
            .containers()
            .filter_map(|(_, c)| c.field("name").and_then(Value::as_str))
            .collect();
        for skipped in skipped_containers(value).into_iter().filter(|s| !s.is_empty()) {
            if !names.contains(&skipped) {
                out.push(Finding::new(
                    &RULE,
                    pod.index,
                    pod.meta_pointer("annotations", SKIP_CONTAINERS_ANNOTATION),
                    format!("`{SKIP_CONTAINERS_ANNOTATION}` names `{skipped}`, which is not a container of this pod (containers: {})", super::listed(&names)),
                    "use the exact container names, separated by `;`",
                ));
            }
        }
    }
}
