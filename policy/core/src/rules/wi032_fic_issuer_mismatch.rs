use super::{Context, Finding, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "WI032",
    name: "fic-issuer-mismatch",
    severity: Severity::Error,
    summary: "FIC issuer differs from `--issuer`",
    doc: rule_doc!(r#"## What it does
With `--issuer URL` (the cluster's OIDC issuer), reports federated identity
credentials whose issuer is a different string.

AKS's identity-binding credential (`aks-identity-binding`), whose issuer,
subject and audience AKS manages, is left alone.

## Why is this bad?
The credential only matches tokens from its issuer. An issuer of another
cluster, another region or without the trailing `/` gives `AADSTS70021`.

## Example
`kubectl wi lint --issuer https://eastus.oic.prod-aks.azure.com/t/c/` with a
credential for `https://westeurope.oic.prod-aks.azure.com/t/c/`.

## Use instead
The issuer printed by `az aks show --query oidcIssuerProfile.issuerUrl -o tsv`
for the cluster the workload runs on.
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(expected) = &cx.options.issuer else { return };
    for (index, _, fic) in cx.inventory.federated_credentials().filter(|(_, _, f)| !f.is_identity_binding()) {
        let Some(issuer) = &fic.issuer else { continue };
        if issuer != expected {
            out.push(Finding::new(
                &RULE,
                index,
                fic.issuer_pointer.clone(),
                format!("federated credential `{}` issuer {issuer:?} is not the cluster's issuer {expected:?}", fic.azure_name),
                format!("set the issuer to {expected:?}"),
            ));
        }
    }
}
