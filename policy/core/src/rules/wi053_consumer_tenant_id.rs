use serde_json::Value;

use super::wi005_id_not_guid::guid_problem;
use super::{Context, Finding, Rule, Severity, shown};
use crate::consumers::{AZUREKV_POINTER, KeyVaultStore, ProviderClass};

pub const RULE: Rule = Rule {
    code: "WI053",
    name: "consumer-tenant-id-invalid",
    severity: Severity::Error,
    summary: "Azure SecretProviderClass or external-secrets Key Vault store has a tenant ID that is not a GUID (or none)",
    doc: rule_doc!(r#"## What it does
Checks the tenant of a Secrets Store CSI `SecretProviderClass` with
`provider: azure` (`parameters.tenantID`, or the deprecated `tenantId` it
falls back to) and of an external-secrets `SecretStore`/`ClusterSecretStore`
with `provider.azurekv` (`tenantId`): it must be a GUID (or a verified domain name such as
`contoso.onmicrosoft.com`, which Entra's authority URL also takes;
surrounding spaces are trimmed by both providers). A class with neither
key is reported too.

## Why is this bad?
The token exchange goes to `login.microsoftonline.com/<tenant>`: a
placeholder, a domain name or a typo fails every mount or sync (AADSTS90002,
tenant not found). The Azure provider refuses a class without a tenant:
`tenantId is not provided`. Sources: the provider's
`pkg/provider/types/parameters.go` (`GetTenantID`: `tenantID`, then
`tenantId`); external-secrets `apis/externalsecrets/v1/secretstore_azurekv_types.go`.

## Example
```yaml
  parameters:
    tenantID: "<TENANT_ID>"
```

## Use instead
```yaml
  parameters:
    tenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47"   # az account show --query tenantId -o tsv
```
"#),
    check,
};

const FIX: &str = "set it to the tenant's GUID: `az account show --query tenantId -o tsv`";

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (index, object) in cx.inventory.objects.iter().enumerate() {
        if let Some(class) = ProviderClass::of(object) {
            // The provider reads `tenantID` and falls back to `tenantId`.
            let (key, value) = match ["tenantID", "tenantId"].iter().find_map(|k| {
                Some((*k, class.parameters?.get(*k)?)).filter(|(_, v)| v.as_str() != Some(""))
            }) {
                Some(found) => found,
                None => {
                    out.push(Finding::new(
                        &RULE,
                        index,
                        "/spec/parameters",
                        format!("SecretProviderClass `{}` names no tenant (`tenantID`): the Azure provider refuses it with \"tenantId is not provided\"", class.name()),
                        format!("add `tenantID`: {FIX}"),
                    ));
                    continue;
                }
            };
            if let Some(problem) = problem(value) {
                out.push(Finding::new(
                    &RULE,
                    index,
                    format!("/spec/parameters/{key}"),
                    format!(
                        "SecretProviderClass `{}` parameter `{key}` {} {problem}",
                        class.name(),
                        shown(value)
                    ),
                    FIX,
                ));
            }
        } else if let Some(store) = KeyVaultStore::of(object) {
            let Some(value) = store.field("/tenantId") else {
                continue;
            };
            if let Some(problem) = problem(value) {
                out.push(Finding::new(
                    &RULE,
                    index,
                    format!("{AZUREKV_POINTER}/tenantId"),
                    format!(
                        "{} `{}` azurekv `tenantId` {} {problem}",
                        object.kind,
                        object.name,
                        shown(value)
                    ),
                    FIX,
                ));
            }
        }
    }
}

/// Both providers trim the value and hand it to Entra's authority URL,
/// which takes a tenant's GUID or one of its verified domain names.
fn problem(value: &Value) -> Option<&'static str> {
    let Some(s) = value.as_str() else { return Some("is not a string") };
    let s = s.trim();
    let domain = s.contains('.') && !s.starts_with('.') && !s.ends_with('.') && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if domain { None } else { guid_problem(s) }
}
