use std::collections::HashMap;

use serde_json::Value;

use super::{Context, Finding, Rule, Severity};
use crate::objects::{FederatedCredential, Identity, object_annotation};
use crate::wellknown::CLIENT_ID_ANNOTATION;

pub const RULE: Rule = Rule {
    code: "WI030",
    name: "no-matching-fic",
    severity: Severity::Error,
    summary: "Opted-in workload matches no FIC subject, or its FIC is on another identity: AADSTS70021",
    doc: rule_doc!(r#"## What it does
When the inputs contain federated identity credentials, checks that every
opted-in workload's `system:serviceaccount:<namespace>:<serviceaccount>` is the
subject of one of them. When managed identities are known too (ASO
`UserAssignedIdentity` with a client ID, `az identity show/list` output), checks
that such a credential is on the identity whose client ID the ServiceAccount
names.

## Why is this bad?
Token exchange looks for a credential on the requested identity whose issuer
and subject match the pod's token. Without one, every call fails with
`AADSTS70021: No matching federated identity record found for presented
assertion`.

## Example
A Deployment in `finance` running as `backend-sa`, and a credential with
subject `system:serviceaccount:default:backend-sa`.

## Use instead
Make the credential's subject `system:serviceaccount:finance:backend-sa`, on the
identity whose client ID annotates `backend-sa`.
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let mut by_subject: HashMap<&str, Vec<&FederatedCredential>> = HashMap::new();
    for (_, _, fic) in cx.inventory.federated_credentials() {
        if let Some(subject) = &fic.subject {
            by_subject.entry(subject.as_str()).or_default().push(fic);
        }
    }
    if cx.inventory.federated_credentials().next().is_none() {
        return;
    }
    // Subjects by their lower-case form, for the case-only near miss: one
    // lookup per pod, not a scan of every subject (10,000 pods and 10,000
    // credentials would be 10^8 comparisons).
    let mut by_folded_subject: HashMap<String, Vec<&str>> = HashMap::new();
    for subject in by_subject.keys() {
        by_folded_subject.entry(subject.to_ascii_lowercase()).or_default().push(subject);
    }
    // One identity can be in the inputs twice (an ASO object and `az
    // identity list` output): compare Azure names, never input order.
    let azure_name_of_key: HashMap<&str, &str> = cx.inventory.identities().map(|i| (i.key.as_str(), i.azure_name.as_str())).collect();
    let identity_of = |fic: &FederatedCredential| -> Option<String> {
        let key = fic.identity.as_deref()?;
        Some(match azure_name_of_key.get(key) {
            Some(name) => name.to_string(),
            // An ASO owner (`namespace/name`) not among the inputs: ASO's
            // default Azure name is the object's name.
            None => key.rsplit('/').next().unwrap_or(key).to_ascii_lowercase(),
        })
    };
    let mut identities_by_client_id: HashMap<String, Vec<&Identity>> = HashMap::new();
    for identity in cx.inventory.identities() {
        if let Some(client_id) = &identity.client_id {
            identities_by_client_id.entry(client_id.to_ascii_lowercase()).or_default().push(identity);
        }
    }
    for pod in cx.inventory.pods().filter(|p| p.opted_in()) {
        let ns = &pod.object.namespace;
        let sa_name = pod.service_account();
        let subject = format!("system:serviceaccount:{ns}:{sa_name}");
        let matching: &[&FederatedCredential] = by_subject.get(subject.as_str()).map_or(&[], Vec::as_slice);
        if matching.is_empty() {
            // Entra compares subjects case-sensitively: a credential that
            // differs only in letter case is named, with its own error.
            let mut case_only: Vec<&str> = by_folded_subject.get(&subject.to_ascii_lowercase()).cloned().unwrap_or_default();
            case_only.sort_unstable();
            let message = match case_only.first() {
                Some(near) => format!(
                    "no federated credential in the inputs has subject {subject:?}; {near:?} differs only in letter case, and Entra compares subjects case-sensitively: token exchange will fail with AADSTS7002138"
                ),
                None => format!("no federated credential in the inputs has subject {subject:?}; token exchange will fail with AADSTS70021"),
            };
            out.push(Finding::new(
                &RULE,
                pod.index,
                pod.spec_pointer("/serviceAccountName"),
                message,
                format!("create a federated credential with subject `{subject}` (in this letter case) on the identity this ServiceAccount uses"),
            ));
            continue;
        }
        // With identities known, the credential must sit on the identity
        // whose client ID the ServiceAccount carries.
        let client_id = cx
            .inventory
            .service_account(ns, sa_name)
            .and_then(|(_, sa)| object_annotation(sa, CLIENT_ID_ANNOTATION))
            .and_then(Value::as_str);
        let Some(client_id) = client_id else { continue };
        let Some(identities) = identities_by_client_id.get(&client_id.to_ascii_lowercase()) else {
            continue;
        };
        let mut names: Vec<&str> = identities.iter().map(|i| i.azure_name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        if !matching.iter().any(|f| identity_of(f).is_some_and(|n| names.contains(&n.as_str()))) {
            let mut on: Vec<String> = matching
                .iter()
                .map(|f| format!("`{}` on `{}`", f.azure_name, identity_of(f).unwrap_or_else(|| "?".to_string())))
                .collect();
            on.sort();
            out.push(Finding::new(
                &RULE,
                pod.index,
                pod.spec_pointer("/serviceAccountName"),
                format!(
                    "ServiceAccount `{sa_name}` uses client ID {client_id} (identity `{}`), but the credential for {subject:?} is {}; token exchange will fail with AADSTS70021",
                    names.join("`, `"),
                    on.join(", ")
                ),
                format!("create the federated credential on identity `{}`, or annotate the ServiceAccount with the client ID of the identity that has it", names.join("`, `")),
            ));
        }
    }
}
