use super::{Context, Finding, Rule, Severity};
use crate::objects::Field;
use crate::source::escape_pointer_segment;
use crate::wellknown::USE_LABEL;
use serde_json::Value;

pub const RULE: Rule = Rule {
    code: "WI015",
    name: "opt-in-in-selector",
    severity: Severity::Warning,
    summary: "The `azure.workload.identity/use` label is part of a workload's selector",
    doc: rule_doc!(r#"## What it does
Reports a Deployment, StatefulSet, DaemonSet, ReplicaSet or Job whose
`spec.selector` (`matchLabels` or `matchExpressions`) uses the
`azure.workload.identity/use` label, and a CronJob whose job template's
selector does.

## Why is this bad?
A workload's selector is immutable. Once the opt-in label is part of it,
taking Workload ID off the workload (or renaming the label) makes every
`kubectl apply` and `helm upgrade` fail with `field is immutable`, and the
workload has to be deleted and recreated (azure-workload-identity issue
#1025). The webhook only reads the label on the pod, so the selector gains
nothing from it.

## Example
```yaml
kind: Deployment
spec:
  selector:
    matchLabels:
      app: backend
      azure.workload.identity/use: "true"
```

## Use instead
```yaml
kind: Deployment
spec:
  selector:
    matchLabels:
      app: backend
  template:
    metadata:
      labels:
        app: backend
        azure.workload.identity/use: "true"
```
"#),
    check,
};

const KINDS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"];

/// Where a workload's selector is: beside its pod template (a CronJob's
/// in its job template, set with `manualSelector`).
fn selector_of(kind: &str, template: &str) -> Option<&'static str> {
    match template {
        "/spec/template" if KINDS.contains(&kind) => Some("/spec/selector"),
        "/spec/jobTemplate/spec/template" => Some("/spec/jobTemplate/spec/selector"),
        _ => None,
    }
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods() {
        let Some(at) = selector_of(&pod.object.kind, pod.template) else { continue };
        let Some(selector) = crate::objects::at(&pod.object.doc.value, at) else { continue };
        let in_labels = selector.field("matchLabels").and_then(|l| l.get(USE_LABEL)).is_some();
        let in_expressions = selector
            .field("matchExpressions")
            .and_then(Value::as_array)
            .and_then(|list| list.iter().position(|e| e.field("key").and_then(Value::as_str) == Some(USE_LABEL)));
        let pointer = if in_labels {
            format!("{at}/matchLabels/{}", escape_pointer_segment(USE_LABEL))
        } else if let Some(i) = in_expressions {
            format!("{at}/matchExpressions/{i}")
        } else {
            continue;
        };
        out.push(Finding::new(
            &RULE,
            pod.index,
            pointer,
            format!(
                "the {} selects its pods by `{USE_LABEL}`; selectors are immutable, so removing the label later fails every upgrade",
                pod.object.kind
            ),
            format!(
                "remove `{USE_LABEL}` from `{}` (keep it on `{}.metadata.labels`); an existing {} must be recreated for that",
                at.trim_start_matches('/').replace('/', "."),
                pod.template.trim_start_matches('/').replace('/', "."),
                pod.object.kind
            ),
        ));
    }
}
