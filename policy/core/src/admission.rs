//! Admission decisions for one object, as a Kubernetes admission controller
//! (the Kubewarden policy) makes them: the same rule catalogue as `lint`,
//! per-rule levels from settings, the upstream webhook's ServiceAccount
//! lookup and mutation. The face asks [`service_account_to_look_up`], performs
//! the lookup with its host, and passes the outcome to [`review`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::mutation::{MutateOptions, mutate_pod};
use crate::options;
use crate::objects::{Inventory, Object, Role, object_from_value};
use crate::rules::{self, LintOptions, Severity};
use crate::wellknown::*;

const SETTINGS_FIELDS: &[&str] = &[
    "mutate",
    "layout",
    "tenantId",
    "authorityHost",
    "kubernetesVersion",
    "webhookVersion",
    "tokenProxy",
    "tokenProxySniName",
    "tokenProxyCaConfigMap",
    "tokenProxyCaData",
    "allowedClientIds",
    "rejectAadPodIdentity",
    "rules",
    "defaultClientIds",
];

/// What a cluster operator configures. Field names are the settings keys.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Settings {
    /// Perform the webhook's injection on opted-in Pods.
    pub mutate: bool,
    /// `classic` (v1.0–v1.5, default) or `v1.6`.
    pub layout: Option<String>,
    pub tenant_id: Option<String>,
    pub authority_host: Option<String>,
    /// e.g. `1.32`: from 1.32 the proxy is a native sidecar.
    pub kubernetes_version: Option<String>,
    /// The azure-workload-identity webhook's version, e.g. `v1.5.1`: the
    /// rules about older webhooks (WI027, WI028) apply only when it is set.
    pub webhook_version: Option<String>,
    /// The v1.6 webhook's token proxy for pods that use an AKS identity
    /// binding: URL, SNI name, CA ConfigMap, CA in PEM.
    pub token_proxy: Option<String>,
    pub token_proxy_sni_name: Option<String>,
    pub token_proxy_ca_config_map: Option<String>,
    pub token_proxy_ca_data: Option<String>,
    /// Namespace -> client IDs its ServiceAccounts may use; `"*"` for all others.
    pub allowed_client_ids: BTreeMap<String, Vec<String>>,
    /// Treat aad-pod-identity use (WI011) as an error.
    pub reject_aad_pod_identity: bool,
    /// Rule code -> `error`, `warning` or `off`.
    pub rules: BTreeMap<String, String>,
    /// `namespace/serviceaccount` -> client ID, used when the policy may not
    /// read ServiceAccounts.
    pub default_client_ids: BTreeMap<String, String>,
}

/// How a finding's rule is treated at admission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Off,
}

/// Settings checked and turned into what the core uses.
#[derive(Debug, Clone)]
pub struct Policy {
    pub settings: Settings,
    layout: Layout,
    kubernetes_version: Option<(u32, u32)>,
    webhook_version: Option<options::WebhookVersion>,
}

fn field_error(field: &str, message: impl std::fmt::Display) -> String {
    format!("settings.{field}: {message}")
}

