//! What each input document is, in Workload ID terms, and the cross-object
//! index the rules read: ServiceAccounts by namespace and name, federated
//! credentials, managed identities.

use std::collections::HashMap;

use serde_json::Value;

use crate::source::{Document, InputError, LineTree};
#[cfg(feature = "yaml")]
use crate::source::{SourceFile, parse_documents, split_items};
use crate::wellknown::*;

/// An input object with where it came from.
#[derive(Debug, Clone)]
pub struct Object {
    pub file: String,
    pub doc: Document,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub role: Role,
}

impl Object {
    /// The API group of its `apiVersion` (`""` for the core group).
    pub fn group(&self) -> &str {
        group_of(self.doc.value.field("apiVersion").and_then(Value::as_str).unwrap_or(""))
    }

    /// ` (file:line)` for messages that point at another object; empty for
    /// objects without a source line (admission requests, lookups).
    pub fn origin(&self) -> String {
        if self.doc.line > 0 { format!(" ({}:{})", self.file, self.doc.line) } else { String::new() }
    }
}

/// What an object means to Workload ID.
#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// A Pod, or a workload whose pod template sits at this JSON pointer.
    Workload { template: &'static str },
    ServiceAccount,
    /// Boxed, as are the other large variants: every object carries a
    /// Role, and most are not credentials.
    FederatedCredential(Box<FederatedCredential>),
    Identity(Identity),
    /// An aad-pod-identity object (`AzureIdentity`, `AzureIdentityBinding`,
    /// `AzurePodIdentityException`).
    AadPodIdentity,
    /// An AKS cluster as `az aks show -o json` prints it.
    Cluster(Cluster),
    /// An AKS cluster defined in Terraform or an ARM template.
    IacCluster(Box<crate::iac::IacCluster>),
    Other,
}

/// An AKS cluster's Workload ID settings (`az aks show -o json`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// `oidcIssuerProfile.issuerUrl`, when the issuer is enabled.
    pub issuer: Option<String>,
    pub oidc_issuer_enabled: bool,
    pub workload_identity_enabled: bool,
}

impl Cluster {
    /// The settings in `az aks show -o json` output; the issuer only when
    /// the OIDC issuer is enabled (az may still print an old URL).
    pub fn read(v: &Value) -> Cluster {
        let flag = |pointer: &str| at(v, pointer).and_then(Value::as_bool) == Some(true);
        let oidc_issuer_enabled = flag("/oidcIssuerProfile/enabled");
        Cluster {
            issuer: str_at(v, "/oidcIssuerProfile/issuerUrl").filter(|i| oidc_issuer_enabled && !i.is_empty()).map(str::to_string),
            oidc_issuer_enabled,
            workload_identity_enabled: flag("/securityProfile/workloadIdentity/enabled"),
        }
    }
}

/// A federated identity credential, from Azure Service Operator or from
/// `az identity federated-credential list/show`.
#[derive(Debug, Clone, PartialEq)]
pub struct FederatedCredential {
    /// Its Azure name (ASO `spec.azureName`, else `metadata.name`).
    pub azure_name: String,
    pub name_pointer: String,
    /// The identity it is attached to; see [`Identity::key`].
    pub identity: Option<String>,
    /// `None` when ASO reads the issuer from a ConfigMap (`issuerFromConfig`);
    /// the same holds for the subject (`subjectFromConfig`).
    pub issuer: Option<String>,
    pub issuer_pointer: String,
    pub subject: Option<String>,
    pub subject_pointer: String,
    pub audiences: Option<Value>,
    pub audiences_pointer: String,
    /// Fields infrastructure code sets from values not known before
    /// deployment: absent above, and never reported as missing.
    pub unknown: UnknownFields,
    /// Deployment order and issuer source, for credentials read from
    /// Terraform or ARM templates.
    pub iac: Option<Box<crate::iac::IacCredential>>,
}

/// Which of a credential's fields are set but not known to this reader.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnknownFields {
    pub name: bool,
    pub issuer: bool,
    pub subject: bool,
    pub audiences: bool,
}

impl FederatedCredential {
    /// The one credential AKS creates on an identity for its identity
    /// bindings: AKS manages its issuer, subject and audience, which are
    /// not a cluster's.
    pub fn is_identity_binding(&self) -> bool {
        self.azure_name == IDENTITY_BINDING_FIC_NAME
    }
}

