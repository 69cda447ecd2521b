//! A waPC host like Kubewarden's policy-server (wapc + wasmtime-provider):
//! the policy compiled once, a fresh instance per request, and the
//! `kubewarden/kubernetes/get_resource` capability answered from a fake
//! cluster the way policy-evaluator answers it.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};
use wapc::WapcHost;
use wasmtime_provider::{WasmtimeEngineProviderBuilder, WasmtimeEngineProviderPre};

use crate::repo_root;

pub fn policy_wasm() -> Vec<u8> {
    let path = repo_root().join("target/wasm32-unknown-unknown/wasm/wi_kubewarden.wasm");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; run `make policy`", path.display()))
}

pub struct Cluster {
    pub objects: Vec<Value>,
    /// `apiVersion/kind` the policy was granted in `contextAwareResources`.
    pub allowed: BTreeSet<String>,
}

impl Cluster {
    /// The cluster of an AdmissionReview fixture: its `cluster` objects and
    /// the grants of its `contextAwareResources`.
    pub fn of_fixture(case: &Value) -> Cluster {
        Cluster {
            objects: case["cluster"].as_array().cloned().unwrap_or_default(),
            allowed: case["contextAwareResources"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| format!("{}/{}", r["apiVersion"].as_str().unwrap_or(""), r["kind"].as_str().unwrap_or("")))
                .collect(),
        }
    }

    fn get_resource(&self, payload: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        let req: Value = serde_json::from_slice(payload)?;
        let (api_version, kind) = (req["api_version"].as_str().unwrap_or(""), req["kind"].as_str().unwrap_or(""));
        if !self.allowed.contains(&format!("{api_version}/{kind}")) {
            return Err(format!(
                "Policy has not been granted access to Kubernetes {api_version}/{kind} resources. The violation has been reported."
            )
            .into());
        }
        let name = req["name"].as_str().unwrap_or("");
        let namespace = req["namespace"].as_str().unwrap_or("");
        // A fixture can make the host answer a lookup with any object (a
        // misbehaving host): annotate it `test.wi-policy/answers-lookup-for: NAME`.
        let stand_in = self.objects.iter().find(|o| o["metadata"]["annotations"]["test.wi-policy/answers-lookup-for"] == name);
        // ...or fail it with a host error: `test.wi-policy/lookup-fails-with: TEXT`.
        if let Some(error) = stand_in.and_then(|o| o["metadata"]["annotations"]["test.wi-policy/lookup-fails-with"].as_str()) {
            return Err(error.to_string().into());
        }
        stand_in
            .or_else(|| self.objects.iter().find(|o| o["kind"] == kind && o["metadata"]["name"] == name && o["metadata"]["namespace"] == namespace))
            .map(|o| serde_json::to_vec(o).unwrap())
            .ok_or_else(|| {
                // policy-evaluator's words for a 404 (it asks with
                // `get_opt`; callback_handler/kubernetes/client.rs).
                format!("Callback evaluation failure: Cannot find {api_version}/{kind} named '{name}' inside of namespace 'Some({namespace:?})'").into()
            })
    }
}

/// Compiled once; every request gets a fresh instance, as in policy-server.
pub struct Policy {
    pre: WasmtimeEngineProviderPre,
}

impl Policy {
    pub fn load() -> Policy {
        Policy::from_bytes(&policy_wasm())
    }

    pub fn from_bytes(bytes: &[u8]) -> Policy {
        let pre = WasmtimeEngineProviderBuilder::new().module_bytes(bytes).build_pre().expect("policy compiles");
        Policy { pre }
    }

    pub fn call(&self, cluster: Arc<Cluster>, operation: &str, payload: &[u8]) -> Value {
        let engine = self.pre.rehydrate(None).unwrap();
        let host = WapcHost::new(
            Box::new(engine),
            Some(Box::new(move |_id, binding, namespace, op, payload| match (binding, namespace, op) {
                ("kubewarden", "kubernetes", "get_resource") => cluster.get_resource(payload),
                other => Err(format!("unexpected host call {other:?}").into()),
            })),
        )
        .expect("policy instantiates");
        let out = host.call(operation, payload).unwrap_or_else(|e| panic!("{operation} returned a guest error: {e}"));
        serde_json::from_slice(&out).expect("the policy answers JSON")
    }

    pub fn validate(&self, cluster: Arc<Cluster>, settings: &Value, request: &Value) -> Value {
        let payload = json!({"settings": settings, "request": request});
        self.call(cluster, "validate", payload.to_string().as_bytes())
    }
}

/// An AdmissionRequest as the API server sends it for `object`.
pub fn admission_request(object: &Value, operation: &str) -> Value {
    let api_version = object["apiVersion"].as_str().unwrap_or("v1");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = object["kind"].as_str().unwrap_or("");
    json!({
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_lowercase())},
        "requestKind": {"group": group, "version": version, "kind": kind},
        "name": object["metadata"]["name"],
        "namespace": object["metadata"]["namespace"],
        "operation": operation,
        "userInfo": {"username": "admin", "groups": ["system:authenticated"]},
        "object": object,
        "oldObject": null,
        "dryRun": false,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    })
}

