use super::{Context, Finding, Rule, Severity};
use crate::objects::Role;
use crate::wellknown::AAD_POD_IDENTITY_LABEL;

pub const RULE: Rule = Rule {
    code: "WI011",
    name: "aad-pod-identity-in-use",
    severity: Severity::Warning,
    summary: "aad-pod-identity is in use (`aadpodidbinding` label or its CRD objects)",
    doc: rule_doc!(r#"## What it does
Reports pods labelled `aadpodidbinding` and `AzureIdentity`,
`AzureIdentityBinding` and `AzurePodIdentityException` objects.

## Why is this bad?
aad-pod-identity is deprecated and its AKS add-on is retired. Pods relying on it
lose their identity when NMI is removed. Migrate them to Workload ID: a
federated credential on the same identity, the client-id annotation on the
ServiceAccount, and the `azure.workload.identity/use` label (or the
`inject-proxy-sidecar` annotation for SDKs that only speak IMDS).

## Example
```yaml
metadata:
  labels:
    aadpodidbinding: my-identity
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
        if pod.label(AAD_POD_IDENTITY_LABEL).is_some() {
            out.push(Finding::new(
                &RULE,
                pod.index,
                pod.meta_pointer("labels", AAD_POD_IDENTITY_LABEL),
                "pod uses aad-pod-identity (`aadpodidbinding` label), which is deprecated",
                "migrate to Workload ID: federate the identity with the pod's ServiceAccount and label the pod `azure.workload.identity/use: \"true\"`",
            ));
        }
    }
    for (index, object) in cx.inventory.objects.iter().enumerate() {
        if object.role == Role::AadPodIdentity {
            out.push(Finding::new(
                &RULE,
                index,
                "",
                format!("{} is an aad-pod-identity object; aad-pod-identity is deprecated", object.kind),
                "replace it with a federated identity credential on the same managed identity",
            ));
        }
    }
}
