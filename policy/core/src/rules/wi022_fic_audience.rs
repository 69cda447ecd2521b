use serde_json::Value;

use super::{Context, Finding, Rule, Severity};
use crate::wellknown::{IDENTITY_BINDING_AUDIENCE, TOKEN_EXCHANGE_AUDIENCE};

pub const RULE: Rule = Rule {
    code: "WI022",
    name: "fic-audience",
    severity: Severity::Error,
    summary: "FIC audiences are not exactly one value (error), or not `api://AzureADTokenExchange` (warning)",
    doc: rule_doc!(r#"## What it does
Checks a federated identity credential's audiences: exactly one value, and
that value `api://AzureADTokenExchange`.

## Why is this bad?
Entra accepts exactly one audience per credential. The webhook requests the
projected token for `api://AzureADTokenExchange`; another audience only works
with a customised webhook, and otherwise fails with `AADSTS700212`. The one
exception is AKS's identity-binding credential (`aks-identity-binding`):
pods that use a binding get tokens for `api://AKSIdentityBinding` (webhook
v1.6 with identity bindings), which that credential accepts.

## Example
```yaml
spec:
  audiences: []
```

## Use instead
```yaml
spec:
  audiences:
  - api://AzureADTokenExchange
```
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (index, _, fic) in cx.inventory.federated_credentials() {
        let name = &fic.azure_name;
        let pointer = fic.audiences_pointer.clone();
        // AKS's identity-binding credential takes the binding's audience.
        let wanted = if fic.is_identity_binding() { IDENTITY_BINDING_AUDIENCE } else { TOKEN_EXCHANGE_AUDIENCE };
        let fix = format!("set audiences to [\"{wanted}\"]");
        let values: Vec<&Value> = match &fic.audiences {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(other) => {
                out.push(Finding::new(&RULE, index, pointer, format!("federated credential `{name}` audiences is {other}, not a list"), fix));
                continue;
            }
            None if fic.unknown.audiences => continue,
            None => Vec::new(),
        };
        if values.len() != 1 {
            out.push(Finding::new(
                &RULE,
                index,
                pointer,
                format!("federated credential `{name}` has {} audiences; Entra requires exactly one", values.len()),
                fix,
            ));
        } else if values[0].as_str() != Some(wanted) {
            out.push(
                Finding::new(
                    &RULE,
                    index,
                    format!("{pointer}/0"),
                    format!("federated credential `{name}` audience is {}, not {wanted:?}, which the webhook's token carries", values[0]),
                    fix,
                )
                .severity(Severity::Warning),
            );
        }
    }
}
