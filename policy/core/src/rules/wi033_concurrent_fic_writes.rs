use std::collections::{BTreeMap, BTreeSet};

use super::{Context, Finding, Rule, Severity};
use crate::iac::{Expansion, IacCredential, Language};
use crate::objects::FederatedCredential;

pub const RULE: Rule = Rule {
    code: "WI033",
    name: "concurrent-fic-writes",
    severity: Severity::Error,
    summary: "Terraform or ARM writes two FICs of one identity in parallel",
    doc: rule_doc!(r#"## What it does
In Terraform and ARM templates, checks that the federated identity
credentials of one managed identity are created one after another: each
must wait for the one before it, through `depends_on` or a reference
(Terraform) or `dependsOn` (ARM), directly or through other resources. A
`for_each` or `count` over credentials of one identity (Terraform), or an
ARM `copy` loop without `"mode": "serial"` and `"batchSize": 1`, creates
its instances in parallel.

## Why is this bad?
Azure refuses concurrent writes of credentials on one identity: the
deployment fails with
`ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity`, often
only on the first apply, when both are new (Azure/bicep #10928,
bicep-registry-modules #1447, terraform-provider-azurerm #19968 and #29242).

## Example
```hcl
resource "azurerm_federated_identity_credential" "web" { parent_id = azurerm_user_assigned_identity.app.id ... }
resource "azurerm_federated_identity_credential" "worker" { parent_id = azurerm_user_assigned_identity.app.id ... }
```

## Use instead
Chain them: `depends_on = [azurerm_federated_identity_credential.web]` on
the second, one resource per credential instead of `for_each`; in Bicep,
`@batchSize(1)` on the loop (ARM: `"copy": {"mode": "serial",
"batchSize": 1}`), or `dependsOn` from each credential to the previous one.
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    // The deployment graph of every resource read from infrastructure code.
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for object in cx.inventory.objects {
        let doc = &object.doc.value;
        let (Some(scope), Some(declaration), Some(depends_on)) =
            (doc.get("scope").and_then(|d| d.as_str()), doc.get("declaration").and_then(|d| d.as_str()), doc.get("dependsOn").and_then(|d| d.as_array()))
        else {
            continue;
        };
        edges.entry(key(scope, declaration)).or_default().extend(depends_on.iter().filter_map(|d| d.as_str()).map(|d| key(scope, d)));
    }
    let reaches = crate::iac::reachability(&edges);
    let ordered = |a: &IacCredential, b: &IacCredential| {
        let (a, b) = (key(&a.scope, &a.declaration), key(&b.scope, &b.declaration));
        reaches.get(&a).is_some_and(|r| r.contains(&b)) || reaches.get(&b).is_some_and(|r| r.contains(&a))
    };

    // Credentials by identity, within one module or template (separate
    // deployments have no order this rule could check).
    let mut by_identity: BTreeMap<(&str, &str), Vec<(usize, &FederatedCredential, &IacCredential)>> = BTreeMap::new();
    for (index, _, fic) in cx.inventory.federated_credentials() {
        let (Some(identity), Some(iac)) = (&fic.identity, &fic.iac) else { continue };
        by_identity.entry((identity.as_str(), iac.scope.as_str())).or_default().push((index, fic, iac));
    }
    for ((identity, _), fics) in by_identity {
        let mut reported = BTreeSet::new();
        // One loop creating several credentials at once.
        for (index, _, iac) in &fics {
            if let Expansion::Instances { over, count, serial: false } = &iac.expansion
                && count.is_none_or(|n| n > 1)
                && reported.insert(iac.declaration.as_str())
            {
                let (what, fix) = loop_words(iac.language, over);
                let how_many = count.map_or("its".to_string(), |n| format!("its {n}"));
                let named = if over == "copy" { format!("copy loop `{}`", iac.declaration) } else { format!("`{}`", iac.declaration) };
                out.push(Finding::new(
                    &RULE,
                    *index,
                    "",
                    format!("{named} creates {how_many} federated credentials on identity `{identity}` in parallel ({what}); Azure refuses with ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"),
                    fix,
                ));
            }
        }
        // Two declarations that do not wait for each other.
        let mut seen: Vec<&IacCredential> = Vec::new();
        for (index, fic, iac) in &fics {
            if let Some(other) = seen.iter().find(|o| o.declaration != iac.declaration && !ordered(o, iac))
                && reported.insert(iac.declaration.as_str())
            {
                out.push(Finding::new(
                    &RULE,
                    *index,
                    "",
                    format!(
                        "federated credential `{}` and `{}` are both on identity `{identity}` and neither waits for the other; Azure refuses concurrent credential writes with ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
                        fic.azure_name, other.declaration
                    ),
                    match iac.language {
                        Language::Terraform => format!("add `depends_on = [{}]` to `{}`", other.declaration, iac.declaration),
                        Language::Arm => format!("add `{}` to the `dependsOn` of this credential", other.declaration),
                    },
                ));
            }
            if !seen.iter().any(|o| o.declaration == iac.declaration) {
                seen.push(iac);
            }
        }
    }
}

/// A declaration in the graph: unique within its module or template.
fn key(scope: &str, declaration: &str) -> String {
    format!("{scope}\n{declaration}")
}

fn loop_words(language: Language, over: &str) -> (String, String) {
    match language {
        Language::Terraform => (
            format!("Terraform creates the instances of one `{over}` at the same time"),
            "write one resource per credential, each with `depends_on` the one before it".to_string(),
        ),
        Language::Arm => (
            "a copy loop deploys in parallel".to_string(),
            "make the loop serial: `\"copy\": {\"mode\": \"serial\", \"batchSize\": 1}` (Bicep: `@batchSize(1)`)".to_string(),
        ),
    }
}