impl Settings {
    /// Parses settings JSON; messages name the offending field.
    pub fn from_json(bytes: &[u8]) -> Result<Settings, String> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Settings::default());
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("settings are not JSON: {e}"))?;
        let map = match value {
            Value::Null => return Ok(Settings::default()),
            Value::Object(map) => map,
            other => return Err(format!("settings must be an object, not {other}")),
        };
        // Check each field's JSON type here so the message names the field;
        // serde's own messages do not.
        for (key, v) in &map {
            let expected = match key.as_str() {
                "mutate" | "rejectAadPodIdentity" => v.is_boolean().then_some(()).ok_or("a boolean"),
                "layout" | "tenantId" | "authorityHost" | "kubernetesVersion" | "webhookVersion" | "tokenProxy" | "tokenProxySniName" | "tokenProxyCaConfigMap"
                | "tokenProxyCaData" => {
                    (v.is_string() || v.is_null()).then_some(()).ok_or("a string")
                }
                "allowedClientIds" => v
                    .as_object()
                    .filter(|m| m.values().all(|l| l.as_array().is_some_and(|a| a.iter().all(Value::is_string))))
                    .map(|_| ())
                    .ok_or("an object of namespace -> list of client IDs"),
                "rules" | "defaultClientIds" => v
                    .as_object()
                    .filter(|m| m.values().all(Value::is_string))
                    .map(|_| ())
                    .ok_or("an object of string values"),
                _ => return Err(field_error(key, format!("unknown setting; known: {}", SETTINGS_FIELDS.join(", ")))),
            };
            expected.map_err(|what| field_error(key, format!("must be {what}, not {v}")))?;
        }
        serde_json::from_value(Value::Object(map)).map_err(|e| format!("settings: {e}"))
    }

    /// Checks every field; the first problem is returned, naming its field.
    pub fn validate(self) -> Result<Policy, String> {
        let layout = match self.layout.as_deref() {
            None | Some("classic") => Layout::Classic,
            Some("v1.6") => Layout::V1_6,
            Some(other) => return Err(field_error("layout", format!("{other:?} is not \"classic\" or \"v1.6\""))),
        };
        let setting = |e: options::OptionError| field_error(&e.field, e.message);
        if let Some(t) = &self.tenant_id {
            options::check_tenant_id(t).map_err(setting)?;
        }
        if let Some(h) = &self.authority_host {
            options::check_authority_host(h).map_err(setting)?;
        }
        let kubernetes_version = match &self.kubernetes_version {
            None => None,
            Some(v) => Some(options::parse_kubernetes_version(v).map_err(setting)?),
        };
        options::check_token_proxy(&token_proxy(&self)).map_err(setting)?;
        let webhook_version = match &self.webhook_version {
            None => None,
            Some(v) => Some(options::parse_webhook_version(v).map_err(setting)?),
        };
        for (namespace, ids) in &self.allowed_client_ids {
            options::check_allowed_client_ids(namespace, ids).map_err(setting)?;
        }
        for (code, level) in &self.rules {
            if !rules::ALL.iter().any(|r| r.code == code) {
                return Err(field_error("rules", format!("{code:?} is not a rule code (see `kubectl wi rules`)")));
            }
            if !matches!(level.as_str(), "error" | "warning" | "off") {
                return Err(field_error(&format!("rules.{code}"), format!("{level:?} is not \"error\", \"warning\" or \"off\"")));
            }
        }
        for (key, id) in &self.default_client_ids {
            let valid_key = key
                .split_once('/')
                .is_some_and(|(ns, sa)| is_dns_label(ns) && is_object_name(sa));
            if !valid_key {
                return Err(field_error("defaultClientIds", format!("{key:?} is not \"namespace/serviceaccount\"")));
            }
            if !is_guid(id) {
                return Err(field_error(&format!("defaultClientIds.{key}"), format!("{id:?} is not a GUID")));
            }
        }
        Ok(Policy { settings: self, layout, kubernetes_version, webhook_version })
    }
}

fn token_proxy(settings: &Settings) -> crate::mutation::TokenProxy {
    crate::mutation::TokenProxy {
        url: settings.token_proxy.clone(),
        sni_name: settings.token_proxy_sni_name.clone(),
        ca_config_map: settings.token_proxy_ca_config_map.clone(),
        ca_data: settings.token_proxy_ca_data.clone(),
    }
}

/// What the face learnt when it asked its host for a ServiceAccount.
#[derive(Debug, Clone)]
pub enum ServiceAccountLookup {
    /// The object needs none (not an opted-in pod).
    NotNeeded,
    Found(Value),
    NotFound,
    /// The policy may not read ServiceAccounts (not in `contextAwareResources`).
    NotPermitted,
    /// Any other failure of the lookup, with the host's message.
    Failed(String),
}

/// The admission response, in Kubewarden's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub accepted: bool,
    pub message: Option<String>,
    pub code: Option<u16>,
    pub warnings: Vec<String>,
    pub mutated_object: Option<Value>,
}

