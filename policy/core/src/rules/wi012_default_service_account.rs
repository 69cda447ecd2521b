use super::{Context, Finding, Rule, Severity};
use crate::wellknown::DEFAULT_SERVICE_ACCOUNT;

pub const RULE: Rule = Rule {
    code: "WI012",
    name: "default-service-account",
    severity: Severity::Warning,
    summary: "Opted-in pod runs as the `default` ServiceAccount",
    doc: rule_doc!(r#"## What it does
Reports opted-in pods that run as the namespace's `default` ServiceAccount,
explicitly or because `serviceAccountName` is unset.

## Why is this bad?
Every pod in the namespace that does not name a ServiceAccount runs as
`default`, so federating `default` hands the Azure identity to all of them.

## Example
```yaml
spec:
  containers: [...]        # no serviceAccountName
```

## Use instead
```yaml
spec:
  serviceAccountName: backend-identity
```
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods().filter(|p| p.opted_in()) {
        if pod.service_account() == DEFAULT_SERVICE_ACCOUNT {
            out.push(Finding::new(
                &RULE,
                pod.index,
                pod.spec_pointer("/serviceAccountName"),
                "opted-in pod runs as the `default` ServiceAccount, which every pod in the namespace shares",
                "create a dedicated ServiceAccount for this workload and set `serviceAccountName`",
            ));
        }
    }
}
