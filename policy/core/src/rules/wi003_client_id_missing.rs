use super::{Context, Finding, Rule, Severity};
use crate::objects::object_annotation;
use crate::wellknown::CLIENT_ID_ANNOTATION;

pub const RULE: Rule = Rule {
    code: "WI003",
    name: "client-id-missing",
    severity: Severity::Error,
    summary: "Opted-in pod's ServiceAccount has no `azure.workload.identity/client-id` annotation",
    doc: rule_doc!(r#"## What it does
For every opted-in pod whose ServiceAccount is among the inputs, checks that
the ServiceAccount has an `azure.workload.identity/client-id` annotation
(an empty or malformed one is reported by WI005).

## Why is this bad?
The webhook takes `AZURE_CLIENT_ID` from that annotation. Without it the
variable is not injected and the SDK cannot tell which identity to use, unless
every container sets it itself.

## Example
```yaml
kind: ServiceAccount
metadata:
  name: workload-identity-sa
```

## Use instead
```yaml
kind: ServiceAccount
metadata:
  name: workload-identity-sa
  annotations:
    azure.workload.identity/client-id: "00000000-0000-0000-0000-000000000000"
```
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods().filter(|p| p.opted_in()) {
        let sa_name = pod.service_account();
        let Some((_, sa)) = cx.inventory.service_account(&pod.object.namespace, sa_name) else { continue };
        // A present but empty or malformed value is WI005's finding.
        if object_annotation(sa, CLIENT_ID_ANNOTATION).is_none() {
            out.push(Finding::new(
                &RULE,
                pod.index,
                pod.spec_pointer("/serviceAccountName"),
                format!(
                    "ServiceAccount `{}/{sa_name}`{} has no `{CLIENT_ID_ANNOTATION}` annotation, so AZURE_CLIENT_ID is not injected",
                    pod.object.namespace,
                    sa.origin()
                ),
                format!("annotate ServiceAccount `{sa_name}` with `{CLIENT_ID_ANNOTATION}: <identity client ID>`"),
            ));
        }
    }
}