impl Decision {
    fn accept(warnings: Vec<String>, mutated_object: Option<Value>) -> Self {
        Decision { accepted: true, message: None, code: None, warnings: shown_warnings(warnings), mutated_object }
    }
    fn reject(message: String, code: Option<u16>, warnings: Vec<String>) -> Self {
        Decision { accepted: false, message: Some(printable(&message)), code, warnings: shown_warnings(warnings), mutated_object: None }
    }
}

/// Warnings the API server will pass on: it drops a warning holding control
/// characters without a word, and a response with thousands of them helps
/// no one.
const MAX_WARNINGS: usize = 20;

fn shown_warnings(warnings: Vec<String>) -> Vec<String> {
    let total = warnings.len();
    let mut shown: Vec<String> = warnings.iter().take(MAX_WARNINGS).map(|w| printable(w)).collect();
    if total > MAX_WARNINGS {
        shown.push(format!("... and {} more warnings", total - MAX_WARNINGS));
    }
    shown
}

/// Text with control characters (newlines from host errors, names from
/// the object) replaced by spaces.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The pod kinds the webhook mutates at admission: Pods only (templates are
/// checked, never mutated, as their pods will be).
fn is_pod(object: &Object) -> bool {
    matches!(object.role, Role::Workload { template: "" })
}

/// `(namespace, name)` of the ServiceAccount to fetch before
/// [`Policy::review`] (an opted-in pod or pod template being created or
/// updated), given the AdmissionReview `request`.
pub fn service_account_to_look_up(request: &Value) -> Option<(String, String)> {
    let operation = request.get("operation").and_then(Value::as_str)?;
    if !matches!(operation, "CREATE" | "UPDATE") {
        return None;
    }
    let namespace = request.get("namespace").and_then(Value::as_str).unwrap_or("");
    let object = admitted_object(request.get("object")?, namespace).ok()?;
    if operation == "UPDATE" && is_deleting(&object) {
        return None;
    }
    let name = opted_in_service_account(&object)?;
    Some((object.namespace, name))
}

/// Rules whose findings on the looked-up ServiceAccount are judged at pod
/// admission too: its client ID is what the pod would be injected with, and
/// ServiceAccounts that existed before the policy (or that its rules do not
/// match) must not bypass the allow-list.
const LOOKED_UP_SERVICE_ACCOUNT_RULES: &[&str] = &["WI005", "WI006", "WI040"];

/// Of those, the ones about the client ID the pod would be injected with:
/// whatever their level, such an ID is never injected.
const CLIENT_ID_RULES: &[&str] = &["WI005", "WI040"];

/// Rules that compare a pod with what the webhook would inject today (from
/// today's ServiceAccount and layout). On a pod UPDATE what they see is what
/// the webhook injected at CREATE, so they do not apply.
const INJECTION_RULES: &[&str] = &["WI010", "WI013"];


/// The request's object, in the request's namespace: pods created by
/// controllers carry none in their metadata, and the lookup and the review
/// must agree on it.
fn admitted_object(value: &Value, request_namespace: &str) -> Result<Object, crate::source::InputError> {
    let mut object = object_from_value("request", value.clone(), request_namespace)?;
    if !request_namespace.is_empty() {
        object.namespace = request_namespace.to_string();
    }
    Ok(object)
}

fn is_deleting(object: &Object) -> bool {
    object.doc.value.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null())
}

fn opted_in_service_account(object: &Object) -> Option<String> {
    let objects = std::slice::from_ref(object);
    let inventory = Inventory::new(objects);
    let pod = inventory.pods().find(|p| p.opted_in())?;
    Some(pod.service_account().to_string())
}

impl Policy {
    fn token_proxy(&self) -> crate::mutation::TokenProxy {
        token_proxy(&self.settings)
    }

