use super::{Context, Finding, Rule, Severity};
use crate::wellknown::INJECT_PROXY_ANNOTATION;

pub const RULE: Rule = Rule {
    code: "WI008",
    name: "proxy-with-host-network",
    severity: Severity::Error,
    summary: "`inject-proxy-sidecar` on a pod with `hostNetwork: true`",
    doc: rule_doc!(r#"## What it does
Reports pods that ask for the migration proxy sidecar
(`azure.workload.identity/inject-proxy-sidecar`) while using the host network.

## Why is this bad?
The proxy's init container rewrites iptables rules; on the host network it
would rewrite the node's. The webhook refuses such pods, so they are never
created.

## Example
```yaml
metadata:
  annotations:
    azure.workload.identity/inject-proxy-sidecar: "true"
spec:
  hostNetwork: true
```

## Use instead
Drop `hostNetwork`, or drop the proxy and use an SDK that supports workload
identity natively.
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods() {
        if pod.annotation(INJECT_PROXY_ANNOTATION).is_some() && pod.host_network() {
            out.push(Finding::new(
                &RULE,
                pod.index,
                pod.spec_pointer("/hostNetwork"),
                "the proxy sidecar cannot be injected into a pod with hostNetwork: true; the webhook rejects this pod",
                format!("remove `hostNetwork: true` or the `{INJECT_PROXY_ANNOTATION}` annotation"),
            ));
        }
    }
}
