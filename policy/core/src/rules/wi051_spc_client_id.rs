use serde_json::Value;

use super::{Context, Finding, Rule, Severity};
use crate::consumers::{ProviderClass, mounted_classes};
use crate::objects::object_annotation;
use crate::wellknown::CLIENT_ID_ANNOTATION;

pub const RULE: Rule = Rule {
    code: "WI051",
    name: "spc-client-id-mismatch",
    severity: Severity::Error,
    summary: "Pod mounts an Azure SecretProviderClass whose `clientID` is not its ServiceAccount's client ID, or that has none",
    doc: rule_doc!(r#"## What it does
For every pod (or pod template) that mounts a Secrets Store CSI
`SecretProviderClass` with `provider: azure` from the same namespace,
compares the class's `parameters.clientID` with the
`azure.workload.identity/client-id` annotation of the pod's ServiceAccount
(when both are in the inputs). An opted-in pod that mounts a class with no
`clientID`, no other identity mode and no `nodePublishSecretRef` is
reported too.

## Why is this bad?
The Azure provider never reads the ServiceAccount's annotation: it
exchanges the pod's ServiceAccount token for the identity named in
`clientID`. When that is another identity than the ServiceAccount's, the
other identity needs its own federated credential for
`system:serviceaccount:<namespace>:<name>`; without it the volume mount
fails with `AADSTS70021: No matching federated identity record found`
(MicrosoftDocs/azure-docs#106441, secrets-store-csi-driver-provider-azure
#1092 and #1284). Without a `clientID` the provider falls back to a service
principal from `nodePublishSecretRef` and fails without one. Source:
the provider's `pkg/provider/provider.go` and its workload identity mode
documentation (`identity-access-modes/workload-identity-mode.md`).

## Example
```yaml
kind: SecretProviderClass
metadata: {name: kv, namespace: shop}
spec:
  provider: azure
  parameters:
    clientID: "22222222-2222-4222-8222-222222222222"   # another identity
    keyvaultName: kv-shop
    tenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47"
```

## Use instead
```yaml
  parameters:
    clientID: "11111111-1111-4111-8111-111111111111"   # the ServiceAccount's client-id
```
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let classes: Vec<ProviderClass> = cx
        .inventory
        .objects
        .iter()
        .filter_map(ProviderClass::of)
        .collect();
    if classes.is_empty() {
        return;
    }
    for pod in cx.inventory.pods() {
        for (pointer, name, secret_ref) in mounted_classes(&pod) {
            // The CSI driver looks the class up in the pod's namespace. When
            // the inputs hold it twice (a base and an overlay), each is
            // judged, so the result never depends on the order of files.
            for class in classes
                .iter()
                .filter(|c| c.name() == name && c.object.namespace == pod.object.namespace)
            {
                let sa_name = pod.service_account();
                let sa_client_id = cx
                    .inventory
                    .service_account(&pod.object.namespace, sa_name)
                    .and_then(|(_, sa)| object_annotation(sa, CLIENT_ID_ANNOTATION))
                    .and_then(Value::as_str)
                    .filter(|id| !id.is_empty());
                let origin = class.object.origin();
                match class.workload_identity_client_id() {
                    Some(client_id) => {
                        let Some(sa_client_id) = sa_client_id else {
                            continue;
                        };
                        if client_id.trim() != client_id && client_id.trim().eq_ignore_ascii_case(sa_client_id.trim()) {
                        out.push(Finding::new(
                            &RULE,
                            pod.index,
                            format!("{pointer}/csi/volumeAttributes/secretProviderClass"),
                            format!("mounts SecretProviderClass `{name}`{origin}, whose clientID {client_id:?} has surrounding whitespace: it names no identity as written"),
                            format!("set the class's `parameters.clientID` to {:?}", client_id.trim()),
                        ));
                        continue;
                    }
                    if client_id.eq_ignore_ascii_case(sa_client_id) {
                            continue;
                        }
                        out.push(Finding::new(
                        &RULE,
                        pod.index,
                        format!("{pointer}/csi/volumeAttributes/secretProviderClass"),
                        format!(
                            "mounts SecretProviderClass `{name}`{origin}, whose clientID {client_id} is not ServiceAccount `{sa_name}`'s client ID {sa_client_id}: the CSI driver presents this pod's token to identity {client_id}, which then needs a federated credential for system:serviceaccount:{}:{sa_name} (else AADSTS70021 fails the mount)",
                            pod.object.namespace
                        ),
                        format!("set the class's `parameters.clientID` to {sa_client_id:?}, or federate identity {client_id} with this ServiceAccount too"),
                    ));
                    }
                    None => {
                        let other_mode = class.flag("usePodIdentity")
                            || class.flag("useVMManagedIdentity")
                            || class.flag("useAzureTokenProxy");
                        if other_mode || secret_ref || !pod.opted_in() {
                            continue;
                        }
                        out.push(Finding::new(
                        &RULE,
                        pod.index,
                        format!("{pointer}/csi/volumeAttributes/secretProviderClass"),
                        format!("opted-in pod mounts SecretProviderClass `{name}`{origin}, which has no `clientID`: the Azure provider then wants a service principal secret (`nodePublishSecretRef`) and the mount fails"),
                        match sa_client_id {
                            Some(id) => format!("set the class's `parameters.clientID` to {id:?}, ServiceAccount `{sa_name}`'s client ID"),
                            None => "set the class's `parameters.clientID` to the client ID of the pod's ServiceAccount".to_string(),
                        },
                    ));
                    }
                }
            }
        }
    }
}
