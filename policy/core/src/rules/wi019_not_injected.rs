use super::{Context, Finding, Rule, Severity};
use crate::objects::Field;
use crate::wellknown::*;
use serde_json::Value;

pub const RULE: Rule = Rule {
    code: "WI019",
    name: "opted-in-but-not-injected",
    severity: Severity::Error,
    summary: "A running opted-in pod was never injected: recreate it",
    doc: rule_doc!(r#"## What it does
In pods read from a cluster (`kubectl get pods -o json`: a Pod with a
`metadata.uid` or a non-empty `status`, not `Succeeded` or `Failed`),
reports opted-in pods in which a container
the webhook injects into (all but `skip-containers`) has no
`AZURE_FEDERATED_TOKEN_FILE` variable. Manifests (pods not yet created)
and admission requests are not judged: the webhook has yet to run on them.

## Why is this bad?
The webhook mutates pods only when they are created. A pod created before
it got the `azure.workload.identity/use` label, before its ServiceAccount
existed, or while the webhook was down or failing (its `failurePolicy` is
`Ignore`) runs without the token and the `AZURE_*` variables, and the Azure
SDK fails with "no credential" errors until the pod is recreated
(azure-workload-identity issue #790 and its troubleshooting guide). Adding
the label to a running pod changes nothing.

## Example
```json
{"kind": "Pod", "metadata": {"uid": "…", "labels": {"azure.workload.identity/use": "true"}},
 "spec": {"containers": [{"name": "app", "env": []}]}, "status": {"phase": "Running"}}
```

## Use instead
Recreate the pod (`kubectl delete pod …`, or `kubectl rollout restart` its
Deployment) while the webhook is running; check the webhook's pods and logs
(`kubectl logs -n azure-workload-identity-system deploy/azure-wi-webhook-controller-manager`)
if the new pod is not injected either.
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods().filter(|p| p.template.is_empty() && p.opted_in()) {
        // Created in a cluster: a uid, or a status the cluster wrote
        // (`status: {}` is what `kubectl create --dry-run -o yaml` writes).
        // Finished pods are history, not a problem to fix.
        let value = &pod.object.doc.value;
        let status = value.field("status").and_then(Value::as_object).filter(|s| !s.is_empty());
        if status.is_none() && value.pointer("/metadata/uid").and_then(Value::as_str).is_none_or(str::is_empty) {
            continue;
        }
        if matches!(value.pointer("/status/phase").and_then(Value::as_str), Some("Succeeded" | "Failed")) {
            continue;
        }
        for (pointer, container) in pod.injected_containers() {
            let injected = container
                .field("env")
                .and_then(Value::as_array)
                .is_some_and(|env| env.iter().any(|v| v.field("name").and_then(Value::as_str) == Some(ENV_TOKEN_FILE)));
            if injected {
                continue;
            }
            let name = container.field("name").and_then(Value::as_str).unwrap_or("");
            out.push(Finding::new(
                &RULE,
                pod.index,
                format!("{pointer}/name"),
                format!("the running pod is opted in, but container `{name}` has no {ENV_TOKEN_FILE}: the webhook did not inject it when the pod was created"),
                "recreate the pod (e.g. `kubectl rollout restart` its workload) while the webhook runs; adding the label to a running pod changes nothing",
            ));
            break;
        }
    }
}