    fn level(&self, code: &str, severity: Severity) -> Level {
        if let Some(level) = self.settings.rules.get(code) {
            return match level.as_str() {
                "error" => Level::Error,
                "warning" => Level::Warning,
                _ => Level::Off,
            };
        }
        if code == "WI011" && self.settings.reject_aad_pod_identity {
            return Level::Error;
        }
        match severity {
            Severity::Error => Level::Error,
            Severity::Warning | Severity::Info => Level::Warning,
        }
    }

    /// Decides on one AdmissionReview `request` (its `operation`,
    /// `namespace`, `kind` and `object`), with the outcome of the
    /// ServiceAccount lookup [`service_account_to_look_up`] asked for.
    ///
    /// How the life of a workload is treated:
    /// - `DELETE` and `CONNECT` are accepted; an operation Kubernetes does
    ///   not send (`create`) is refused.
    /// - An `UPDATE` of an object being deleted (`deletionTimestamp` set) is
    ///   accepted: removing finalizers must never be blocked.
    /// - A pod `UPDATE` cannot change what the webhook injected at CREATE
    ///   (a pod's spec is immutable, and the webhook acts on CREATE only):
    ///   the injected variables and volume are not judged against today's
    ///   ServiceAccount or layout (WI010, WI013), and the other findings are
    ///   warnings, never a rejection.
    /// - A missing ServiceAccount refuses only a Pod CREATE the policy must
    ///   mutate (as the webhook does); otherwise it is WI004 at the level the
    ///   settings give it (a warning by default).
    pub fn review(&self, request: &Value, lookup: ServiceAccountLookup) -> Decision {
        let operation = request.get("operation").and_then(Value::as_str).unwrap_or("");
        match operation {
            "CREATE" | "UPDATE" => {}
            "DELETE" | "CONNECT" => return Decision::accept(vec![], None),
            other => {
                return Decision::reject(
                    format!("unknown admission operation {other:?}: Kubernetes sends CREATE, UPDATE, DELETE or CONNECT"),
                    Some(400),
                    vec![],
                );
            }
        }
        let request_namespace = request.get("namespace").and_then(Value::as_str).unwrap_or("");
        let Some(object) = request.get("object").filter(|o| !o.is_null()) else {
            return Decision::reject(format!("the {operation} request carries no object"), Some(400), vec![]);
        };
        let object = match admitted_object(object, request_namespace) {
            Ok(o) => o,
            Err(e) => return Decision::reject(format!("cannot read the object: {}", e.message), Some(400), vec![]),
        };
        if !object.doc.value.get("metadata").is_some_and(Value::is_object) {
            return Decision::reject(format!("{} has no metadata", object.kind), Some(400), vec![]);
        }
        // An object that names its kind must be what the request says it is.
        let names_kind = object.doc.value.get("kind").is_some_and(Value::is_string);
        if let Some(kind) = request.get("kind").filter(|k| k.is_object() && names_kind) {
            let said_kind = kind.get("kind").and_then(Value::as_str).unwrap_or("");
            let said_group = kind.get("group").and_then(Value::as_str).unwrap_or("");
            let api_version = object.doc.value.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            if said_kind != object.kind || said_group != crate::objects::group_of(api_version) {
                return Decision::reject(
                    format!(
                        "request.kind is {said_group}/{said_kind} but the object is {api_version} {}: refusing an object that does not match its request",
                        object.kind
                    ),
                    Some(400),
                    vec![],
                );
            }
        }
        if operation == "UPDATE" && is_deleting(&object) {
            return Decision::accept(vec![], None);
        }
        let pod_update = operation == "UPDATE" && is_pod(&object);
        let must_mutate = self.settings.mutate && operation == "CREATE" && is_pod(&object);
        if object.role == Role::Other {
            let api_version = object.doc.value.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            return Decision::reject(
                format!("wi-policy does not check {api_version} {}; remove it from the policy's rules", object.kind),
                Some(400),
                vec![],
            );
        }
        let mut warnings = Vec::new();
        let sa_name = opted_in_service_account(&object);
        let mut missing_service_account = None;
        let mut lookup_unusable = false;
        let service_account = match (lookup, &sa_name) {
            (ServiceAccountLookup::Found(sa), Some(name)) => {
                let is_service_account = sa.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                    && sa.get("apiVersion").and_then(Value::as_str) == Some("v1")
                    && sa.pointer("/metadata/name").and_then(Value::as_str) == Some(name.as_str())
                    && sa.pointer("/metadata/namespace").and_then(Value::as_str).is_none_or(|ns| ns == object.namespace);
                if is_service_account {
                    Some(sa)
                } else {
                    warnings.push(format!(
                        "the lookup of ServiceAccount {name:?} returned something that is not that ServiceAccount: ServiceAccount checks skipped, nothing injected"
                    ));
                    lookup_unusable = true;
                    None
                }
            }
            (ServiceAccountLookup::NotFound, Some(name)) => {
                if must_mutate {
                    return Decision::reject(format!("serviceaccounts {name:?} not found"), Some(400), warnings);
                }
                missing_service_account = Some(format!("ServiceAccount `{}/{name}` does not exist in the cluster", object.namespace));
                None
            }
            (ServiceAccountLookup::Failed(e), Some(name)) => {
                if must_mutate {
                    return Decision::reject(format!("failed to get service account {name:?}: {e}"), Some(400), warnings);
                }
                // The allow-list cannot be checked: fail closed rather than
                // let a forbidden client ID through unseen.
                if !self.settings.allowed_client_ids.is_empty() {
                    return Decision::reject(
                        format!("failed to get service account {name:?}, so settings.allowedClientIds cannot be checked: {e}"),
                        Some(400),
                        warnings,
                    );
                }
                warnings.push(format!("failed to get service account {name:?}: {e}: ServiceAccount checks skipped"));
                None
            }
            (ServiceAccountLookup::NotPermitted, Some(name)) => {
                let key = format!("{}/{name}", object.namespace);
                match self.settings.default_client_ids.get(&key) {
                    Some(client_id) => {
                        warnings.push(format!(
                            "ServiceAccount lookup is not permitted (grant v1/ServiceAccount in contextAwareResources); using settings.defaultClientIds[{key:?}]"
                        ));
                        Some(json!({
                            "apiVersion": "v1",
                            "kind": "ServiceAccount",
                            "metadata": {"name": name, "namespace": object.namespace, "annotations": {CLIENT_ID_ANNOTATION: client_id}},
                        }))
                    }
                    None => {
                        warnings.push(format!(
                            "ServiceAccount lookup is not permitted (grant v1/ServiceAccount in contextAwareResources) and settings.defaultClientIds has no {key:?}: ServiceAccount checks skipped"
                        ));
                        None
                    }
                }
            }
            _ => None,
        };

        let mut objects = vec![object];
        if let Some(sa) = &service_account {
            if let Ok(sa) = object_from_value("serviceaccount", sa.clone(), &objects[0].namespace) {
                objects.push(sa);
            }
        }
        let options = LintOptions {
            layout: self.layout,
            tenant_id: self.settings.tenant_id.clone(),
            authority_host: self.settings.authority_host.clone(),
            default_namespace: objects[0].namespace.clone(),
            allowed_client_ids: self.settings.allowed_client_ids.clone(),
            webhook_version: self.webhook_version.clone(),
            kubernetes_version: self.kubernetes_version,
            issuer: None,
            keda_namespace: None,
        };
        // On UPDATE, what the old object already had is not the update's
        // doing: a controller scaling an old ReplicaSet to zero or the
        // garbage collector orphaning it must not be blocked by a mistake
        // that predates them. Only what the update introduces is rejected.
        let already_there: Vec<String> = match request.get("oldObject").filter(|o| o.is_object() && operation == "UPDATE") {
            Some(old) => match admitted_object(old, request_namespace) {
                Ok(old) => {
                    let mut old_objects = vec![old];
                    old_objects.extend(objects.get(1).cloned());
                    judged_findings(&old_objects, &options, pod_update).into_iter().map(|(_, _, text, _)| text).collect()
                }
                Err(_) => Vec::new(),
            },
            None => Vec::new(),
        };
        let mut errors = Vec::new();
        let mut client_id_refused = None;
        let mut judge = |rule: &str, severity: Severity, text: String| match self.level(rule, severity) {
            Level::Error if !pod_update && !already_there.contains(&text) => errors.push(text),
            Level::Error | Level::Warning => warnings.push(text),
            Level::Off => {}
        };
        if let Some(missing) = missing_service_account {
            judge("WI004", Severity::Warning, format!("[WI004] {missing}; the webhook refuses its pods until it exists"));
        }
        for (rule, severity, text, on_service_account) in judged_findings(&objects, &options, pod_update) {
            if on_service_account && CLIENT_ID_RULES.contains(&rule) {
                client_id_refused.get_or_insert(rule);
            }
            judge(rule, severity, text);
        }
        if !errors.is_empty() {
            return Decision::reject(errors.join("; "), None, warnings);
        }

        let mut mutated_object = None;
        let object = &objects[0];
        // Like the webhook (registered for CREATE only): a running pod's spec
        // is immutable, so injecting on UPDATE would only make it fail.
        if let (true, Some(problem)) = (must_mutate, &client_id_refused) {
            // Whatever level the settings give the rule, this ID is not
            // injected.
            warnings.push(format!("nothing injected: the client ID of the pod's ServiceAccount is refused by {problem}"));
            return Decision::accept(warnings, None);
        }
        if must_mutate && sa_name.is_some() && !lookup_unusable {
            if let (Some(sa), Some(name)) = (&service_account, &sa_name) {
                let mut pod = object.doc.value.clone();
                let options = MutateOptions {
                    layout: self.layout,
                    tenant_id: self.settings.tenant_id.clone(),
                    authority_host: self.settings.authority_host.clone(),
                    kubernetes_version: self.kubernetes_version,
                    default_namespace: object.namespace.clone(),
                    token_proxy: self.token_proxy(),
                    ..Default::default()
                };
                match mutate_pod(&mut pod, Some(sa), name, &options) {
                    Ok(more) => warnings.extend(more),
                    Err(e) => return Decision::reject(e, Some(400), warnings),
                }
                if pod != object.doc.value {
                    mutated_object = Some(pod);
                }
            } else {
                return Decision::reject(
                    "cannot inject Workload ID: the pod's ServiceAccount could not be read (see warnings)".into(),
                    Some(400),
                    warnings,
                );
            }
        }
        Decision::accept(warnings, mutated_object)
    }
}

