//! `migrate`: from aad-pod-identity to Workload ID.
//!
//! aad-pod-identity gives a pod an identity by label: the pod's
//! `aadpodidbinding` label equals an `AzureIdentityBinding`'s selector,
//! whose `azureIdentity` names an `AzureIdentity` (a user-assigned managed
//! identity when its type is 0). Workload ID gives it by ServiceAccount: the
//! ServiceAccount carries the identity's client ID, the identity trusts the
//! ServiceAccount through a federated credential (FIC) whose subject is
//! `system:serviceaccount:<namespace>:<name>`, and the pod opts in with the
//! `azure.workload.identity/use` label. This module plans that move from the
//! objects (files or `kubectl get -A -o json` dumps) and says what it cannot
//! decide for the user.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};

use crate::generate::text::bash;
use crate::generate::{aso, default_fic_name, hashed_fic_name};
use crate::objects::{Controller, Inventory, Object, PodView, Role, at, controllers};
use crate::options::OptionError;
use crate::render::yaml_stream;
use crate::rules::issuer_problem;
use crate::source::{InputError, SourceFile};
use crate::wellknown::*;
use crate::{Location, patch};

/// What `migrate` is told beyond the objects.
#[derive(Debug, Clone, Default)]
pub struct MigrateOptions {
    /// The cluster's OIDC issuer (`--issuer`); taken from `az aks show`
    /// output among the inputs when not given.
    pub issuer: Option<String>,
    pub default_namespace: String,
    /// Also annotate each migrated pod template for the webhook's proxy
    /// sidecar, for applications whose SDK only speaks IMDS.
    pub proxy_sidecar: bool,
}

/// A file the migration writes (`-o DIR`) or prints.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    pub file_name: String,
    pub content: String,
}

/// One workload's change: its labels (and `serviceAccountName` when it
/// used the deprecated `serviceAccount` field), as an RFC 6902 patch.
#[derive(Debug, Clone)]
pub struct WorkloadChange {
    pub at: Location,
    pub service_account: String,
    pub client_id: String,
    pub patch: Vec<patch::Operation>,
}

/// Something a person has to decide; the rest is still planned.
#[derive(Debug, Clone, PartialEq)]
pub struct ManualStep {
    pub at: Location,
    pub message: String,
}

/// One federated credential the migration creates.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCredential {
    /// The identity's Azure resource ID (`AzureIdentity.spec.resourceID`).
    pub identity_id: String,
    pub name: String,
    pub namespace: String,
    pub service_account: String,
    pub subject: String,
    /// Already among the inputs (an `az identity federated-credential list`
    /// entry or an ASO object with this issuer and subject): not written again.
    pub exists: bool,
}

#[derive(Debug, Clone)]
pub struct Migration {
    pub issuer: String,
    pub artifacts: Vec<Artifact>,
    pub credentials: Vec<PlannedCredential>,
    pub changes: Vec<WorkloadChange>,
    pub manual: Vec<ManualStep>,
    /// The human report: what was planned, what needs a person, next steps.
    pub report: String,
}

#[derive(Debug, Clone)]
pub enum MigrateFailure {
    Input(Vec<InputError>),
    Options(OptionError),
}

/// On an `AzureIdentity`: match pods of its own namespace only.
const NAMESPACED_ANNOTATION: &str = "aadpodidentity.k8s.io/Behavior";

/// An `AzureIdentity`.
struct PodIdentity<'a> {
    object: &'a Object,
    /// 0: user-assigned managed identity; 1: service principal; 2: service
    /// principal with a certificate.
    kind: Option<i64>,
    resource_id: Option<&'a str>,
    client_id: Option<&'a str>,
}

/// An `AzureIdentityBinding`.
struct Binding<'a> {
    index: usize,
    object: &'a Object,
    identity: &'a str,
    selector: &'a str,
}

/// Where a user-assigned identity lives, from its resource ID
/// `/subscriptions/S/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IdentityId {
    pub subscription: String,
    pub resource_group: String,
    pub name: String,
}