/// A user-assigned managed identity (ASO `UserAssignedIdentity` or
/// `az identity show/list`).
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// Matches [`FederatedCredential::identity`]: ASO objects by
    /// `namespace/name`, Azure resources by lower-cased resource name.
    pub key: String,
    /// Its Azure resource name, lower-cased (ASO `spec.azureName`, else
    /// `metadata.name`): one identity seen through ASO and through `az` has
    /// two keys but this one name.
    pub azure_name: String,
    pub client_id: Option<String>,
}

/// Resolves a pod's or template's ServiceAccount name: unset means `default`.
pub fn service_account_name(pod_spec: &Value) -> &str {
    match pod_spec.field("serviceAccountName").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => name,
        _ => match pod_spec.field("serviceAccount").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => name,
            _ => DEFAULT_SERVICE_ACCOUNT,
        },
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    at(v, pointer).and_then(Value::as_str)
}

/// `Value::pointer` without its two string allocations per segment: the
/// pointers the rules use are literals, and most have no `~` escapes.
pub(crate) fn at<'a>(v: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.contains('~') {
        return v.pointer(pointer);
    }
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return None;
    }
    pointer.split('/').skip(1).try_fold(v, |v, segment| match v {
        Value::Object(map) => map.field(segment),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// `value[key]` for the mappings of a manifest: a scan of the handful of
/// keys they hold costs less than hashing the key (SipHash, in
/// serde_json's map), most of all in WebAssembly; large maps are hashed.
pub trait Field {
    fn field(&self, key: &str) -> Option<&Value>;
}

/// Up to this many keys, a scan.
const SCANNED_KEYS: usize = 12;

impl Field for serde_json::Map<String, Value> {
    fn field(&self, key: &str) -> Option<&Value> {
        if self.len() <= SCANNED_KEYS { self.iter().find_map(|(k, v)| (k == key).then_some(v)) } else { self.get(key) }
    }
}

impl Field for Value {
    fn field(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(map) => map.field(key),
            _ => None,
        }
    }
}

/// The group of an `apiVersion` (`apps/v1` -> `apps`, `v1` -> ``).
pub(crate) fn group_of(api_version: &str) -> &str {
    api_version.split_once('/').map(|(g, _)| g).unwrap_or("")
}

const AZ_IDENTITY_TYPE: &str = "microsoft.managedidentity/userassignedidentities";
const AZ_CLUSTER_TYPE: &str = "microsoft.containerservice/managedclusters";
const AZ_FIC_TYPE: &str = "microsoft.managedidentity/userassignedidentities/federatedidentitycredentials";

/// Classifies one object that arrived as JSON (an admission request), with
/// no line information.
pub fn object_from_value(file: &str, value: Value, default_namespace: &str) -> Result<Object, InputError> {
    classify(file, Document { value, lines: LineTree::default(), line: 0 }, default_namespace)
}

/// Parses every file and classifies every object. All input errors of all
/// files are returned together so a user fixes them in one pass.
#[cfg(feature = "yaml")]
pub fn load(files: &[SourceFile], default_namespace: &str) -> Result<Vec<Object>, Vec<InputError>> {
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        #[cfg(feature = "iac")]
        if file.name.ends_with(".tf.json") {
            errors.push(InputError {
                file: file.name.clone(),
                line: 0,
                column: 0,
                message: "Terraform's JSON syntax (.tf.json) is not read; only .tf files are".into(),
            });
            continue;
        }
        #[cfg(feature = "iac")]
        if file.name.ends_with(".tf") {
            match crate::iac::terraform::objects(file) {
                Ok(mut read) => objects.append(&mut read),
                Err(e) => errors.push(e),
            }
            continue;
        }
        match parse_documents(file) {
            Ok(docs) => {
                for doc in docs.into_iter().flat_map(split_items) {
                    #[cfg(feature = "iac")]
                    if crate::iac::arm::is_parameters_file(&doc.value) {
                        continue;
                    }
                    #[cfg(feature = "iac")]
                    if crate::iac::arm::is_template(&doc.value) {
                        objects.append(&mut crate::iac::arm::objects(&file.name, &doc));
                        continue;
                    }
                    match classify(&file.name, doc, default_namespace) {
                        Ok(object) => objects.push(object),
                        Err(e) => errors.push(e),
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(objects) } else { Err(errors) }
}

fn classify(file: &str, doc: Document, default_namespace: &str) -> Result<Object, InputError> {
    let error = |pointer: &str, message: String| InputError {
        file: file.to_string(),
        line: doc.line_of(pointer),
        column: 0,
        message,
    };
    let Value::Object(map) = &doc.value else {
        return Err(error("", format!("document is {}, not an object", describe(&doc.value))));
    };
    let kind = match map.field("kind") {
        Some(Value::String(k)) if !k.is_empty() => k.clone(),
        Some(other) => return Err(error("/kind", format!("field `kind` is {}, not a kind name", describe(other)))),
        None => {
            // Azure CLI output carries `type` instead of `kind`.
            if let Some(t) = map.field("type").and_then(Value::as_str) {
                let t = t.to_ascii_lowercase();
                if t == AZ_IDENTITY_TYPE || t == AZ_FIC_TYPE || t == AZ_CLUSTER_TYPE {
                    return Ok(classify_azure(file, doc, &t));
                }
            }
            return Err(error("", "object has no `kind` field".to_string()));
        }
    };
    let meta = map.field("metadata");
    if let Some(meta) = meta {
        if !meta.is_object() {
            return Err(error("/metadata", format!("field `metadata` is {}, not an object", describe(meta))));
        }
    }
    // A name or namespace that is not a string would silently become the
    // default namespace (or no name) in every rule: the API server refuses it.
    // (Pointers are built only for the error: this runs for every object.)
    let meta_field = |field: &str| meta.and_then(|m| m.field(field));
    for field in ["name", "generateName", "namespace"] {
        if let Some(v) = meta_field(field).filter(|v| !v.is_string() && !v.is_null()) {
            return Err(error(&format!("/metadata/{field}"), format!("field `metadata.{field}` is {}, not a string", describe(v))));
        }
    }
    let api_version = map.field("apiVersion").and_then(Value::as_str).unwrap_or("").to_string();
    let group = group_of(&api_version);
    let name = meta_field("name")
        .and_then(Value::as_str)
        .or_else(|| meta_field("generateName").and_then(Value::as_str))
        .unwrap_or("")
        .to_string();
    let namespace = meta_field("namespace")
        .and_then(Value::as_str)
        .filter(|ns| !ns.is_empty())
        .unwrap_or(default_namespace)
        .to_string();
    let core_or_apps = group.is_empty() || group == "apps" || group == "batch" || group == "extensions";
    let role = match kind.as_str() {
        "Pod" if core_or_apps => Role::Workload { template: "" },
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "ReplicationController" if core_or_apps => {
            Role::Workload { template: "/spec/template" }
        }
        "CronJob" if core_or_apps => Role::Workload { template: "/spec/jobTemplate/spec/template" },
        "ServiceAccount" if group.is_empty() => Role::ServiceAccount,
        "FederatedIdentityCredential" if group == ASO_MANAGED_IDENTITY_GROUP => {
            Role::FederatedCredential(Box::new(aso_federated_credential(&doc.value, &namespace, &name)))
        }
        "UserAssignedIdentity" if group == ASO_MANAGED_IDENTITY_GROUP => Role::Identity(Identity {
            key: format!("{namespace}/{name}"),
            azure_name: str_at(&doc.value, "/spec/azureName").filter(|n| !n.is_empty()).unwrap_or(&name).to_ascii_lowercase(),
            client_id: str_at(&doc.value, "/status/clientId").map(str::to_string),
        }),
        "AzureIdentity" | "AzureIdentityBinding" | "AzurePodIdentityException" if group == AAD_POD_IDENTITY_GROUP => {
            Role::AadPodIdentity
        }
        _ => Role::Other,
    };
    if let Role::Workload { template } = role {
        // Shapes the API server's schema enforces and every rule relies on:
        // refused here with their line, so that lint and mutate agree.
        let dotted = |pointer: &str| pointer.trim_start_matches('/').replace('/', ".");
        let root = if template.is_empty() { Some(&doc.value) } else { at(&doc.value, template) };
        for field in ["metadata", "spec"] {
            if let Some(v) = root.and_then(|r| r.field(field)) {
                if !v.is_object() {
                    let pointer = format!("{template}/{field}");
                    return Err(error(&pointer, format!("field `{}` is {}, not an object", dotted(&pointer), describe(v))));
                }
            }
        }
        let spec = root.and_then(|r| r.field("spec"));
        for field in ["serviceAccountName", "serviceAccount"] {
            if let Some(v) = spec.and_then(|s| s.field(field)).filter(|v| !v.is_string() && !v.is_null()) {
                let pointer = format!("{template}/spec/{field}");
                return Err(error(&pointer, format!("field `{}` is {}, not a string", dotted(&pointer), describe(v))));
            }
        }
        for field in ["initContainers", "containers"] {
            let pointer = || format!("{template}/spec/{field}");
            match spec.and_then(|s| s.field(field)) {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    if let Some((i, item)) = items.iter().enumerate().find(|(_, c)| !c.is_object()) {
                        let pointer = format!("{}/{i}", pointer());
                        return Err(error(&pointer, format!("field `{}` is {}, not a container object", dotted(&pointer), describe(item))));
                    }
                }
                Some(other) => {
                    let pointer = pointer();
                    return Err(error(&pointer, format!("field `{}` is {}, not a list of containers", dotted(&pointer), describe(other))));
                }
            }
        }
    }
    Ok(Object {
        file: file.to_string(),
        doc,
        kind,
        namespace,
        name,
        role,
    })
}

fn aso_federated_credential(v: &Value, namespace: &str, name: &str) -> FederatedCredential {
    let (azure_name, name_pointer) = match str_at(v, "/spec/azureName") {
        Some(n) if !n.is_empty() => (n.to_string(), "/spec/azureName"),
        _ => (name.to_string(), "/metadata/name"),
    };
    // ASO owners are in the FIC's namespace; an `armId` owner names the
    // Azure resource directly.
    let identity = str_at(v, "/spec/owner/name")
        .map(|owner| format!("{namespace}/{owner}"))
        .or_else(|| str_at(v, "/spec/owner/armId").and_then(identity_name_from_arm_id));
    federated_credential(v, "/spec", azure_name, name_pointer, identity)
}

/// The fields both sources share, read under `prefix` (`/spec` for ASO, the
/// root for Azure CLI output).
fn federated_credential(v: &Value, prefix: &str, azure_name: String, name_pointer: &str, identity: Option<String>) -> FederatedCredential {
    let field = |name: &str| format!("{prefix}/{name}");
    let (issuer_pointer, subject_pointer, audiences_pointer) = (field("issuer"), field("subject"), field("audiences"));
    FederatedCredential {
        azure_name,
        name_pointer: name_pointer.to_string(),
        identity,
        issuer: str_at(v, &issuer_pointer).map(str::to_string),
        issuer_pointer,
        subject: str_at(v, &subject_pointer).map(str::to_string),
        subject_pointer,
        audiences: at(v, &audiences_pointer).cloned(),
        audiences_pointer,
        unknown: UnknownFields::default(),
        iac: None,
    }
}

/// `/subscriptions/../userAssignedIdentities/<name>[/federatedIdentityCredentials/..]`
/// -> lower-cased identity name (Azure resource names are case-insensitive).
pub(crate) fn identity_name_from_arm_id(id: &str) -> Option<String> {
    let parts: Vec<&str> = id.split('/').collect();
    let i = parts.iter().position(|p| p.eq_ignore_ascii_case("userAssignedIdentities"))?;
    parts.get(i + 1).filter(|n| !n.is_empty()).map(|n| n.to_ascii_lowercase())
}

fn classify_azure(file: &str, doc: Document, azure_type: &str) -> Object {
    let v = &doc.value;
    let name = str_at(v, "/name").unwrap_or("").to_string();
    let resource_group = str_at(v, "/resourceGroup").unwrap_or("").to_string();
    let role = if azure_type == AZ_CLUSTER_TYPE {
        Role::Cluster(Cluster::read(v))
    } else if azure_type == AZ_IDENTITY_TYPE {
        Role::Identity(Identity {
            key: name.to_ascii_lowercase(),
            azure_name: name.to_ascii_lowercase(),
            client_id: str_at(v, "/clientId").map(str::to_string),
        })
    } else {
        Role::FederatedCredential(Box::new(federated_credential(v, "", name.clone(), "/name", str_at(v, "/id").and_then(identity_name_from_arm_id))))
    };
    let kind = if azure_type == AZ_CLUSTER_TYPE {
        "ManagedCluster"
    } else if azure_type == AZ_IDENTITY_TYPE {
        "UserAssignedIdentity"
    } else {
        "FederatedIdentityCredential"
    };
    Object {
        file: file.to_string(),
        doc,
        kind: kind.to_string(),
        namespace: resource_group,
        name,
        role,
    }
}

/// What a JSON value is, for messages ("is a list, not a string").
pub(crate) fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A pod or a workload's pod template, seen as a pod.
#[derive(Debug, Clone, Copy)]
pub struct PodView<'a> {
    pub object: &'a Object,
    pub index: usize,
    /// JSON pointer of the template inside the object ("" for a Pod).
    pub template: &'static str,
    pub metadata: &'a Value,
    pub spec: &'a Value,
}

static NULL: Value = Value::Null;

impl<'a> PodView<'a> {
    pub fn label(&self, key: &str) -> Option<&'a Value> {
        self.metadata.field("labels").and_then(|l| l.field(key))
    }
    pub fn annotation(&self, key: &str) -> Option<&'a Value> {
        self.metadata.field("annotations").and_then(|a| a.field(key))
    }
    pub fn annotation_str(&self, key: &str) -> Option<&'a str> {
        self.annotation(key).and_then(Value::as_str)
    }
    /// True when the webhook's object selector (`use: "true"`) matches.
    pub fn opted_in(&self) -> bool {
        self.label(USE_LABEL).and_then(Value::as_str) == Some("true")
    }
    pub fn service_account(&self) -> &'a str {
        service_account_name(self.spec)
    }
    /// True when the pod asks for an AKS identity binding's token proxy
    /// (the webhook compares the value with Go's `strings.EqualFold`).
    pub fn uses_identity_binding(&self) -> bool {
        is_binding_requested(self.annotation_str(USE_IDENTITY_BINDING_ANNOTATION))
    }
    /// Pointer to a field of the pod metadata, e.g. `labels`, `key`.
    pub fn meta_pointer(&self, map: &str, key: &str) -> String {
        format!("{}/metadata/{map}/{}", self.template, crate::source::escape_pointer_segment(key))
    }
    pub fn spec_pointer(&self, rest: &str) -> String {
        format!("{}/spec{rest}", self.template)
    }
    /// Init containers then containers, with where each is: the ones the
    /// webhook mutates.
    pub fn containers(&self) -> impl Iterator<Item = (ContainerAt, &'a Value)> + '_ {
        let template = self.template;
        ["initContainers", "containers"].into_iter().flat_map(move |field| {
            self.spec.field(field).and_then(Value::as_array).into_iter().flatten().enumerate().map(move |(index, c)| (ContainerAt { template, field, index }, c))
        })
    }
    /// The containers the webhook injects into: all but those named in
    /// `skip-containers`.
    pub fn injected_containers(&self) -> impl Iterator<Item = (ContainerAt, &'a Value)> + '_ {
        let skipped = self.annotation_str(SKIP_CONTAINERS_ANNOTATION).map(skipped_containers).unwrap_or_default();
        self.containers().filter(move |(_, c)| {
            let name = c.field("name").and_then(Value::as_str).unwrap_or("");
            !skipped.contains(&name)
        })
    }
    pub fn host_network(&self) -> bool {
        self.spec.field("hostNetwork").and_then(Value::as_bool) == Some(true)
    }
}

/// Where a container is in its object; printed (`{}`) as its JSON pointer,
/// which is only built when a finding needs it.
#[derive(Debug, Clone, Copy)]
pub struct ContainerAt {
    template: &'static str,
    field: &'static str,
    index: usize,
}

impl std::fmt::Display for ContainerAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/spec/{}/{}", self.template, self.field, self.index)
    }
}

