use super::{Context, Finding, Rule, Severity};
use crate::iac::Language;
use crate::objects::Role;

pub const RULE: Rule = Rule {
    code: "WI035",
    name: "workload-identity-without-oidc-issuer",
    severity: Severity::Error,
    summary: "Cluster code enables workload identity without the OIDC issuer",
    doc: rule_doc!(r#"## What it does
Checks AKS clusters defined in Terraform (`azurerm_kubernetes_cluster`,
`azapi_resource`) and ARM templates: when workload identity is enabled,
the OIDC issuer must be enabled too (`oidc_issuer_enabled = true`; ARM:
`properties.oidcIssuerProfile.enabled`).

## Why is this bad?
Workload identity exchanges the cluster's ServiceAccount tokens, which Entra
can only check against the cluster's published OIDC issuer. AKS refuses
the combination (`workload identity requires OIDC issuer`), and the plan or
deployment fails.

## Example
```hcl
resource "azurerm_kubernetes_cluster" "aks" {
  workload_identity_enabled = true
}
```

## Use instead
```hcl
  oidc_issuer_enabled       = true
  workload_identity_enabled = true
```
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (index, object) in cx.inventory.objects.iter().enumerate() {
        let Role::IacCluster(cluster) = &object.role else { continue };
        if cluster.workload_identity_enabled == Some(true) && cluster.oidc_issuer_enabled == Some(false) {
            let fix = match cluster.language {
                Language::Terraform if object.kind == "azapi_resource" => "set `body.properties.oidcIssuerProfile.enabled = true`",
                Language::Terraform => "set `oidc_issuer_enabled = true`",
                Language::Arm => "set `\"oidcIssuerProfile\": {\"enabled\": true}` in the cluster's properties",
            };
            // Reported where the issuer setting is, or would be written.
            let pointer = if object.doc.value.pointer(&cluster.oidc_issuer_pointer).is_some() { cluster.oidc_issuer_pointer.clone() } else { cluster.workload_identity_pointer.clone() };
            out.push(Finding::new(
                &RULE,
                index,
                pointer,
                format!("AKS cluster `{}` enables workload identity without the OIDC issuer; AKS refuses it, and tokens could not be exchanged without an issuer", object.name),
                fix,
            ));
        }
    }
}