impl IdentityId {
    pub fn parse(id: &str) -> Option<IdentityId> {
        let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
        match parts[..] {
            [s, sub, g, rg, p, provider, t, name]
                if s.eq_ignore_ascii_case("subscriptions")
                    && g.eq_ignore_ascii_case("resourceGroups")
                    && p.eq_ignore_ascii_case("providers")
                    && provider.eq_ignore_ascii_case("Microsoft.ManagedIdentity")
                    && t.eq_ignore_ascii_case("userAssignedIdentities")
                    // Azure's own name rules (resource groups also allow
                    // `.` and parentheses): nothing a script could misread.
                    && [sub, rg, name].iter().all(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))) =>
            {
                Some(IdentityId { subscription: sub.to_string(), resource_group: rg.to_string(), name: name.to_string() })
            }
            _ => None,
        }
    }
}

/// Plans the migration of every workload with an `aadpodidbinding` label.
pub fn migrate(files: &[SourceFile], options: &MigrateOptions) -> Result<Migration, MigrateFailure> {
    let objects = crate::objects::load(files, &options.default_namespace).map_err(MigrateFailure::Input)?;
    let inventory = Inventory::new(&objects);
    invalid_names(&inventory).map_err(MigrateFailure::Input)?;
    let issuer = issuer(&inventory, options).map_err(MigrateFailure::Options)?;
    Ok(plan(&inventory, issuer, options))
}

/// Names migrate writes into YAML, scripts and subjects: the namespace and
/// ServiceAccount of every labelled workload must be what the API server
/// accepts, or the plan would target objects that cannot exist (and a
/// newline in a name would end a line of the script).
fn invalid_names(inventory: &Inventory) -> Result<(), Vec<InputError>> {
    let mut errors = Vec::new();
    for pod in inventory.pods().filter(|p| p.label(AAD_POD_IDENTITY_LABEL).is_some()) {
        let object = pod.object;
        let mut refuse = |pointer: String, what: &str, value: &str, rule: &str| {
            errors.push(InputError {
                file: object.file.clone(),
                line: object.doc.line_of(&pointer),
                column: 0,
                message: format!("{}: {what} {value:?} is not a valid Kubernetes name ({rule})", describe(object)),
            });
        };
        if !is_dns_label(&object.namespace) {
            refuse("/metadata/namespace".into(), "namespace", &object.namespace, "a DNS label: lower-case letters, digits and `-`");
        }
        let sa = pod.service_account();
        if !is_object_name(sa) {
            refuse(pod.spec_pointer("/serviceAccountName"), "ServiceAccount", sa, "a DNS subdomain: lower-case letters, digits, `-` and `.`");
        }
        if !object.name.is_empty() && !is_object_name(&object.name) {
            refuse("/metadata/name".into(), "name", &object.name, "a DNS subdomain: lower-case letters, digits, `-` and `.`");
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

fn issuer(inventory: &Inventory, options: &MigrateOptions) -> Result<String, OptionError> {
    let refuse = |message: String| OptionError { field: "issuer".into(), message };
    let issuer = match &options.issuer {
        Some(issuer) => issuer.clone(),
        None => {
            let found = inventory.cluster_issuers();
            match found[..] {
                [one] => one.to_string(),
                [] => return Err(refuse("is needed: the federated credentials' issuer (`az aks show --query oidcIssuerProfile.issuerUrl -o tsv`), or that `az aks show -o json` output among the inputs".into())),
                _ => return Err(refuse(format!("is needed: the `az aks show` outputs among the inputs name {} issuers", found.len()))),
            }
        }
    };
    match issuer_problem(&issuer) {
        Err(why) => Err(refuse(format!("{issuer:?} {why}"))),
        // Every AKS issuer ends in `/`, and Entra compares exactly.
        Ok(true) => Ok(format!("{issuer}/")),
        Ok(false) => Ok(issuer),
    }
}

fn describe(object: &Object) -> String {
    format!("{} {}/{}", object.kind, object.namespace, object.name)
}

/// A workload that still uses aad-pod-identity.
struct Legacy<'a> {
    pod: PodView<'a>,
    selector: &'a str,
}

fn str_at<'a>(o: &'a Object, pointer: &str) -> Option<&'a str> {
    at(&o.doc.value, pointer).and_then(Value::as_str)
}

