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
                "layout" | "tenantId" | "authorityHost" | "kubernetesVersion" => {
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
        for (namespace, ids) in &self.allowed_client_ids {
            options::check_allowed_client_ids(namespace, ids).map_err(setting)?;
        }
        for (code, level) in &self.rules {
            if rules::find(code).is_none() {
                return Err(field_error("rules", format!("{code:?} is not a rule code (see `kubectl wi rules`)")));
            }
            if !matches!(level.as_str(), "error" | "warning" | "off") {
                return Err(field_error(&format!("rules.{code}"), format!("{level:?} is not \"error\", \"warning\" or \"off\"")));
            }
        }
        for (key, id) in &self.default_client_ids {
            let valid_key = key
                .split_once('/')
                .is_some_and(|(ns, sa)| is_dns_label(ns) && is_dns_subdomain(sa));
            if !valid_key {
                return Err(field_error("defaultClientIds", format!("{key:?} is not \"namespace/serviceaccount\"")));
            }
            if !is_guid(id) {
                return Err(field_error(&format!("defaultClientIds.{key}"), format!("{id:?} is not a GUID")));
            }
        }
        Ok(Policy { settings: self, layout, kubernetes_version })
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
        Decision { accepted: true, message: None, code: None, warnings, mutated_object }
    }
    fn reject(message: String, code: Option<u16>, warnings: Vec<String>) -> Self {
        Decision { accepted: false, message: Some(message), code, warnings, mutated_object: None }
    }
}

/// The pod kinds the webhook mutates at admission: Pods only (templates are
/// checked, never mutated, as their pods will be).
fn is_pod(object: &Object) -> bool {
    matches!(object.role, Role::Workload { template: "" })
}

/// `(namespace, name)` of the ServiceAccount to fetch before [`Policy::review`],
/// for an opted-in pod or pod template.
pub fn service_account_to_look_up(object: &Value, request_namespace: &str) -> Option<(String, String)> {
    let object = admitted_object(object, request_namespace).ok()?;
    let name = opted_in_service_account(&object)?;
    Some((object.namespace, name))
}

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

fn opted_in_service_account(object: &Object) -> Option<String> {
    let objects = std::slice::from_ref(object);
    let inventory = Inventory::new(objects);
    let pod = inventory.pods().find(|p| p.opted_in())?;
    Some(pod.service_account().to_string())
}

impl Policy {
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

    /// Decides on one admission request's object.
    pub fn review(&self, operation: &str, request_namespace: &str, object: &Value, lookup: ServiceAccountLookup) -> Decision {
        if !matches!(operation, "CREATE" | "UPDATE") {
            return Decision::accept(vec![], None);
        }
        let object = match admitted_object(object, request_namespace) {
            Ok(o) => o,
            Err(e) => return Decision::reject(format!("cannot read the object: {}", e.message), Some(400), vec![]),
        };
        if !object.doc.value.get("metadata").is_some_and(Value::is_object) {
            return Decision::reject(format!("{} has no metadata", object.kind), Some(400), vec![]);
        }
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
        let service_account = match (lookup, &sa_name) {
            (ServiceAccountLookup::Found(sa), _) => Some(sa),
            (ServiceAccountLookup::NotFound, Some(name)) => {
                return Decision::reject(format!("serviceaccounts {name:?} not found"), Some(400), warnings);
            }
            (ServiceAccountLookup::Failed(e), Some(name)) => {
                return Decision::reject(format!("failed to get service account {name:?}: {e}"), Some(400), warnings);
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
            issuer: None,
        };
        let mut errors = Vec::new();
        for finding in rules::run(&objects, &options) {
            // Only the admitted object is judged; lookups replace the
            // inputs-based rules (a missing ServiceAccount was handled above,
            // other objects are not visible at admission).
            if finding.object != 0 || ADMISSION_SKIPPED.contains(&finding.rule) {
                continue;
            }
            let text = format!("[{}] {}", finding.rule, finding.message);
            match self.level(finding.rule, finding.severity) {
                Level::Error => errors.push(text),
                Level::Warning => warnings.push(text),
                Level::Off => {}
            }
        }
        if !errors.is_empty() {
            return Decision::reject(errors.join("; "), None, warnings);
        }

        let mut mutated_object = None;
        let object = &objects[0];
        // Like the webhook (registered for CREATE only): a running pod's spec
        // is immutable, so injecting on UPDATE would only make it fail.
        if self.settings.mutate && operation == "CREATE" && is_pod(object) && sa_name.is_some() {
            if let (Some(sa), Some(name)) = (&service_account, &sa_name) {
                let mut pod = object.doc.value.clone();
                let options = MutateOptions {
                    layout: self.layout,
                    tenant_id: self.settings.tenant_id.clone(),
                    authority_host: self.settings.authority_host.clone(),
                    kubernetes_version: self.kubernetes_version,
                    default_namespace: object.namespace.clone(),
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

/// Rules about the set of linted files rather than one object: the admission
/// face looks the ServiceAccount up instead, and sees no federated
/// credentials besides the one admitted.
const ADMISSION_SKIPPED: &[&str] = &["WI004", "WI030", "WI031"];
