use std::collections::BTreeMap;

use super::{Context, Finding, Rule, Severity};
use crate::wellknown::MAX_FICS_PER_IDENTITY;

pub const RULE: Rule = Rule {
    code: "WI024",
    name: "fic-limit",
    severity: Severity::Error,
    summary: "More than 20 FICs on one identity",
    doc: rule_doc!(r#"## What it does
Counts the federated identity credentials attached to each managed identity.

## Why is this bad?
Azure allows at most 20 federated identity credentials per user-assigned
managed identity; the 21st is refused.

## Example
21 `FederatedIdentityCredential` objects whose `spec.owner.name` is the same identity.

## Use instead
Share one ServiceAccount between workloads that need the same identity,
spread them over several identities, or use AKS identity bindings
(`az aks identity-binding create`, preview): AKS then keeps one credential
(`aks-identity-binding`) per identity for any number of clusters and
ServiceAccounts, which are authorised with RBAC instead (see WI030).
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let mut by_identity: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, _, fic) in cx.inventory.federated_credentials() {
        if let Some(identity) = &fic.identity {
            by_identity.entry(identity).or_default().push(index);
        }
    }
    for (identity, fics) in by_identity {
        for &index in fics.iter().skip(MAX_FICS_PER_IDENTITY) {
            out.push(Finding::new(
                &RULE,
                index,
                "",
                format!("identity `{identity}` has {} federated credentials; Azure allows {MAX_FICS_PER_IDENTITY}", fics.len()),
                "attach this credential to another identity, let workloads share a ServiceAccount, or use AKS identity bindings (`az aks identity-binding create`), which need one credential per identity for any number of clusters and ServiceAccounts",
            ));
        }
    }
}