fn plan(inventory: &Inventory, issuer: String, options: &MigrateOptions) -> Migration {
    let objects = inventory.objects;
    let aad = |o: &Object, kind: &str| o.role == Role::AadPodIdentity && o.kind == kind;
    let identities: Vec<PodIdentity> = objects
        .iter()
        .filter(|o| aad(o, "AzureIdentity"))
        .map(|object| PodIdentity {
            object,
            // The CRD's `type` is an integer; hand-written files sometimes quote it.
            kind: match at(&object.doc.value, "/spec/type") {
                None | Some(Value::Null) => Some(0),
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                Some(_) => None,
            },
            resource_id: str_at(object, "/spec/resourceID").filter(|s| !s.is_empty()),
            client_id: str_at(object, "/spec/clientID").filter(|s| !s.is_empty()),
        })
        .collect();
    let bindings: Vec<Binding> = objects
        .iter()
        .enumerate()
        .filter(|(_, o)| aad(o, "AzureIdentityBinding"))
        .map(|(index, object)| Binding {
            index,
            object,
            identity: str_at(object, "/spec/azureIdentity").unwrap_or(""),
            selector: str_at(object, "/spec/selector").unwrap_or(""),
        })
        .collect();

    // Workloads labelled for aad-pod-identity, except those a controller in
    // the inputs manages: the change belongs to the controller (a pod's
    // `serviceAccountName` cannot even be changed).
    let controllers = controllers(objects);
    let mut manual = Vec::new();
    let mut legacy = Vec::new();
    for pod in inventory.pods() {
        let Some(selector) = pod.label(AAD_POD_IDENTITY_LABEL) else { continue };
        let object = pod.object;
        let Some(selector) = selector.as_str() else {
            manual.push(ManualStep {
                at: Location::of(object, &pod.meta_pointer("labels", AAD_POD_IDENTITY_LABEL)),
                message: format!("{}: label `{AAD_POD_IDENTITY_LABEL}` is not a string", describe(object)),
            });
            continue;
        };
        match controllers[pod.index] {
            Some(Controller { in_inputs: true, .. }) => continue,
            Some(Controller { kind, name, .. }) => {
                manual.push(ManualStep {
                    at: Location::of(object, ""),
                    message: format!(
                        "{} is managed by {kind} {name}, which is not among the inputs: make the change there (give its manifest or `kubectl get {} -n {} -o json` to migrate)",
                        describe(object),
                        kind.to_ascii_lowercase(),
                        object.namespace
                    ),
                });
                // Its identity and ServiceAccount are still planned below.
                legacy.push((Legacy { pod, selector }, false));
            }
            None => legacy.push((Legacy { pod, selector }, true)),
        }
    }

    // Which namespaces use each binding: one used from several is a
    // decision about who may use the identity, not a mechanical change.
    let mut binding_namespaces: BTreeMap<usize, BTreeSet<&str>> = BTreeMap::new();
    // An identity annotated `aadpodidentity.k8s.io/Behavior: namespaced`
    // serves pods of its own namespace only, whatever mode NMI runs in.
    let namespaced = |b: &Binding| {
        identities.iter().any(|i| {
            i.object.name == b.identity
                && i.object.namespace == b.object.namespace
                && crate::objects::object_annotation(i.object, NAMESPACED_ANNOTATION).and_then(Value::as_str) == Some("namespaced")
        })
    };
    let matches = |legacy: &Legacy| -> Vec<&Binding> {
        let same: Vec<&Binding> = bindings.iter().filter(|b| b.selector == legacy.selector && b.object.namespace == legacy.pod.object.namespace).collect();
        // aad-pod-identity matches across namespaces unless it runs with
        // --forceNamespaced; a binding in the pod's own namespace is the
        // one that mode would pick.
        if same.is_empty() { bindings.iter().filter(|b| b.selector == legacy.selector && !namespaced(b)).collect() } else { same }
    };
    for (l, _) in &legacy {
        for b in matches(l) {
            binding_namespaces.entry(b.index).or_default().insert(l.pod.object.namespace.as_str());
        }
    }

    // Each workload resolved to one identity, or a manual step.
    struct Resolved<'a, 'b> {
        legacy: &'b Legacy<'a>,
        change: bool,
        identity: &'b PodIdentity<'a>,
        identity_id: IdentityId,
        resource_id: &'a str,
        client_id: &'a str,
    }
    let mut resolved: Vec<Resolved> = Vec::new();
    for (l, change) in &legacy {
        let object = l.pod.object;
        let label_at = Location::of(object, &l.pod.meta_pointer("labels", AAD_POD_IDENTITY_LABEL));
        let mut refuse = |message: String| manual.push(ManualStep { at: label_at.clone(), message: format!("{}: {message}", describe(object)) });
        let found = matches(l);
        let binding = match found[..] {
            [] => {
                refuse(format!("no AzureIdentityBinding with selector {:?} among the inputs; give the bindings and identities (`kubectl get azureidentitybinding,azureidentity -A -o json`)", l.selector));
                continue;
            }
            [one] => one,
            _ => {
                let names: Vec<String> = found.iter().map(|b| format!("{}/{}", b.object.namespace, b.object.name)).collect();
                refuse(format!(
                    "selector {:?} binds {} identities ({}); a ServiceAccount names one client ID: choose the one the application uses by default, and federate the others to the same ServiceAccount by hand",
                    l.selector,
                    names.len(),
                    crate::rules::listed(&names)
                ));
                continue;
            }
        };
        let namespaces = &binding_namespaces[&binding.index];
        if namespaces.len() > 1 {
            let names: Vec<&str> = namespaces.iter().copied().collect();
            refuse(format!(
                "AzureIdentityBinding {}/{} is used from namespaces {}: with Workload ID each namespace needs its own ServiceAccount and federated credential; decide which namespaces keep this identity, then migrate them one by one",
                binding.object.namespace,
                binding.object.name,
                crate::rules::listed(&names)
            ));
            continue;
        }
        let Some(identity) = identities.iter().find(|i| i.object.name == binding.identity && i.object.namespace == binding.object.namespace) else {
            refuse(format!(
                "AzureIdentityBinding {}/{} names AzureIdentity {:?}, which is not among the inputs",
                binding.object.namespace, binding.object.name, binding.identity
            ));
            continue;
        };
        let id_name = format!("AzureIdentity {}/{}", identity.object.namespace, identity.object.name);
        match identity.kind {
            Some(0) => {}
            Some(kind @ (1 | 2)) => {
                refuse(format!(
                    "{id_name} is a service principal (type {kind}), not a managed identity: federate its app registration by hand (`az ad app federated-credential create --id {} --parameters credential.json` with issuer {issuer:?} and subject {:?}) and remove its client secret",
                    identity.client_id.unwrap_or("APP_ID"),
                    subject(&object.namespace, l.pod.service_account())
                ));
                continue;
            }
            _ => {
                refuse(format!("{id_name} has a `spec.type` that is not 0, 1 or 2"));
                continue;
            }
        }
        let (Some(resource_id), Some(client_id)) = (identity.resource_id, identity.client_id) else {
            refuse(format!("{id_name} lacks `spec.resourceID` or `spec.clientID`"));
            continue;
        };
        if !is_guid(client_id) {
            refuse(format!("{id_name}'s clientID {client_id:?} is not a GUID"));
            continue;
        }
        let Some(identity_id) = IdentityId::parse(resource_id) else {
            refuse(format!("{id_name}'s resourceID {resource_id:?} is not a user-assigned identity's resource ID"));
            continue;
        };
        let pod_identity_classes: Vec<&str> = crate::consumers::mounted_classes(&l.pod)
            .into_iter()
            .filter(|(_, class, _)| {
                objects.iter().filter_map(crate::consumers::ProviderClass::of).any(|c| c.name() == *class && c.object.namespace == object.namespace && c.flag("usePodIdentity"))
            })
            .map(|(_, class, _)| class)
            .collect();
        if !pod_identity_classes.is_empty() {
            refuse(format!(
                "mounts SecretProviderClass {} with `usePodIdentity: \"true\"`, which stops working with the label: set its `usePodIdentity: \"false\"` and `clientID: {client_id}` in the same change (WI052), then migrate again",
                crate::rules::listed(&pod_identity_classes)
            ));
            continue;
        }
        if l.pod.service_account() == DEFAULT_SERVICE_ACCOUNT {
            refuse(format!(
                "runs as its namespace's `default` ServiceAccount: federating that would give {} to every pod in {} without its own; create a ServiceAccount for it (such as `{}`), set `serviceAccountName`, then migrate again",
                id_name,
                object.namespace,
                object.name
            ));
            continue;
        }
        resolved.push(Resolved { legacy: l, change: *change, identity, identity_id, resource_id, client_id });
    }

    // A ServiceAccount carries one client ID: two workloads on one
    // ServiceAccount with different identities need a person.
    let mut by_service_account: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for r in &resolved {
        by_service_account.entry((r.legacy.pod.object.namespace.as_str(), r.legacy.pod.service_account())).or_default().insert(r.client_id);
    }
    resolved.retain(|r| {
        let ns = r.legacy.pod.object.namespace.as_str();
        let sa = r.legacy.pod.service_account();
        let ids = &by_service_account[&(ns, sa)];
        let existing = inventory
            .service_account(ns, sa)
            .and_then(|(_, o)| crate::objects::object_annotation(o, CLIENT_ID_ANNOTATION))
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty() && !id.eq_ignore_ascii_case(r.client_id));
        let object = r.legacy.pod.object;
        let at = Location::of(object, &r.legacy.pod.spec_pointer("/serviceAccountName"));
        if ids.len() > 1 {
            let ids: Vec<&str> = ids.iter().copied().collect();
            manual.push(ManualStep {
                at,
                message: format!("{}: ServiceAccount {ns}/{sa} is shared by workloads with different identities ({}); give each its own ServiceAccount", describe(object), ids.join(", ")),
            });
            return false;
        }
        if let Some(existing) = existing {
            manual.push(ManualStep {
                at,
                message: format!(
                    "{}: ServiceAccount {ns}/{sa} already names client ID {existing}, not {}'s {}; give the workload its own ServiceAccount",
                    describe(object),
                    r.identity.object.name,
                    r.client_id
                ),
            });
            return false;
        }
        true
    });

    // One credential per identity and ServiceAccount, named as generate
    // names them; names stay unique per identity.
    let mut credentials: Vec<PlannedCredential> = Vec::new();
    let mut names: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for r in &resolved {
        let ns = r.legacy.pod.object.namespace.as_str();
        let sa = r.legacy.pod.service_account();
        if credentials.iter().any(|c| c.identity_id == r.resource_id && c.namespace == ns && c.service_account == sa) {
            continue;
        }
        let subject = subject(ns, sa);
        let taken = names.entry(r.resource_id).or_default();
        let mut name = default_fic_name(ns, sa);
        if taken.contains(&name.to_ascii_lowercase()) {
            name = hashed_fic_name(&name, ns, sa);
        }
        taken.insert(name.to_ascii_lowercase());
        let exists = inventory.federated_credentials().any(|(_, _, f)| {
            f.identity.as_deref().is_some_and(|key| key.eq_ignore_ascii_case(&r.identity_id.name) || key.ends_with(&format!("/{}", r.identity_id.name.to_ascii_lowercase())))
                && f.subject.as_deref() == Some(subject.as_str())
                && f.issuer.as_deref() == Some(issuer.as_str())
        });
        credentials.push(PlannedCredential { identity_id: r.resource_id.to_string(), name, namespace: ns.to_string(), service_account: sa.to_string(), subject, exists });
    }
    let per_identity = credentials.iter().fold(BTreeMap::<&str, usize>::new(), |mut m, c| {
        *m.entry(c.identity_id.as_str()).or_default() += 1;
        m
    });
    for (id, count) in per_identity.iter().filter(|(_, n)| **n > MAX_FICS_PER_IDENTITY) {
        if let Some(r) = resolved.iter().find(|r| r.resource_id == *id) {
            manual.push(ManualStep {
                at: Location::of(r.identity.object, ""),
                message: format!("identity {id} would need {count} federated credentials; Entra allows {MAX_FICS_PER_IDENTITY} per identity (WI024): split the workloads over more identities"),
            });
        }
    }

    // The workloads' changes.
    let mut changes = Vec::new();
    let mut workloads = Vec::new();
    for r in resolved.iter().filter(|r| r.change) {
        let pod = r.legacy.pod;
        let object = pod.object;
        let mut value = object.doc.value.clone();
        let Some(template) = value.pointer_mut(pod.template) else { continue };
        if let Some(labels) = template.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
            labels.remove(AAD_POD_IDENTITY_LABEL);
            labels.insert(USE_LABEL.to_string(), json!("true"));
        }
        if options.proxy_sidecar {
            if let Some(metadata) = template.get_mut("metadata").and_then(Value::as_object_mut) {
                let annotations = metadata.entry("annotations").or_insert_with(|| json!({}));
                if let Some(annotations) = annotations.as_object_mut() {
                    annotations.insert(INJECT_PROXY_ANNOTATION.to_string(), json!("true"));
                }
            }
        }
        if let Some(spec) = template.get_mut("spec").and_then(Value::as_object_mut) {
            // The deprecated `serviceAccount` alone: name it the current way.
            if !spec.get("serviceAccountName").and_then(Value::as_str).is_some_and(|n| !n.is_empty()) {
                spec.insert("serviceAccountName".into(), json!(pod.service_account()));
            }
        }
        let ops = patch::diff(&object.doc.value, &value);
        strip_server_fields(&mut value);
        // An object that took its namespace from `-n` gets it written, so
        // `kubectl apply` puts it beside its ServiceAccount.
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("namespace".into(), json!(object.namespace));
        }
        workloads.push(value);
        changes.push(WorkloadChange { at: Location::of(object, ""), service_account: pod.service_account().to_string(), client_id: r.client_id.to_string(), patch: ops });
    }

    // The ServiceAccounts, each with its identity's client ID.
    let mut service_accounts = Vec::new();
    let mut written = BTreeSet::new();
    for r in &resolved {
        let ns = r.legacy.pod.object.namespace.as_str();
        let sa = r.legacy.pod.service_account();
        if !written.insert((ns, sa)) {
            continue;
        }
        service_accounts.push(service_account(inventory, ns, sa, r.client_id));
    }

    manual.sort_by(|a, b| (&a.at.file, a.at.line, &a.message).cmp(&(&b.at.file, b.at.line, &b.message)));
    manual.dedup();
    // aad-pod-identity objects can go once nothing still relies on them: a
    // binding when every workload it matches has moved, an identity when
    // all its bindings can go.
    let moved: BTreeSet<usize> = resolved.iter().filter(|r| r.change).map(|r| r.legacy.pod.index).collect();
    let mut kept: BTreeSet<usize> = BTreeSet::new();
    for (l, _) in &legacy {
        if !moved.contains(&l.pod.index) {
            kept.extend(matches(l).iter().map(|b| b.index));
        }
    }
    let removable_bindings: Vec<&Binding> = bindings.iter().filter(|b| !kept.contains(&b.index)).collect();
    let leftovers: Vec<&Object> = identities
        .iter()
        .filter(|i| {
            bindings
                .iter()
                .filter(|b| b.identity == i.object.name && b.object.namespace == i.object.namespace)
                .all(|b| !kept.contains(&b.index))
        })
        .map(|i| i.object)
        .chain(removable_bindings.iter().map(|b| b.object))
        .collect();
    let artifacts = artifacts(&issuer, &service_accounts, &credentials, &workloads);
    let report = report(&issuer, &credentials, &changes, &manual, &leftovers, options);
    Migration { issuer, artifacts, credentials, changes, manual, report }
}

