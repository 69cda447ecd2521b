use super::{Context, Finding, Rule, Severity};
use crate::wellknown::PROXY_PORT_ANNOTATION;

pub const RULE: Rule = Rule {
    code: "WI009",
    name: "proxy-port-invalid",
    severity: Severity::Error,
    summary: "`proxy-sidecar-port` is not a valid port",
    doc: rule_doc!(r#"## What it does
Checks `azure.workload.identity/proxy-sidecar-port`: it must be an integer
from 1 to 65535.

## Why is this bad?
The webhook rejects a port it cannot parse, and the API server rejects a
container port outside 1..65535: either way the pod is never created.

## Example
```yaml
annotations:
  azure.workload.identity/proxy-sidecar-port: "http"
```

## Use instead
```yaml
annotations:
  azure.workload.identity/proxy-sidecar-port: "8000"
```
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods() {
        let Some(value) = pod.annotation(PROXY_PORT_ANNOTATION) else { continue };
        if let Err(message) = crate::wellknown::parse_proxy_port(value) {
            out.push(Finding::new(
                &RULE,
                pod.index,
                pod.meta_pointer("annotations", PROXY_PORT_ANNOTATION),
                message,
                format!("set `{PROXY_PORT_ANNOTATION}` to a quoted port number, e.g. \"8000\""),
            ));
        }
    }
}
