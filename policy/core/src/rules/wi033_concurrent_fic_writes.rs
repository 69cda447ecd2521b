use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::{Context, Finding, Rule, Severity};
use crate::iac::{Expansion, IacCredential, Language};
use crate::objects::{FederatedCredential, Field};

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
    // Credentials by identity, within one module or template (separate
    // deployments have no order this rule could check).
    let mut by_identity: BTreeMap<(&str, &str), Vec<(usize, &FederatedCredential, &IacCredential)>> = BTreeMap::new();
    for (index, _, fic) in cx.inventory.federated_credentials() {
        let (Some(identity), Some(iac)) = (&fic.identity, &fic.iac) else { continue };
        by_identity.entry((identity.as_str(), iac.scope.as_str())).or_default().push((index, fic, iac));
    }
    if by_identity.is_empty() {
        return;
    }
    let graph = Graph::new(cx);
    for ((identity, _), fics) in by_identity {
        let mut reported = BTreeSet::new();
        // One loop creating several credentials of this identity at once:
        // two of its instances here, or a for_each/copy of unknown size on
        // an identity that does not depend on the instance. (A `count` of
        // unknown size is often a 0-or-1 switch: not judged.)
        let mut per_declaration: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, _, iac) in &fics {
            *per_declaration.entry(iac.declaration.as_str()).or_default() += 1;
        }
        for (index, _, iac) in &fics {
            let Expansion::Instances { over, count, serial: false } = &iac.expansion else { continue };
            let here = per_declaration[iac.declaration.as_str()];
            let unknown_size = count.is_none() && over != "count" && !identity.contains("each.") && !identity.contains("[?]");
            if (here > 1 || unknown_size) && reported.insert(iac.declaration.as_str()) {
                let (what, fix) = loop_words(iac.language, over);
                let how_many = if here > 1 { format!("{here}") } else { "its".to_string() };
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
        // Two declarations that do not wait for each other. In the order a
        // deployment could run them (what a declaration waits for first),
        // every credential must wait for the one before it.
        let mut declarations: Vec<(usize, &FederatedCredential, &IacCredential)> = Vec::new();
        for entry in &fics {
            if !declarations.iter().any(|(_, _, d)| d.declaration == entry.2.declaration) {
                declarations.push(*entry);
            }
        }
        declarations.sort_by_key(|(_, _, d)| (graph.position(d), d.declaration.clone()));
        for pair in declarations.windows(2) {
            let ((_, _, earlier), (index, fic, later)) = (pair[0], pair[1]);
            if !graph.waits_for(later, earlier) && reported.insert(later.declaration.as_str()) {
                out.push(Finding::new(
                    &RULE,
                    index,
                    "",
                    format!(
                        "federated credential `{}` and `{}` are both on identity `{identity}` and neither waits for the other; Azure refuses concurrent credential writes with ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
                        fic.azure_name, earlier.declaration
                    ),
                    match later.language {
                        Language::Terraform => format!("add `depends_on = [{}]` to `{}`", earlier.declaration, later.declaration),
                        Language::Arm => format!("add `{}` to the `dependsOn` of this credential", earlier.declaration),
                    },
                ));
            }
        }
    }
}

/// The deployment graph of every resource read from infrastructure code
/// (a `time_sleep` or a gate resource can order two credentials): each
/// declaration and the ones it waits for, and a topological position
/// (what a declaration waits for comes first).
struct Graph {
    ids: HashMap<String, usize>,
    waits: Vec<Vec<usize>>,
    position: Vec<usize>,
}

impl Graph {
    fn new(cx: &Context) -> Graph {
        let mut graph = Graph { ids: HashMap::new(), waits: Vec::new(), position: Vec::new() };
        for object in cx.inventory.objects {
            let doc = &object.doc.value;
            let (Some(scope), Some(declaration), Some(depends_on)) =
                (doc.field("scope").and_then(|d| d.as_str()), doc.field("declaration").and_then(|d| d.as_str()), doc.field("dependsOn").and_then(|d| d.as_array()))
            else {
                continue;
            };
            let from = graph.id(key(scope, declaration));
            for d in depends_on.iter().filter_map(|d| d.as_str()) {
                let to = graph.id(key(scope, d));
                graph.waits[from].push(to);
            }
        }
        // Kahn's order, dependencies first, ties by name: the same order
        // whatever order the files were given in.
        let n = graph.waits.len();
        let mut names: Vec<&str> = vec![""; n];
        for (k, i) in &graph.ids {
            names[*i] = k;
        }
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut pending: Vec<usize> = vec![0; n];
        for (node, deps) in graph.waits.iter().enumerate() {
            for &d in deps {
                dependents[d].push(node);
                pending[node] += 1;
            }
        }
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<(&str, usize)>> =
            (0..n).filter(|i| pending[*i] == 0).map(|i| std::cmp::Reverse((names[i], i))).collect();
        let mut position = vec![usize::MAX; n];
        let mut next = 0;
        while let Some(std::cmp::Reverse((_, node))) = ready.pop() {
            position[node] = next;
            next += 1;
            for &d in &dependents[node] {
                pending[d] -= 1;
                if pending[d] == 0 {
                    ready.push(std::cmp::Reverse((names[d], d)));
                }
            }
        }
        // A cycle (refused by Terraform and ARM alike) comes last.
        let mut rest: Vec<usize> = (0..n).filter(|i| position[*i] == usize::MAX).collect();
        rest.sort_by_key(|i| names[*i]);
        for i in rest {
            position[i] = next;
            next += 1;
        }
        graph.position = position;
        graph
    }

    fn id(&mut self, key: String) -> usize {
        let next = self.waits.len();
        *self.ids.entry(key).or_insert_with(|| {
            self.waits.push(Vec::new());
            next
        })
    }

    fn position(&self, d: &IacCredential) -> usize {
        self.ids.get(&key(&d.scope, &d.declaration)).map_or(usize::MAX, |i| self.position[*i])
    }

    /// Whether `later` waits for `earlier`, directly or not. The walk
    /// stops at `earlier`, and never enters what comes before it in the
    /// order (nothing there can lead back to it).
    fn waits_for(&self, later: &IacCredential, earlier: &IacCredential) -> bool {
        let (Some(&from), Some(&target)) = (self.ids.get(&key(&later.scope, &later.declaration)), self.ids.get(&key(&earlier.scope, &earlier.declaration))) else {
            return false;
        };
        let floor = self.position[target];
        let mut seen = HashSet::new();
        let mut stack = vec![from];
        while let Some(node) = stack.pop() {
            if node == target {
                return true;
            }
            if seen.insert(node) {
                stack.extend(self.waits[node].iter().copied().filter(|d| self.position[*d] >= floor));
            }
        }
        false
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