pub fn subject(namespace: &str, service_account: &str) -> String {
    format!("system:serviceaccount:{namespace}:{service_account}")
}

/// Fields the API server sets: a dump's object written back without them
/// applies as a manifest instead of conflicting on `resourceVersion`.
fn strip_server_fields(value: &mut Value) {
    if let Some(map) = value.as_object_mut() {
        map.remove("status");
    }
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in ["uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "selfLink"] {
            meta.remove(field);
        }
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
            annotations.remove("deployment.kubernetes.io/revision");
        }
        if meta.get("annotations").and_then(Value::as_object).is_some_and(|a| a.is_empty()) {
            meta.remove("annotations");
        }
    }
}

/// The ServiceAccount as the inputs have it (when they do), with the
/// client-id annotation, built through k8s-openapi's type.
fn service_account(inventory: &Inventory, namespace: &str, name: &str, client_id: &str) -> Value {
    let mut account: ServiceAccount = inventory
        .service_account(namespace, name)
        .and_then(|(_, o)| {
            let mut value = o.doc.value.clone();
            strip_server_fields(&mut value);
            serde_json::from_value(value).ok()
        })
        .unwrap_or_else(|| ServiceAccount {
            metadata: ObjectMeta { name: Some(name.to_string()), ..Default::default() },
            ..Default::default()
        });
    account.metadata.namespace = Some(namespace.to_string());
    account.metadata.annotations.get_or_insert_with(Default::default).insert(CLIENT_ID_ANNOTATION.to_string(), client_id.to_string());
    let mut value = serde_json::to_value(account).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), json!("v1"));
        map.insert("kind".into(), json!("ServiceAccount"));
    }
    value
}

