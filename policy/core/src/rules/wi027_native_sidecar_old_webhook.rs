use serde_json::Value;

use super::{Context, Finding, Rule, Severity};
use crate::objects::Field;

pub const RULE: Rule = Rule {
    code: "WI027",
    name: "native-sidecar-old-webhook",
    severity: Severity::Error,
    summary: "A native sidecar (init container with `restartPolicy: Always`) in an opted-in pod, with a webhook older than v1.3.0",
    doc: rule_doc!(r#"## What it does
With `--webhook-version` (the policy's `webhookVersion` setting) below
v1.3.0, reports every init container with `restartPolicy: Always` (a native
sidecar, as Istio and other meshes inject) in an opted-in pod or pod
template. Without a webhook version it says nothing.

## Why is this bad?
The webhook decodes the pod with the Kubernetes API types it was built
with and sends back the difference. Releases before v1.3.0 were built with
k8s.io/api v0.26, which has no `restartPolicy` on containers, so the
mutation removes it: the sidecar becomes an ordinary init container that
never exits, and the pod never starts (azure-workload-identity #1312; v1.3.0
moved to k8s.io/api v0.29).

## Example
```yaml
# webhook v1.2.2
spec:
  initContainers:
  - name: istio-proxy
    restartPolicy: Always
```

## Use instead
Upgrade the webhook to v1.3.0 or later (the AKS add-on is kept current), or
make the sidecar an ordinary container.
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(version) = cx.options.webhook_version.as_ref().filter(|v| v.before((1, 3, 0))) else { return };
    for pod in cx.inventory.pods().filter(|p| p.opted_in()) {
        let init_containers = pod.spec.field("initContainers").and_then(Value::as_array).into_iter().flatten().enumerate();
        for (i, container) in init_containers.filter(|(_, c)| c.field("restartPolicy").and_then(Value::as_str) == Some("Always")) {
            let name = container.field("name").and_then(Value::as_str).unwrap_or("?");
            out.push(Finding::new(
                &RULE,
                pod.index,
                pod.spec_pointer(&format!("/initContainers/{i}/restartPolicy")),
                format!(
                    "webhook {version} drops `restartPolicy: Always` from init container `{name}` when it mutates the pod, so the sidecar never exits and the pod never starts"
                ),
                "upgrade the azure-workload-identity webhook to v1.3.0 or later",
            ));
        }
    }
}