/// Everything the rules look things up in.
pub struct Inventory<'a> {
    pub objects: &'a [Object],
    service_accounts: HashMap<(&'a str, &'a str), usize>,
    /// Computed once: every rule walks them.
    pods: Vec<PodView<'a>>,
    /// Federated credentials by file name and line, so that "the second
    /// of two" never depends on the order files were given in.
    credentials: Vec<usize>,
}

impl<'a> Inventory<'a> {
    pub fn new(objects: &'a [Object]) -> Self {
        // The same ServiceAccount can be written twice (a base and an
        // overlay); the one looked up is chosen by its content (then file
        // name and line), never by the order or the names the files were
        // given with.
        let mut service_accounts: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            if o.role == Role::ServiceAccount {
                let slot = service_accounts.entry((o.namespace.as_str(), o.name.as_str())).or_insert(i);
                if *slot != i {
                    let current = &objects[*slot];
                    let key = |o: &Object| (o.doc.value.to_string(), o.file.clone(), o.doc.line);
                    if key(o) < key(current) {
                        *slot = i;
                    }
                }
            }
        }
        let pods = objects
            .iter()
            .enumerate()
            .filter_map(|(index, object)| match object.role {
                Role::Workload { template } => {
                    let root = if template.is_empty() { &object.doc.value } else { at(&object.doc.value, template)? };
                    Some(PodView {
                        object,
                        index,
                        template,
                        metadata: root.field("metadata").unwrap_or(&NULL),
                        spec: root.field("spec").unwrap_or(&NULL),
                    })
                }
                _ => None,
            })
            .collect();
        let mut credentials: Vec<usize> = (0..objects.len()).filter(|&i| matches!(objects[i].role, Role::FederatedCredential(_))).collect();
        credentials.sort_by(|&a, &b| (objects[a].file.as_str(), objects[a].doc.line, a).cmp(&(objects[b].file.as_str(), objects[b].doc.line, b)));
        Inventory { objects, service_accounts, pods, credentials }
    }

    /// Every Pod and pod template, seen as a pod.
    pub fn pods(&self) -> impl Iterator<Item = PodView<'a>> + '_ {
        self.pods.iter().copied()
    }

    pub fn service_account(&self, namespace: &str, name: &str) -> Option<(usize, &'a Object)> {
        self.service_accounts
            .get(&(namespace, name))
            .map(|&i| (i, &self.objects[i]))
    }

    /// The client-id annotation of ServiceAccount `namespace/name`, when
    /// it is in the inputs and a string.
    pub fn client_id_of(&self, namespace: &str, name: &str) -> Option<&'a str> {
        self.service_account(namespace, name).and_then(|(_, sa)| object_annotation(sa, CLIENT_ID_ANNOTATION)).and_then(Value::as_str)
    }

    pub fn service_accounts(&self) -> impl Iterator<Item = (usize, &'a Object)> + '_ {
        self.objects.iter().enumerate().filter(|(_, o)| o.role == Role::ServiceAccount)
    }

    /// Every federated credential, ordered by file name and line.
    pub fn federated_credentials(&self) -> impl Iterator<Item = (usize, &'a Object, &'a FederatedCredential)> + '_ {
        let objects = self.objects;
        self.credentials.iter().filter_map(move |&i| match &objects[i].role {
            Role::FederatedCredential(f) => Some((i, &objects[i], &**f)),
            _ => None,
        })
    }

    /// Every AKS cluster given as `az aks show` output.
    pub fn clusters(&self) -> impl Iterator<Item = (usize, &'a Cluster)> + '_ {
        self.objects.iter().enumerate().filter_map(|(i, o)| match &o.role {
            Role::Cluster(c) => Some((i, c)),
            _ => None,
        })
    }

    /// The distinct issuers of the AKS clusters among the inputs (`az aks
    /// show` output): one of them stands for `--issuer` when none is given.
    pub fn cluster_issuers(&self) -> Vec<&'a str> {
        let mut found: Vec<&str> = self.clusters().filter_map(|(_, c)| c.issuer.as_deref()).collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    pub fn identities(&self) -> impl Iterator<Item = &'a Identity> + '_ {
        self.objects.iter().filter_map(|o| match &o.role {
            Role::Identity(id) => Some(id),
            _ => None,
        })
    }
}