pub const SERVICE_ACCOUNTS_FILE: &str = "serviceaccounts.yaml";
pub const AZ_FILE: &str = "federated-credentials.sh";
pub const ASO_FILE: &str = "federated-credentials-aso.yaml";
pub const WORKLOADS_FILE: &str = "workloads.yaml";
pub const REPORT_FILE: &str = "migration-report.txt";

fn artifacts(issuer: &str, service_accounts: &[Value], credentials: &[PlannedCredential], workloads: &[Value]) -> Vec<Artifact> {
    let to_create: Vec<&PlannedCredential> = credentials.iter().filter(|c| !c.exists).collect();
    let mut out = Vec::new();
    let mut yaml = String::from("# ServiceAccounts for Workload ID, each annotated with its identity's client ID:\n# written by `kubectl wi migrate`. Apply with: kubectl apply -f serviceaccounts.yaml\n");
    yaml.push_str(&yaml_stream(service_accounts));
    out.push(Artifact { file_name: SERVICE_ACCOUNTS_FILE.into(), content: yaml });

    let mut sh = String::from("#!/usr/bin/env bash\n# Federated credentials for Workload ID: written by `kubectl wi migrate`.\n");
    sh.push_str("# One per identity and ServiceAccount, created one after another (Azure refuses\n# concurrent credential writes on one identity). One that exists is left alone;\n# one of the same name for another subject stops the script.\n");
    sh.push_str("set -euo pipefail\n\n");
    sh.push_str(&format!("ISSUER={}\n", bash(issuer)));
    for c in &to_create {
        let Some(id) = IdentityId::parse(&c.identity_id) else { continue };
        let fic = format!(
            "--name {} --identity-name {} --resource-group {} --subscription {}",
            bash(&c.name),
            bash(&id.name),
            bash(&id.resource_group),
            bash(&id.subscription)
        );
        let subject = bash(&c.subject);
        sh.push_str(&format!("\n# {}/{} -> {}\n", c.namespace, c.service_account, id.name));
        sh.push_str(&format!("EXISTING=\"$(az identity federated-credential show {fic} --query \"join(' ', [issuer, subject])\" --output tsv 2>/dev/null || true)\"\n"));
        sh.push_str("if [ -z \"$EXISTING\" ]; then\n");
        sh.push_str(&format!("  az identity federated-credential create {fic} --issuer \"$ISSUER\" --subject {subject} --audiences {TOKEN_EXCHANGE_AUDIENCE} --output none\n"));
        // A credential of this name for another subject belongs to someone
        // else (an earlier migration): replacing it would cut them off.
        sh.push_str(&format!("elif [ \"$EXISTING\" != \"$ISSUER \"{subject} ]; then\n"));
        sh.push_str(&format!(
            "  echo {} >&2\n  exit 1\n",
            bash(&format!("error: identity {} already has a federated credential named {} for another issuer or subject; rename this one in the script", id.name, c.name))
        ));
        sh.push_str("fi\n");
    }
    out.push(Artifact { file_name: AZ_FILE.into(), content: sh });

    let aso_objects: Vec<Value> = to_create
        .iter()
        .map(|c| aso::federated_credential(&c.namespace, &c.name, aso::Owner::arm(&c.identity_id), issuer, &c.subject))
        .collect();
    let mut aso_yaml = String::from("# Federated credentials as Azure Service Operator v2 objects: written by `kubectl wi migrate`.\n# Each is owned by its existing identity's ARM ID, so ASO does not adopt the identity itself.\n");
    aso_yaml.push_str(&yaml_stream(&aso_objects));
    out.push(Artifact { file_name: ASO_FILE.into(), content: aso_yaml });

    let mut w = String::from("# The workloads with their pods opted in to Workload ID and the aadpodidbinding\n# label removed: written by `kubectl wi migrate`. Apply after the ServiceAccounts\n# and credentials. A bare Pod or a Job cannot change its pod template in place:\n# recreate those (kubectl replace --force -f workloads.yaml).\n");
    w.push_str(&yaml_stream(workloads));
    out.push(Artifact { file_name: WORKLOADS_FILE.into(), content: w });
    out
}

