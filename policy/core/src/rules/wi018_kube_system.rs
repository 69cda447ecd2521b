use super::{Context, Finding, Rule, Severity};
use crate::wellknown::USE_LABEL;

pub const RULE: Rule = Rule {
    code: "WI018",
    name: "opt-in-in-kube-system",
    severity: Severity::Warning,
    summary: "An opted-in pod runs in `kube-system`, where AKS keeps the webhook away",
    doc: rule_doc!(r#"## What it does
Reports opted-in pods and pod templates in the `kube-system` namespace.

## Why is this bad?
On AKS the admissions enforcer keeps custom admission webhooks away from
`kube-system`: it adds a namespace selector that excludes it to every
webhook configuration that does not carry the annotation
`admissions.enforcer/disabled: "true"`. The azure-workload-identity
webhook's configuration does not, so pods in `kube-system` are never
mutated: no token, no `AZURE_*` variables, and the Azure SDK fails
(azure-workload-identity issue #525 and its known-issues page).

## Example
```yaml
metadata:
  namespace: kube-system
  labels:
    azure.workload.identity/use: "true"
```

## Use instead
Run the workload in a namespace of its own, or annotate the webhook's
`MutatingWebhookConfiguration` with `admissions.enforcer/disabled: "true"`
(and accept that it then also sees AKS's own pods).
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods().filter(|p| p.opted_in() && p.object.namespace == "kube-system") {
        out.push(Finding::new(
            &RULE,
            pod.index,
            pod.meta_pointer("labels", USE_LABEL),
            "the pod is in `kube-system`, which AKS's admissions enforcer keeps away from the Workload ID webhook, so it is never injected",
            "move the workload to its own namespace, or annotate the webhook's MutatingWebhookConfiguration with `admissions.enforcer/disabled: \"true\"`",
        ));
    }
}