/// The kind and name of the controller that owns an object, if any.
fn controller(object: &Object) -> Option<(&str, &str)> {
    let owners = at(&object.doc.value, "/metadata/ownerReferences")?.as_array()?;
    let owner = owners.iter().find(|o| o.field("controller").and_then(Value::as_bool) == Some(true))?;
    Some((owner.field("kind")?.as_str()?, owner.field("name")?.as_str()?))
}

/// An object's controller: the `ownerReferences` entry with `controller: true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Controller<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    /// A workload among the same objects (in the same namespace): what the
    /// object is made from is written in that workload's pod template (a
    /// Deployment's ReplicaSets and their pods).
    pub in_inputs: bool,
}

/// Each object's controller, if it has one.
pub fn controllers(objects: &[Object]) -> Vec<Option<Controller<'_>>> {
    let workloads: std::collections::HashSet<(&str, &str, &str)> = objects
        .iter()
        .filter(|o| matches!(o.role, Role::Workload { .. }))
        .map(|o| (o.namespace.as_str(), o.kind.as_str(), o.name.as_str()))
        .collect();
    objects
        .iter()
        .map(|o| {
            controller(o).map(|(kind, name)| Controller { kind, name, in_inputs: workloads.contains(&(o.namespace.as_str(), kind, name)) })
        })
        .collect()
}

