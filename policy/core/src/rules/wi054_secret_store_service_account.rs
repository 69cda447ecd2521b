use serde_json::Value;

use super::{Context, Finding, Rule, Severity};
use crate::consumers::{AZUREKV_POINTER, KeyVaultStore};
use crate::objects::{Field, object_annotation};
use crate::wellknown::{CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION};

pub const RULE: Rule = Rule {
    code: "WI054",
    name: "secret-store-service-account",
    severity: Severity::Error,
    summary: "external-secrets Key Vault store with `authType: WorkloadIdentity` whose ServiceAccount gives no (or two) client IDs or tenants",
    doc: rule_doc!(r#"## What it does
For an external-secrets `SecretStore` or `ClusterSecretStore` with
`provider.azurekv.authType: WorkloadIdentity` and a `serviceAccountRef`
whose ServiceAccount is in the inputs, checks what external-secrets checks
when it builds the credential:
- the client ID comes from the ServiceAccount's
  `azure.workload.identity/client-id` annotation or from
  `authSecretRef.clientId`: exactly one of them;
- the tenant comes from `authSecretRef.tenantId` or `tenantId`, or else the
  ServiceAccount's `azure.workload.identity/tenant-id` annotation: not from
  both sides (unless `useAzureSDK: true`, where `tenantId` wins);
- a `SecretStore`'s `serviceAccountRef.namespace` may only be its own.

## Why is this bad?
Each case stops the store with an error at sync time: `missing clientID:
either serviceAccountRef or service account annotation
'azure.workload.identity/client-id' is missing`, `multiple clientID found.
Check secretRef and serviceAccountRef`, `multiple tenantID found`. Source:
external-secrets `providers/v1/azure/keyvault/keyvault.go` and
`docs/provider/azure-key-vault.md`.

## Example
```yaml
kind: SecretStore
spec:
  provider:
    azurekv:
      authType: WorkloadIdentity
      vaultUrl: https://kv-shop.vault.azure.net
      serviceAccountRef: {name: eso-reader}   # no client-id annotation
```

## Use instead
```yaml
kind: ServiceAccount
metadata:
  name: eso-reader
  annotations:
    azure.workload.identity/client-id: "11111111-1111-4111-8111-111111111111"
```
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (index, object) in cx.inventory.objects.iter().enumerate() {
        let Some(store) = KeyVaultStore::of(object) else {
            continue;
        };
        if !store.workload_identity() {
            continue;
        }
        let Some(reference) = store.field("/serviceAccountRef").filter(|r| r.is_object()) else {
            continue;
        };
        let Some(sa_name) = reference.field("name").and_then(Value::as_str) else {
            continue;
        };
        let ref_namespace = reference
            .field("namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty());
        let what = format!("{} `{}`", object.kind, object.name);
        let namespace = match (store.cluster_scoped, ref_namespace) {
            (false, Some(ns)) if ns != object.namespace => {
                out.push(Finding::new(
                    &RULE,
                    index,
                    format!("{AZUREKV_POINTER}/serviceAccountRef/namespace"),
                    format!("{what} refers to ServiceAccount {ns}/{sa_name}: a SecretStore may only use ServiceAccounts of its own namespace ({})", object.namespace),
                    "remove `serviceAccountRef.namespace`, or use a ClusterSecretStore",
                ));
                continue;
            }
            (false, _) => object.namespace.as_str(),
            (true, Some(ns)) => ns,
            // A ClusterSecretStore without a namespace uses the ServiceAccount
            // of that name in each ExternalSecret's namespace: not one object.
            (true, None) => continue,
        };
        let Some((_, sa)) = cx.inventory.service_account(namespace, sa_name) else {
            continue;
        };
        let annotation = |key: &str| {
            object_annotation(sa, key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        };
        let secret_client_id = store.field("/authSecretRef/clientId").is_some();
        let sa_origin = sa.origin();
        match (annotation(CLIENT_ID_ANNOTATION), secret_client_id) {
            (None, false) => out.push(Finding::new(
                &RULE,
                index,
                format!("{AZUREKV_POINTER}/serviceAccountRef/name"),
                format!("{what} authenticates as ServiceAccount {namespace}/{sa_name}{sa_origin}, which has no `{CLIENT_ID_ANNOTATION}` annotation: external-secrets stops with \"missing clientID\""),
                format!("annotate ServiceAccount {namespace}/{sa_name} with `{CLIENT_ID_ANNOTATION}: <the identity's client ID>`"),
            )),
            (Some(_), true) => out.push(Finding::new(
                &RULE,
                index,
                format!("{AZUREKV_POINTER}/authSecretRef/clientId"),
                format!("{what} gives a client ID in `authSecretRef.clientId` and ServiceAccount {namespace}/{sa_name}{sa_origin} gives one in its annotation: external-secrets stops with \"multiple clientID found\""),
                "keep one: remove `authSecretRef.clientId` (the annotation is the Workload ID way)",
            )),
            _ => {}
        }
        let azure_sdk = store.field("/useAzureSDK").and_then(Value::as_bool) == Some(true);
        let store_tenant = store
            .field("/tenantId")
            .or_else(|| store.field("/authSecretRef/tenantId"));
        if let (Some(_), Some(_), false) =
            (store_tenant, annotation(TENANT_ID_ANNOTATION), azure_sdk)
        {
            out.push(
                Finding::new(
                    &RULE,
                    index,
                    format!("{AZUREKV_POINTER}/tenantId"),
                    format!("{what} names a tenant and ServiceAccount {namespace}/{sa_name}{sa_origin} has an `{TENANT_ID_ANNOTATION}` annotation: external-secrets stops with \"multiple tenantID found\""),
                    format!("keep one: remove the store's `tenantId` or the ServiceAccount's `{TENANT_ID_ANNOTATION}` annotation"),
                ),
            );
        }
    }
}
