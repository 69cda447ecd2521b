use serde_json::Value;

use super::{Context, Finding, Rule, Severity};
use crate::objects::{Field, PodView, group_of};
use crate::wellknown::INJECT_PROXY_ANNOTATION;

pub const RULE: Rule = Rule {
    code: "WI028",
    name: "proxy-sidecar-blocks-job",
    severity: Severity::Error,
    summary: "`inject-proxy-sidecar` on a Job's pod where the proxy is an ordinary container (webhook < v1.5.0 or Kubernetes < 1.32)",
    doc: rule_doc!(r#"## What it does
Reports `azure.workload.identity/inject-proxy-sidecar` on an opted-in Job,
CronJob, or Pod owned by a Job, when the proxy would be injected as an
ordinary container: with `--webhook-version` below v1.5.0, or with
`--kubernetes-version` below 1.32 (the policy's `webhookVersion` and
`kubernetesVersion` settings). When neither version says so, it says nothing.

## Why is this bad?
A Job completes when all its pod's containers have exited. The proxy
sidecar serves tokens for as long as it runs and never exits, so the Job's
pod keeps running after the work is done and the Job never completes
(azure-workload-identity #773). v1.5.0 injects the proxy as a native
sidecar (an init container with `restartPolicy: Always`), which Kubernetes
stops when the other containers finish, but only on API servers from 1.32:
below it the webhook still injects an ordinary container.

## Example
```yaml
apiVersion: batch/v1
kind: Job
spec:
  template:
    metadata:
      labels:
        azure.workload.identity/use: "true"
      annotations:
        azure.workload.identity/inject-proxy-sidecar: "true"
```

## Use instead
Use an Azure SDK that reads the federated token itself and drop the proxy;
or run webhook v1.5.0 or later on Kubernetes 1.32 or later.
"#),
    check,
};

/// True for a Job or CronJob's template, or a Pod a Job owns.
fn runs_to_completion(pod: &PodView) -> bool {
    let object = pod.object;
    let group = object.group();
    if group == "batch" && matches!(object.kind.as_str(), "Job" | "CronJob") {
        return true;
    }
    pod.template.is_empty()
        && pod.metadata.field("ownerReferences").and_then(Value::as_array).into_iter().flatten().any(|owner| {
            // The Job tracks only the pods it controls.
            owner.field("kind").and_then(Value::as_str) == Some("Job")
                && owner.field("controller").and_then(Value::as_bool) == Some(true)
                && owner.field("apiVersion").and_then(Value::as_str).is_some_and(|v| group_of(v) == "batch")
        })
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let why = match (&cx.options.webhook_version, cx.options.kubernetes_version) {
        (Some(v), _) if v.before((1, 5, 0)) => format!("webhook {v} injects the proxy as an ordinary container"),
        (_, Some(v @ (major, minor))) if v < (1, 32) => format!("on Kubernetes {major}.{minor} the webhook injects the proxy as an ordinary container (a native sidecar needs 1.32)"),
        _ => return,
    };
    for pod in cx.inventory.pods().filter(|p| p.opted_in() && p.annotation(INJECT_PROXY_ANNOTATION).is_some() && runs_to_completion(p)) {
        out.push(Finding::new(
            &RULE,
            pod.index,
            pod.meta_pointer("annotations", INJECT_PROXY_ANNOTATION),
            format!("{why}, which never exits: the Job's pod keeps running and the Job never completes"),
            format!("remove `{INJECT_PROXY_ANNOTATION}` and use an Azure SDK that supports workload identity, or run webhook v1.5.0 or later on Kubernetes 1.32 or later"),
        ));
    }
}
