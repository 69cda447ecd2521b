use super::{Context, Finding, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "WI050",
    name: "cluster-workload-identity-disabled",
    severity: Severity::Error,
    summary: "AKS cluster (`az aks show` output) lacks the OIDC issuer or workload identity",
    doc: rule_doc!(r#"## What it does
Reads `az aks show -o json` output given to lint and reports a cluster whose
`oidcIssuerProfile.enabled` or `securityProfile.workloadIdentity.enabled` is
not `true`. When every such cluster in the inputs has one issuer, that
issuer is used as `--issuer` for the other rules.

## Why is this bad?
Without the OIDC issuer the cluster's tokens cannot be federated at all, and
without the workload identity add-on no webhook injects the token, the
`AZURE_*` variables or the projected volume: pods opted in with
`azure.workload.identity/use` start without them and fail at their first
token request.

## Example
```json
{"type": "Microsoft.ContainerService/ManagedClusters",
 "oidcIssuerProfile": {"enabled": false},
 "securityProfile": {"workloadIdentity": null}}
```

## Use instead
```sh
az aks update --resource-group RG --name CLUSTER --enable-oidc-issuer --enable-workload-identity
```
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (index, cluster) in cx.inventory.clusters() {
        let name = &cx.inventory.objects[index].name;
        let fix = format!(
            "az aks update --resource-group {} --name {name} --enable-oidc-issuer --enable-workload-identity",
            cx.inventory.objects[index].namespace
        );
        if !cluster.oidc_issuer_enabled {
            out.push(Finding::new(
                &RULE,
                index,
                "/oidcIssuerProfile/enabled",
                format!("AKS cluster `{name}` has no OIDC issuer: its tokens cannot be exchanged for Entra tokens (AADSTS70021)"),
                fix.clone(),
            ));
        }
        if !cluster.workload_identity_enabled {
            out.push(Finding::new(
                &RULE,
                index,
                "/securityProfile/workloadIdentity/enabled",
                format!("AKS cluster `{name}` does not run workload identity: no webhook injects the token into opted-in pods"),
                fix,
            ));
        }
    }
}