/// Which identity a federated credential sits on, and which identities a
/// client ID names: built once by the rules that ask it for every pod.
pub struct IdentityIndex<'a> {
    azure_name_of_key: HashMap<&'a str, &'a str>,
    by_client_id: HashMap<String, Vec<&'a str>>,
}

impl<'a> IdentityIndex<'a> {
    pub fn new(inventory: &Inventory<'a>) -> Self {
        let mut by_client_id: HashMap<String, Vec<&'a str>> = HashMap::new();
        for identity in inventory.identities() {
            if let Some(client_id) = &identity.client_id {
                by_client_id.entry(client_id.to_ascii_lowercase()).or_default().push(identity.azure_name.as_str());
            }
        }
        for names in by_client_id.values_mut() {
            names.sort_unstable();
            names.dedup();
        }
        IdentityIndex { azure_name_of_key: inventory.identities().map(|i| (i.key.as_str(), i.azure_name.as_str())).collect(), by_client_id }
    }

    /// The Azure name of the identity a credential is on. One identity can
    /// be in the inputs twice (an ASO object and `az identity list`
    /// output): names are compared, never input order.
    pub fn identity_of(&self, fic: &FederatedCredential) -> Option<String> {
        let key = fic.identity.as_deref()?;
        Some(match self.azure_name_of_key.get(key) {
            Some(name) => name.to_string(),
            // An ASO owner (`namespace/name`) not among the inputs: ASO's
            // default Azure name is the object's name.
            None => key.rsplit('/').next().unwrap_or(key).to_ascii_lowercase(),
        })
    }

