use super::{Context, Finding, Rule, Severity};
use crate::consumers::ProviderClass;

pub const RULE: Rule = Rule {
    code: "WI052",
    name: "spc-pod-identity",
    severity: Severity::Warning,
    summary: "Azure SecretProviderClass uses aad-pod-identity (`usePodIdentity: \"true\"`)",
    doc: rule_doc!(r#"## What it does
Reports a Secrets Store CSI `SecretProviderClass` with `provider: azure` and
`parameters.usePodIdentity` true (as Go's `strconv.ParseBool` reads it).

## Why is this bad?
Pod identity mode asks aad-pod-identity's NMI for the token. aad-pod-identity
is deprecated (2022) and archived (2023), and the AKS add-on is retired:
once NMI is gone the volume no longer mounts. Any `clientID` in the class is
ignored in this mode. Sources: Azure/aad-pod-identity README (deprecation
notice); the provider's identity access modes documentation.

## Example
```yaml
  parameters:
    usePodIdentity: "true"
    keyvaultName: kv-shop
```

## Use instead
```yaml
  parameters:
    usePodIdentity: "false"
    clientID: "11111111-1111-4111-8111-111111111111"   # the pod ServiceAccount's client-id
    keyvaultName: kv-shop
```
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (index, object) in cx.inventory.objects.iter().enumerate() {
        let Some(class) = ProviderClass::of(object) else {
            continue;
        };
        if class.flag("usePodIdentity") {
            let ignored = if class.parameter("clientID").is_some_and(|id| !id.is_empty()) {
                "; its `clientID` is ignored in this mode"
            } else {
                ""
            };
            out.push(Finding::new(
                &RULE,
                index,
                "/spec/parameters/usePodIdentity",
                format!("SecretProviderClass `{}` gets its token from aad-pod-identity, which is deprecated and retired on AKS{ignored}", class.name()),
                "set `usePodIdentity: \"false\"` and `clientID` to the client ID of the ServiceAccount of the pods that mount it (Workload ID mode)",
            ));
        }
    }
}
