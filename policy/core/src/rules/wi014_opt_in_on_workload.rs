use super::{Context, Finding, Rule, Severity};
use crate::objects::Field;
use crate::source::escape_pointer_segment;
use crate::wellknown::USE_LABEL;

pub const RULE: Rule = Rule {
    code: "WI014",
    name: "opt-in-on-workload",
    severity: Severity::Error,
    summary: "Opt-in label `azure.workload.identity/use` on a workload's own metadata, not on its pod template",
    doc: rule_doc!(r#"## What it does
Reports `azure.workload.identity/use` in the `metadata.labels` of a
Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job or
CronJob (and a CronJob's job template) when the pod template does not carry
it.

## Why is this bad?
The webhook only sees pods. Labels on the workload object are not copied to
the pods it creates, so no pod is opted in: no token, no `AZURE_*` variables,
and the Azure SDK fails at run time. It is one of the most common Workload ID
mistakes because the workload's labels sit right above the template's.

## Example
```yaml
kind: Deployment
metadata:
  labels:
    azure.workload.identity/use: "true"
spec:
  template:
    metadata:
      labels:
        app: backend
```

## Use instead
```yaml
kind: Deployment
spec:
  template:
    metadata:
      labels:
        app: backend
        azure.workload.identity/use: "true"
```
"#),
    check,
};

/// Metadata above the pod template that never reaches a pod, per template
/// location: the workload's own, and a CronJob's job template.
fn outer_metadata(template: &str) -> &'static [&'static str] {
    match template {
        "/spec/template" => &["/metadata"],
        "/spec/jobTemplate/spec/template" => &["/metadata", "/spec/jobTemplate/metadata"],
        _ => &[],
    }
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods() {
        if pod.label(USE_LABEL).is_some() {
            continue;
        }
        for meta in outer_metadata(pod.template) {
            let labels = crate::objects::at(&pod.object.doc.value, meta).and_then(|m| m.field("labels"));
            if labels.and_then(|l| l.get(USE_LABEL)).is_none() {
                continue;
            }
            out.push(Finding::new(
                &RULE,
                pod.index,
                format!("{meta}/labels/{}", escape_pointer_segment(USE_LABEL)),
                format!(
                    "label `{USE_LABEL}` is on the {} {}/{} itself, not on its pod template, so no pod is opted in",
                    pod.object.kind, pod.object.namespace, pod.object.name
                ),
                format!("move `{USE_LABEL}: \"true\"` to `{}/metadata/labels`", pod.template.trim_start_matches('/').replace('/', ".")),
            ));
        }
    }
}
