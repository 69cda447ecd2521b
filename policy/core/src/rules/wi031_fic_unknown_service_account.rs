use super::{Context, Finding, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "WI031",
    name: "fic-service-account-not-found",
    severity: Severity::Warning,
    summary: "FIC subject names a ServiceAccount that is not in the inputs",
    doc: rule_doc!(r#"## What it does
Reports federated identity credentials whose well-formed subject names a
ServiceAccount that is not among the linted manifests. KEDA's operator
ServiceAccount is not asked for when a KEDA trigger in the inputs
authenticates with `azure-workload` (see WI026): KEDA's installation
creates it.

AKS's identity-binding credential (`aks-identity-binding`), whose issuer,
subject and audience AKS manages, is left alone.

## Why is this bad?
A credential for a ServiceAccount that does not exist is either stale (remove
it: it trusts whoever creates that ServiceAccount later) or points at a
misspelt name, so the real workload fails with `AADSTS70021`.

## Example
Subject `system:serviceaccount:finance:backend` while the ServiceAccount is
`backend-sa`.

## Use instead
Subject `system:serviceaccount:finance:backend-sa`.
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    // KEDA's operator ServiceAccount comes with KEDA's own installation: a
    // credential for it beside a trigger that uses it is expected (WI026).
    let keda_operator = super::wi026_keda_operator_fic::operator_subject_in_use(cx);
    // Terraform or ARM linted alone (an infrastructure repository) says
    // nothing about ServiceAccounts: only with manifests beside it.
    let manifests_given = cx.inventory.service_accounts().next().is_some();
    for (index, _, fic) in cx.inventory.federated_credentials().filter(|(_, _, f)| !f.is_identity_binding()) {
        let Some(subject) = &fic.subject else { continue };
        if fic.iac.is_some() && !manifests_given {
            continue;
        }
        let Ok((ns, name)) = super::wi020_fic_subject::parse_subject(subject) else { continue };
        if cx.inventory.service_account(ns, name).is_none() && keda_operator.as_deref() != Some(subject.as_str()) {
            out.push(Finding::new(
                &RULE,
                index,
                fic.subject_pointer.clone(),
                format!("federated credential `{}` trusts ServiceAccount `{ns}/{name}`, which is not in the inputs", fic.azure_name),
                "lint the ServiceAccount together with its credential, or fix the subject",
            ));
        }
    }
}
