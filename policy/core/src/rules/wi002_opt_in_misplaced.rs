use super::{Context, Finding, Rule, Severity};
use crate::objects::{object_annotation, object_label};
use crate::wellknown::USE_LABEL;

pub const RULE: Rule = Rule {
    code: "WI002",
    name: "opt-in-misplaced",
    severity: Severity::Error,
    summary: "Opt-in `azure.workload.identity/use` written as a pod annotation, or only on the ServiceAccount",
    doc: rule_doc!(r#"## What it does
Reports `azure.workload.identity/use` written as a pod *annotation*, and pods
that lack the label while their ServiceAccount carries it.

## Why is this bad?
Since webhook v1.0 only the pod *label* opts a pod in. Older guides put the
label on the ServiceAccount, and many people write it as an annotation; in both
cases the webhook never sees the pod and nothing is injected.

## Example
```yaml
kind: Pod
metadata:
  annotations:
    azure.workload.identity/use: "true"
```

## Use instead
```yaml
kind: Pod
metadata:
  labels:
    azure.workload.identity/use: "true"
```
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods() {
        if pod.label(USE_LABEL).is_some() {
            continue;
        }
        if pod.annotation(USE_LABEL).is_some() {
            out.push(Finding::new(
                &RULE,
                pod.index,
                pod.meta_pointer("annotations", USE_LABEL),
                format!("`{USE_LABEL}` is a pod annotation; the webhook only reads the pod label"),
                format!("move `{USE_LABEL}: \"true\"` from metadata.annotations to metadata.labels"),
            ));
            continue;
        }
        let sa_name = pod.service_account();
        let Some((_, sa)) = cx.inventory.service_account(&pod.object.namespace, sa_name) else { continue };
        let on_sa = [object_label(sa, USE_LABEL), object_annotation(sa, USE_LABEL)]
            .into_iter()
            .flatten()
            .any(|v| v.as_str() == Some("true") || v.as_bool() == Some(true));
        if on_sa {
            out.push(Finding::new(
                &RULE,
                pod.index,
                pod.meta_pointer("labels", USE_LABEL),
                format!(
                    "ServiceAccount `{sa_name}`{} is marked `{USE_LABEL}` but this pod has no such label; the webhook only reads the pod label",
                    sa.origin()
                ),
                format!("add the label `{USE_LABEL}: \"true\"` to the pod template"),
            ));
        }
    }
}
