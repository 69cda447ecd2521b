use super::{Context, Finding, Rule, Severity};
use crate::objects::Field;

pub const RULE: Rule = Rule {
    code: "WI004",
    name: "service-account-not-found",
    severity: Severity::Warning,
    summary: "Opted-in pod's ServiceAccount is not in the inputs",
    doc: rule_doc!(r#"## What it does
Reports opted-in pods whose ServiceAccount (`default` when
`serviceAccountName` is unset) is not among the linted manifests.

## Why is this bad?
The webhook reads the ServiceAccount to find the client ID; when it does not
exist in the namespace, pod creation is rejected. If it lives elsewhere (another
repository, created by Terraform) this is fine, which is why this is a warning:
lint it together with the pods to get the full checks.

## Example
```yaml
spec:
  serviceAccountName: workload-identity-sa   # defined nowhere
```

## Use instead
Lint the ServiceAccount with the workload (`kubectl wi lint -f app/ -f sa.yaml`),
or create it in the same namespace.
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods().filter(|p| p.opted_in()) {
        let sa_name = pod.service_account();
        if cx.inventory.service_account(&pod.object.namespace, sa_name).is_none() {
            let unset = if pod.spec.field("serviceAccountName").is_none() && pod.spec.field("serviceAccount").is_none() {
                " (serviceAccountName is unset, so the pod runs as `default`)"
            } else {
                ""
            };
            out.push(Finding::new(
                &RULE,
                pod.index,
                pod.spec_pointer("/serviceAccountName"),
                format!(
                    "ServiceAccount `{}/{sa_name}` is not in the inputs{unset}; the webhook rejects the pod if it does not exist",
                    pod.object.namespace
                ),
                format!("include ServiceAccount `{sa_name}` in namespace `{}` in the linted files", pod.object.namespace),
            ));
        }
    }
}