    /// The Azure names of the identities in the inputs with this client ID
    /// (sorted); `None` when no identity in the inputs has it.
    pub fn names_with_client_id(&self, client_id: &str) -> Option<&[&'a str]> {
        self.by_client_id.get(&client_id.to_ascii_lowercase()).map(Vec::as_slice)
    }

    /// True when one of `credentials` sits on one of `names`.
    pub fn any_on(&self, credentials: &[&FederatedCredential], names: &[&str]) -> bool {
        credentials.iter().any(|f| self.identity_of(f).is_some_and(|n| names.contains(&n.as_str())))
    }

    /// "`fic` on `identity`" for each credential, sorted, for messages.
    pub fn placements(&self, credentials: &[&FederatedCredential]) -> String {
        let mut on: Vec<String> = credentials
            .iter()
            .map(|f| format!("`{}` on `{}`", f.azure_name, self.identity_of(f).unwrap_or_else(|| "?".to_string())))
            .collect();
        on.sort();
        on.dedup();
        on.join(", ")
    }
}

/// Annotation of a ServiceAccount object as a string, if present.
pub fn object_annotation<'a>(o: &'a Object, key: &str) -> Option<&'a Value> {
    object_annotations(o)?.field(key)
}

/// An object's annotations, for reading several.
pub fn object_annotations(o: &Object) -> Option<&serde_json::Map<String, Value>> {
    o.doc.value.field("metadata")?.field("annotations")?.as_object()
}

pub fn object_label<'a>(o: &'a Object, key: &str) -> Option<&'a Value> {
    o.doc.value.field("metadata")?.field("labels")?.field(key)
}
