use std::collections::HashMap;


use super::{Context, Finding, Rule, Severity};
use crate::objects::{FederatedCredential, IdentityIndex, PodView};
use crate::rbac::Rbac;
use crate::wellknown::{IDENTITY_BINDING_API_GROUP, IDENTITY_BINDING_VERB, USE_IDENTITY_BINDING_ANNOTATION, is_guid};

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

A pod that uses an AKS identity binding (annotation
`azure.workload.identity/use-identity-binding: "true"`) needs no credential
of its own: AKS's one `aks-identity-binding` credential on the identity
serves every binding. Its ServiceAccount needs an RBAC grant instead: verb
`use-managed-identity` on API group `cid.wi.aks.azure.com`, resource the
identity's client ID (AKS's identity-bindings page, "Authorize namespaces
and service accounts"). The grant is checked when a Role or ClusterRole
among the inputs has a rule on that API group. With `--webhook-version`
below v1.6.0, which ignores the annotation, such a pod needs its own
credential.

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

/// A pod that uses an AKS identity binding needs no credential of its
/// own (AKS's `aks-identity-binding` credential serves every binding of the
/// identity); its ServiceAccount needs the RBAC grant instead, judged when
/// RBAC objects are among the inputs.
fn check_identity_binding(cx: &Context, rbac: Option<&Rbac>, pod: &PodView, out: &mut Vec<Finding>) {
    let Some(rbac) = rbac else { return };
    let (ns, sa_name) = (pod.object.namespace.as_str(), pod.service_account());
    let client_id = cx.inventory.client_id_of(ns, sa_name).filter(|id| is_guid(id));
    // Without a client ID there is no resource to grant (WI003 and WI005
    // say so).
    let Some(client_id) = client_id else { return };
    if !rbac.allows(ns, sa_name, IDENTITY_BINDING_VERB, IDENTITY_BINDING_API_GROUP, client_id) {
        out.push(Finding::new(
            &RULE,
            pod.index,
            pod.meta_pointer("annotations", USE_IDENTITY_BINDING_ANNOTATION),
            format!(
                "the pod uses an identity binding, but no Role or ClusterRole bound to ServiceAccount `{ns}/{sa_name}` in the inputs grants `{IDENTITY_BINDING_VERB}` on `{IDENTITY_BINDING_API_GROUP}` resource `{client_id}`; AKS refuses its token"
            ),
            format!(
                "bind ServiceAccount `{ns}/{sa_name}` to a ClusterRole with the rule {{verbs: [{IDENTITY_BINDING_VERB}], apiGroups: [{IDENTITY_BINDING_API_GROUP}], resources: [\"{client_id}\"]}}"
            ),
        ));
    }
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let rbac = Rbac::new(cx.inventory.objects, IDENTITY_BINDING_API_GROUP);
    // Webhooks before v1.6 ignore the binding annotation: such a pod needs
    // its own credential like any other.
    // (Release numbers only: AKS's webhook with bindings is tagged
    // v1.6.0-alpha.1.)
    let bindings_known = cx.options.webhook_version.as_ref().is_none_or(|v| v.release >= (1, 6, 0));
    let uses_binding = |p: &PodView| bindings_known && p.uses_identity_binding();
    for pod in cx.inventory.pods().filter(|p| p.opted_in() && uses_binding(p)) {
        check_identity_binding(cx, rbac.as_ref(), &pod, out);
    }
    let mut by_subject: HashMap<&str, Vec<&FederatedCredential>> = HashMap::new();
    for (_, _, fic) in cx.inventory.federated_credentials() {
        if let Some(subject) = &fic.subject {
            by_subject.entry(subject.as_str()).or_default().push(fic);
        }
    }
    if cx.inventory.federated_credentials().next().is_none() {
        return;
    }
    // A subject that infrastructure code sets from a value known only at
    // deployment could be any of them: no "missing" claim can be made.
    let unknown_subject = cx.inventory.federated_credentials().any(|(_, _, f)| f.unknown.subject);
    // Credentials from Terraform or ARM live in other files than the
    // workloads: the message names them.
    let mut where_read = String::new();
    if cx.inventory.federated_credentials().any(|(_, _, f)| f.iac.is_some()) {
        let files: std::collections::BTreeSet<&str> = cx.inventory.federated_credentials().map(|(_, o, _)| o.file.as_str()).collect();
        where_read = format!(" (read from {})", files.into_iter().collect::<Vec<_>>().join(", "));
    }
    // Subjects by their lower-case form, for the case-only near miss: one
    // lookup per pod, not a scan of every subject (10,000 pods and 10,000
    // credentials would be 10^8 comparisons).
    let mut by_folded_subject: HashMap<String, Vec<&str>> = HashMap::new();
    for subject in by_subject.keys() {
        by_folded_subject.entry(subject.to_ascii_lowercase()).or_default().push(subject);
    }
    let identities = IdentityIndex::new(&cx.inventory);
    for pod in cx.inventory.pods().filter(|p| p.opted_in() && !uses_binding(p)) {
        let ns = &pod.object.namespace;
        let sa_name = pod.service_account();
        let subject = format!("system:serviceaccount:{ns}:{sa_name}");
        let matching: &[&FederatedCredential] = by_subject.get(subject.as_str()).map_or(&[], Vec::as_slice);
        if matching.is_empty() {
            if unknown_subject {
                continue;
            }
            // Entra compares subjects case-sensitively: a credential that
            // differs only in letter case is named, with its own error.
            let mut case_only: Vec<&str> = by_folded_subject.get(&subject.to_ascii_lowercase()).cloned().unwrap_or_default();
            case_only.sort_unstable();
            let message = match case_only.first() {
                Some(near) => format!(
                    "no federated credential in the inputs has subject {subject:?}; {near:?} differs only in letter case, and Entra compares subjects case-sensitively: token exchange will fail with AADSTS7002138"
                ),
                None => format!("no federated credential in the inputs{where_read} has subject {subject:?}; token exchange will fail with AADSTS70021"),
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
        let Some(client_id) = cx.inventory.client_id_of(ns, sa_name) else { continue };
        let Some(names) = identities.names_with_client_id(client_id) else {
            continue;
        };
        if !identities.any_on(matching, names) {
            out.push(Finding::new(
                &RULE,
                pod.index,
                pod.spec_pointer("/serviceAccountName"),
                format!(
                    "ServiceAccount `{sa_name}` uses client ID {client_id} (identity `{}`), but the credential for {subject:?} is {}; token exchange will fail with AADSTS70021",
                    names.join("`, `"),
                    identities.placements(matching)
                ),
                format!("create the federated credential on identity `{}`, or annotate the ServiceAccount with the client ID of the identity that has it", names.join("`, `")),
            ));
        }
    }
}