fn report(
    issuer: &str,
    credentials: &[PlannedCredential],
    changes: &[WorkloadChange],
    manual: &[ManualStep],
    leftovers: &[&Object],
    options: &MigrateOptions,
) -> String {
    let mut s = String::new();
    s.push_str(&format!("Migration from aad-pod-identity to Workload ID (issuer {issuer})\n\n"));
    s.push_str(&format!("Federated credentials ({}):\n", credentials.len()));
    if credentials.is_empty() {
        s.push_str("  none\n");
    }
    for c in credentials {
        let name = IdentityId::parse(&c.identity_id).map(|i| i.name).unwrap_or_default();
        let state = if c.exists { "  (exists)" } else { "" };
        s.push_str(&format!("  {name}: {} subject {}{state}\n", c.name, c.subject));
    }
    s.push_str(&format!("\nWorkload changes ({}):\n", changes.len()));
    if changes.is_empty() {
        s.push_str("  none\n");
    }
    for c in changes {
        s.push_str(&format!("  {}:{}: {} {}/{}: ServiceAccount {} (client ID {})\n", c.at.file, c.at.line, c.at.kind, c.at.namespace, c.at.name, c.service_account, c.client_id));
        for op in &c.patch {
            s.push_str(&format!("      {}\n", op.to_json()));
        }
    }
    s.push_str(&format!("\nNeeds a person ({}):\n", manual.len()));
    if manual.is_empty() {
        s.push_str("  nothing\n");
    }
    for m in manual {
        s.push_str(&format!("  {}:{}: {}\n", m.at.file, m.at.line, m.message));
    }
    s.push_str("\nNext steps:\n");
    s.push_str(&format!("  1. Create the credentials: bash {AZ_FILE} (or kubectl apply -f {ASO_FILE} with ASO).\n"));
    s.push_str(&format!("  2. kubectl apply -f {SERVICE_ACCOUNTS_FILE}, then -f {WORKLOADS_FILE}; pods restart with the token.\n"));
    if !options.proxy_sidecar {
        s.push_str("     An application whose Azure SDK predates Workload ID only speaks IMDS: migrate with\n     --proxy-sidecar to give its pods the webhook's proxy sidecar meanwhile.\n");
    }
    s.push_str("  3. Once the pods get tokens, delete the aad-pod-identity objects nothing else uses:\n");
    if leftovers.is_empty() {
        s.push_str("     none yet\n");
    }
    for o in leftovers {
        s.push_str(&format!("     kubectl delete {} {} -n {}\n", o.kind.to_ascii_lowercase(), bash_word(&o.name), bash_word(&o.namespace)));
    }
    s
}

/// A kubectl argument: Kubernetes names need no quoting, anything else is quoted.
fn bash_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')) { s.to_string() } else { bash(s) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_ids() {
        let id = IdentityId::parse("/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a").unwrap();
        assert_eq!((id.subscription.as_str(), id.resource_group.as_str(), id.name.as_str()), ("s", "rg", "id-a"));
        assert!(IdentityId::parse("/subscriptions/s/resourcegroups/rg/providers/Microsoft.Web/sites/x").is_none());
        assert!(IdentityId::parse("").is_none());
    }
}