/// The findings admission judges: on the admitted object (objects[0]) all
/// but the set-of-files rules (and, on a pod UPDATE, the injection rules),
/// on the looked-up ServiceAccount (objects[1]) the client-ID and
/// expiration rules. Each as (rule, severity, text, on the ServiceAccount).
fn judged_findings(objects: &[Object], options: &LintOptions, pod_update: bool) -> Vec<(&'static str, Severity, String, bool)> {
    rules::run(objects, options)
        .into_iter()
        .filter(|f| match f.object {
            0 => !ADMISSION_SKIPPED.contains(&f.rule) && !(pod_update && INJECTION_RULES.contains(&f.rule)),
            _ => LOOKED_UP_SERVICE_ACCOUNT_RULES.contains(&f.rule),
        })
        .map(|f| {
            let text = match f.object {
                0 => format!("[{}] {}", f.rule, f.message),
                i => format!("[{}] ServiceAccount `{}/{}`: {}", f.rule, objects[i].namespace, objects[i].name, f.message),
            };
            (f.rule, f.severity, text, f.object != 0)
        })
        .collect()
}

/// Rules about the set of linted files rather than one object: the admission
/// face looks the ServiceAccount up instead, and sees no federated
/// credentials besides the one admitted. And WI019, about pods read from a
/// cluster: an admitted pod has a uid but is not injected yet.
const ADMISSION_SKIPPED: &[&str] = &["WI004", "WI019", "WI026", "WI030", "WI031"];
