//! Kubewarden policy: the waPC face of wi-core. It reads the admission
//! request, asks the host for the pod's ServiceAccount when the core says one
//! is needed, and returns the core's decision. No Workload ID logic here.

use kubewarden_policy_sdk::host_capabilities::kubernetes::{GetResourceRequest, get_resource};
use kubewarden_policy_sdk::response::ValidationResponse;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest::{self as guest, CallResult};
use kubewarden_policy_sdk::protocol_version_guest;
use serde_json::Value;
use wi_core::admission::{Decision, ServiceAccountLookup, Settings, service_account_to_look_up};

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    guest::register_function("validate", validate);
    guest::register_function("validate_settings", validate_settings);
    guest::register_function("protocol_version", protocol_version_guest);
}

fn respond(decision: Decision) -> CallResult {
    Ok(serde_json::to_vec(&ValidationResponse {
        accepted: decision.accepted,
        message: decision.message,
        code: decision.code,
        mutated_object: decision.mutated_object,
        audit_annotations: None,
        warnings: (!decision.warnings.is_empty()).then_some(decision.warnings),
    })?)
}

fn reject(message: String) -> CallResult {
    respond(Decision { accepted: false, message: Some(message), code: Some(400), warnings: vec![], mutated_object: None })
}

/// Asks policy-server for a ServiceAccount, sorting its errors into the
/// outcomes the core distinguishes.
fn look_up(namespace: &str, name: &str) -> ServiceAccountLookup {
    let request = GetResourceRequest {
        api_version: "v1".into(),
        kind: "ServiceAccount".into(),
        name: name.into(),
        namespace: Some(namespace.into()),
        disable_cache: false,
        field_masks: None,
    };
    match get_resource::<Value>(&request) {
        Ok(sa) => ServiceAccountLookup::Found(sa),
        Err(e) => {
            let text = format!("{e:#}");
            // policy-evaluator's wording when the resource is not granted in
            // contextAwareResources.
            if text.contains("has not been granted access") {
                ServiceAccountLookup::NotPermitted
            } else if text.contains("Cannot find v1/ServiceAccount named") || text.contains("reason: \"NotFound\"") {
                // policy-evaluator's words for a 404 (`Cannot find v1/
                // ServiceAccount named ...`); kube's own for older hosts.
                ServiceAccountLookup::NotFound
            } else {
                ServiceAccountLookup::Failed(text)
            }
        }
    }
}

fn validate(payload: &[u8]) -> CallResult {
    let Ok(request) = serde_json::from_slice::<Value>(payload) else {
        return reject("the validation request is not JSON".into());
    };
    let settings = match Settings::from_json(request.get("settings").map(|s| s.to_string()).unwrap_or_default().as_bytes()) {
        Ok(s) => s,
        Err(e) => return reject(e),
    };
    let policy = match settings.validate() {
        Ok(p) => p,
        Err(e) => return reject(e),
    };
    let Some(admission) = request.get("request").filter(|r| r.is_object()) else {
        return reject("the validation request has no `request` object".into());
    };
    let lookup = match service_account_to_look_up(admission) {
        Some((ns, name)) => look_up(&ns, &name),
        None => ServiceAccountLookup::NotNeeded,
    };
    respond(policy.review(admission, lookup))
}

fn validate_settings(payload: &[u8]) -> CallResult {
    let result = Settings::from_json(payload).and_then(Settings::validate);
    Ok(serde_json::to_vec(&SettingsValidationResponse {
        valid: result.is_ok(),
        message: result.err(),
    })?)
}
