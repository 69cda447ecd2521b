use serde_json::Value;

use super::{Context, Finding, Rule, Severity};
use crate::objects::{FederatedCredential, Field, IdentityIndex, Object, at};
use crate::wellknown::CLIENT_ID_ANNOTATION;

pub const RULE: Rule = Rule {
    code: "WI026",
    name: "keda-operator-fic-missing",
    severity: Severity::Error,
    summary: "KEDA's `azure-workload` authentication has no federated credential for the KEDA operator's ServiceAccount",
    doc: rule_doc!(r#"## What it does
Reads KEDA `TriggerAuthentication` and `ClusterTriggerAuthentication`
objects whose `spec.podIdentity.provider` (or, for secrets read from Key
Vault, `spec.azureKeyVault.podIdentity.provider`) is `azure-workload`. When the
inputs hold federated credentials, it checks that one has the subject of
the KEDA operator's ServiceAccount,
`system:serviceaccount:<keda-namespace>:keda-operator` (`--keda-namespace`,
default `keda`), and, when the identity is in the inputs too, that the
credential sits on the identity the trigger names (`identityId`, else the
client ID on the operator's ServiceAccount).

## Why is this bad?
KEDA's scalers do not run in the scaled workload's pod: the KEDA operator
asks Entra for the token with its own ServiceAccount's token, whatever
identity the trigger names. A credential for the workload's ServiceAccount
does not help the scaler, which fails with
`AADSTS70021: No matching federated identity record found for presented
assertion. ... Assertion Subject: 'system:serviceaccount:keda:keda-operator'`
(kedacore/keda #4219, #5491). Every identity a trigger names needs a
credential for the operator (KEDA's Azure AD Workload Identity docs). The
AKS KEDA add-on runs the operator in `kube-system` (Azure/AKS #3616; AKS's
"KEDA with workload identity" page).

## Example
```yaml
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: azure-queue-auth
spec:
  podIdentity:
    provider: azure-workload
    identityId: 00000000-0000-0000-0000-000000000000
---
# The only credential: for the workload, not for KEDA.
apiVersion: managedidentity.azure.com/v1api20230131
kind: FederatedIdentityCredential
spec:
  subject: system:serviceaccount:shop:queue-reader
```

## Use instead
Add a federated credential on the same identity whose subject is the
operator's ServiceAccount:
```yaml
spec:
  subject: system:serviceaccount:keda:keda-operator
```
"#),
    check,
};

const KEDA_GROUP: &str = "keda.sh";
const KEDA_OPERATOR: &str = "keda-operator";

/// Where a trigger authentication names a pod identity: for the scaler
/// itself, and for reading its secrets from Key Vault.
const POD_IDENTITIES: [&str; 2] = ["/spec/podIdentity", "/spec/azureKeyVault/podIdentity"];

/// The `azure-workload` pod identities of a trigger authentication, each
/// with the client ID it names (`identityId`) and the pointer to report at.
fn azure_workload_identities(object: &Object) -> Vec<(Option<&str>, String)> {
    if !matches!(object.kind.as_str(), "TriggerAuthentication" | "ClusterTriggerAuthentication")
        || object.group() != KEDA_GROUP
    {
        return Vec::new();
    }
    POD_IDENTITIES
        .iter()
        .filter_map(|base| {
            let pod_identity = at(&object.doc.value, base)?;
            if pod_identity.field("provider").and_then(Value::as_str) != Some("azure-workload") {
                return None;
            }
            Some(match pod_identity.field("identityId").and_then(Value::as_str).filter(|id| !id.is_empty()) {
                Some(id) => (Some(id), format!("{base}/identityId")),
                None => (None, format!("{base}/provider")),
            })
        })
        .collect()
}

/// The KEDA operator's subject when a trigger in the inputs authenticates
/// with `azure-workload`.
pub(super) fn operator_subject_in_use(cx: &Context) -> Option<String> {
    cx.inventory.objects.iter().any(|o| !azure_workload_identities(o).is_empty()).then(|| operator_subject(cx))
}

fn operator_subject(cx: &Context) -> String {
    format!("system:serviceaccount:{}:{KEDA_OPERATOR}", cx.options.keda_namespace.as_deref().unwrap_or("keda"))
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let triggers: Vec<(usize, Option<&str>, String)> = cx
        .inventory
        .objects
        .iter()
        .enumerate()
        .flat_map(|(i, o)| azure_workload_identities(o).into_iter().map(move |(id, pointer)| (i, id, pointer)))
        .collect();
    if triggers.is_empty() || cx.inventory.federated_credentials().next().is_none() {
        return;
    }
    let namespace = cx.options.keda_namespace.as_deref().unwrap_or("keda");
    let subject = operator_subject(cx);
    let matching: Vec<&FederatedCredential> = cx.inventory.federated_credentials().map(|(_, _, f)| f).filter(|f| f.subject.as_deref() == Some(subject.as_str())).collect();
    // Without `identityId`, KEDA uses the client ID on its own ServiceAccount.
    let operator_client_id = cx.inventory.client_id_of(namespace, KEDA_OPERATOR);
    let identities = IdentityIndex::new(&cx.inventory);
    for (index, identity_id, pointer) in triggers {
        let client_id = identity_id.or(operator_client_id);
        let which = match client_id {
            Some(id) => format!("the identity with client ID {id}"),
            None => format!("the identity in the `{CLIENT_ID_ANNOTATION}` annotation of ServiceAccount `{namespace}/{KEDA_OPERATOR}`"),
        };
        // Said only while the namespace is KEDA's default.
        let elsewhere = if namespace == "keda" { "; if KEDA runs in another namespace (the AKS add-on: kube-system), say so with --keda-namespace" } else { "" };
        if matching.is_empty() {
            out.push(Finding::new(
                &RULE,
                index,
                pointer,
                format!(
                    "KEDA asks Entra for this trigger's token as its operator's ServiceAccount, but no federated credential in the inputs has subject {subject:?}; the scaler will fail with AADSTS70021"
                ),
                format!("add a federated credential with subject `{subject}` on {which}{elsewhere}"),
            ));
            continue;
        }
        let Some(names) = client_id.and_then(|id| identities.names_with_client_id(id)) else { continue };
        if !identities.any_on(&matching, names) {
            out.push(Finding::new(
                &RULE,
                index,
                pointer,
                format!(
                    "this trigger uses identity `{}`, but the credential for {subject:?} is {}; the scaler will fail with AADSTS70021",
                    names.join("`, `"),
                    identities.placements(&matching)
                ),
                format!("add a federated credential with subject `{subject}` on identity `{}`", names.join("`, `")),
            ));
        }
    }
}
