use super::{Context, Finding, Rule, Severity};
use crate::wellknown::AKS_ISSUER_HOST_SUFFIX;

pub const RULE: Rule = Rule {
    code: "WI021",
    name: "fic-issuer-invalid",
    severity: Severity::Error,
    summary: "FIC issuer is not a clean https URL, or an AKS issuer lacks its trailing `/`",
    doc: rule_doc!(r#"## What it does
Checks a federated identity credential's issuer: an `https://` URL with a
host, no whitespace, no query or fragment, at most 600 characters. An AKS
issuer (`*.oic.prod-aks.azure.com`) without its trailing `/` is a warning.

AKS's identity-binding credential (`aks-identity-binding`), whose issuer,
subject and audience AKS manages, is left alone.

## Why is this bad?
Entra compares the token's `iss` claim with the issuer as a string. AKS
issuers end in `/`; `az aks show --query oidcIssuerProfile.issuerUrl` prints it
that way, and dropping it (or adding a newline from a shell variable) gives
`AADSTS70021` at run time.

## Example
```yaml
spec:
  issuer: https://eastus.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/11111111-1111-1111-1111-111111111111
```

## Use instead
```yaml
spec:
  issuer: https://eastus.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/11111111-1111-1111-1111-111111111111/
```
"#),
    check,
};

/// Why an issuer is refused (error), or `Ok(true)` when it is an AKS issuer
/// missing its trailing slash (warning).
pub(crate) fn issuer_problem(issuer: &str) -> Result<bool, String> {
    if issuer.len() > 600 {
        return Err(format!("is {} characters long, over Entra's 600", issuer.len()));
    }
    if issuer.chars().any(char::is_whitespace) {
        return Err("contains whitespace".into());
    }
    let Some(rest) = issuer.strip_prefix("https://") else {
        return Err("is not an https:// URL".into());
    };
    if issuer.contains('?') {
        return Err("has a query string".into());
    }
    if issuer.contains('#') {
        return Err("has a fragment".into());
    }
    let authority = rest.split('/').next().unwrap_or("");
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    let aks = host.to_ascii_lowercase().ends_with(AKS_ISSUER_HOST_SUFFIX);
    if aks && let Some(port) = port {
        // The token's `iss` never carries a port, and Entra compares the
        // issuer as a string: `:443` is a mismatch even though it is the
        // same server.
        return Err(format!("names port `:{port}`, which the AKS token's issuer never has (Entra compares the issuer as text)"));
    }
    Ok(aks && !issuer.ends_with('/'))
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (index, object, fic) in cx.inventory.federated_credentials().filter(|(_, _, f)| !f.is_identity_binding()) {
        let Some(issuer) = &fic.issuer else {
            // ASO may read the issuer from a ConfigMap; nothing to check here.
            if crate::objects::at(&object.doc.value, "/spec/issuerFromConfig").is_none() && !fic.unknown.issuer {
                out.push(Finding::new(
                    &RULE,
                    index,
                    fic.issuer_pointer.clone(),
                    format!("federated credential `{}` has no issuer", fic.azure_name),
                    "set the issuer to the cluster's OIDC issuer URL (`az aks show --query oidcIssuerProfile.issuerUrl -o tsv`)",
                ));
            }
            continue;
        };
        match issuer_problem(issuer) {
            Ok(false) => {}
            Ok(true) => out.push(
                Finding::new(
                    &RULE,
                    index,
                    fic.issuer_pointer.clone(),
                    format!("AKS issuer {issuer:?} lacks its trailing `/`; AKS tokens carry the issuer with it and Entra compares exactly"),
                    format!("use {:?}", format!("{issuer}/")),
                )
                .severity(Severity::Warning),
            ),
            Err(why) => out.push(Finding::new(
                &RULE,
                index,
                fic.issuer_pointer.clone(),
                format!("issuer {issuer:?} {why}"),
                "use the cluster's OIDC issuer URL exactly as `az aks show --query oidcIssuerProfile.issuerUrl -o tsv` prints it",
            )),
        }
    }
}
