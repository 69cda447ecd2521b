use super::{Context, Finding, Rule, Severity};
use crate::iac::{IssuerSource, Language};
use crate::objects::{Field, Role};

pub const RULE: Rule = Rule {
    code: "WI034",
    name: "literal-issuer",
    severity: Severity::Warning,
    summary: "FIC issuer written out while the same code defines the cluster",
    doc: rule_doc!(r#"## What it does
When Terraform or an ARM template among the inputs defines an AKS cluster,
checks that federated identity credentials written in infrastructure code
take their issuer from it (`azurerm_kubernetes_cluster.<name>.oidc_issuer_url`;
ARM: `reference(...).oidcIssuerProfile.issuerURL`) instead of a string
written out (or a variable's default).

## Why is this bad?
A cluster's issuer URL changes when the cluster is rebuilt (or moved to
another region or tenant); a credential that keeps the old URL no longer
matches the tokens, and every token exchange fails with AADSTS70021.
Referencing the cluster also orders the deployment: the credential waits
for the cluster.

## Example
```hcl
resource "azurerm_federated_identity_credential" "web" {
  issuer = "https://westeurope.oic.prod-aks.azure.com/<tenant>/<guid>/"
}
```

## Use instead
`issuer = azurerm_kubernetes_cluster.aks.oidc_issuer_url`.
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let clusters: Vec<(&str, &crate::objects::Object, &crate::iac::IacCluster)> = cx
        .inventory
        .objects
        .iter()
        .filter_map(|o| match &o.role {
            Role::IacCluster(c) => Some((o.doc.value.field("address").and_then(|a| a.as_str()).unwrap_or(&o.name), o, &**c)),
            _ => None,
        })
        .collect();
    for (index, object, fic) in cx.inventory.federated_credentials() {
        let Some(iac) = &fic.iac else { continue };
        if iac.issuer_source != IssuerSource::Literal {
            continue;
        }
        // A cluster the credential can reference: same language, same
        // module (Terraform) or template (ARM); the nearest one named.
        let nearest = clusters
            .iter()
            .filter(|(_, o, c)| c.language == iac.language && o.doc.value.field("scope").and_then(|s| s.as_str()) == Some(iac.scope.as_str()))
            .min_by_key(|(_, o, _)| (o.file != object.file, o.file.as_str(), o.doc.line));
        let Some((name, _, cluster)) = nearest else { continue };
        let how = match iac.language {
            Language::Terraform => format!("issuer = {}", cluster.issuer_reference),
            Language::Arm => format!("\"issuer\": \"{}\"", cluster.issuer_reference),
        };
        out.push(Finding::new(
            &RULE,
            index,
            fic.issuer_pointer.clone(),
            format!(
                "federated credential `{}` has its issuer written out while `{name}` is defined here; the issuer changes when the cluster is rebuilt and token exchange then fails with AADSTS70021",
                fic.azure_name
            ),
            format!("take the issuer from the cluster: `{how}`"),
        ));
    }
}
