//! A waPC host like Kubewarden's policy-server (wapc + wasmtime-provider):
//! the policy compiled once, a fresh instance per request, and the
//! `kubewarden/kubernetes/get_resource` capability answered from a fake
//! cluster the way policy-evaluator answers it.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};
use wapc::WapcHost;
use wasmtime_provider::{WasmtimeEngineProviderBuilder, WasmtimeEngineProviderPre};

use crate::{Case, repo_root};

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
impl Cluster {
    /// A cluster holding these ServiceAccounts, which the policy may read.
    pub fn with_service_accounts(objects: Vec<Value>) -> Arc<Cluster> {
        Arc::new(Cluster { objects, allowed: ["v1/ServiceAccount".to_string()].into() })
    }
}

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
                // Log records of policies built with the SDK's slog drain:
                // policy-server takes them; this host drops them.
                ("kubewarden", "tracing", "log") => Ok(Vec::new()),
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


/// Replays one lint case: every object of it is admitted (with the case's
/// ServiceAccounts in the cluster) and must be rejected exactly when the
/// core reports an error finding on it that admission applies.
/// A case's objects, and its ServiceAccounts for the fake cluster.
fn case_objects(case: &Case) -> Result<(Vec<wi_core::Object>, Vec<Value>), String> {
    let objects = wi_core::objects::load(&[case.source()], "default").map_err(|e| format!("{}: input error {e:?}", case.input))?;
    let service_accounts = objects.iter().filter(|o| o.kind == "ServiceAccount").map(|o| o.doc.value.clone()).collect();
    Ok((objects, service_accounts))
}

pub fn lint_case_problems(policy: &Policy, case: &Case) -> Vec<String> {
    let mut problems = Vec::new();
    let (objects, service_accounts) = match case_objects(case) {
        Ok(found) => found,
        Err(e) => return vec![e],
    };
    let settings = json!({"layout": if crate::layout(case) == wi_core::Layout::V1_6 { "v1.6" } else { "classic" },
        "tenantId": case.arg("--tenant-id"), "authorityHost": case.arg("--authority-host"),
        "webhookVersion": case.arg("--webhook-version"), "kubernetesVersion": case.arg("--kubernetes-version")});
    let options = wi_core::LintOptions {
        layout: crate::layout(case),
        tenant_id: case.arg("--tenant-id"),
        authority_host: case.arg("--authority-host"),
        default_namespace: "default".into(),
        webhook_version: case.arg("--webhook-version").and_then(|v| wi_core::options::parse_webhook_version(&v).ok()),
        kubernetes_version: case.arg("--kubernetes-version").and_then(|v| wi_core::options::parse_kubernetes_version(&v).ok()),
        ..Default::default()
    };
    let all = wi_core::rules::run(&objects, &options);
    for (index, object) in objects.iter().enumerate() {
        // Kinds admission does not check (a SecretProviderClass, a
        // SecretStore) are refused as misconfiguration of the policy's
        // rules; their findings need the pods and ServiceAccounts of lint.
        if object.role == wi_core::Role::Other {
            continue;
        }
        let mut value = object.doc.value.clone();
        if value["metadata"]["namespace"].is_null() {
            value["metadata"]["namespace"] = json!("default");
        }
        let needs_sa = wi_core::admission::service_account_to_look_up(&admission_request(&value, "CREATE"));
        // The looked-up ServiceAccount's client ID is judged too (WI005, WI040).
        let sa_index = needs_sa
            .as_ref()
            .and_then(|(ns, name)| objects.iter().position(|o| o.kind == "ServiceAccount" && o.namespace == *ns && o.name == *name));
        // Errors the core finds on this object that admission judges
        // from this object (and its looked-up ServiceAccount) alone.
        let errors: BTreeSet<&str> = all
            .iter()
            .filter(|f| f.object == index || (Some(f.object) == sa_index && matches!(f.rule, "WI005" | "WI040")))
            .filter(|f| f.severity == wi_core::Severity::Error)
            .filter(|f| !matches!(f.rule, "WI004" | "WI019" | "WI024" | "WI025" | "WI030" | "WI031" | "WI032" | "WI051"))
            // WI002's ServiceAccount variant needs the ServiceAccount of a pod
            // that has not opted in; admission only looks up opted-in pods.
            .filter(|f| !(f.rule == "WI002" && f.pointer.contains("/metadata/labels/")))
            .map(|f| f.rule)
            .collect();
        let response = policy.validate(Cluster::with_service_accounts(service_accounts.clone()), &settings, &admission_request(&value, "CREATE"));
        let accepted = response["accepted"].as_bool();
        let message = response["message"].as_str().unwrap_or("");
        // A missing ServiceAccount is WI004, a warning by default, in
        // validate mode.
        let should_accept = errors.is_empty();
        if accepted != Some(should_accept) || errors.iter().any(|r| !message.contains(&format!("[{r}]"))) {
            problems.push(format!(
                "object {index} ({} {}, line {}): expected {} naming the core's errors {errors:?}\n  actual response:\n{response:#}\n  settings:\n{settings:#}\n  object:\n{value:#}",
                object.kind,
                object.name,
                object.doc.line,
                if should_accept { "acceptance" } else { "rejection" }
            ));
        }
    }
    problems
}

/// Replays one mutation case in mutate mode: every Pod the CLI mutates is
/// mutated identically by the policy, every refusal is a refusal, and
/// sending the mutated pod again changes nothing.
pub fn mutation_case_problems(policy: &Policy, case: &Case) -> Vec<String> {
    let mut problems = Vec::new();
    let (objects, service_accounts) = match case_objects(case) {
        Ok(found) => found,
        Err(e) => return vec![e],
    };
    let settings = json!({
        "mutate": true,
        "layout": if crate::layout(case) == wi_core::Layout::V1_6 { "v1.6" } else { "classic" },
        "tenantId": case.arg("--tenant-id"),
        "authorityHost": case.arg("--authority-host"),
        "kubernetesVersion": case.arg("--kubernetes-version").unwrap_or_else(|| "1.31".into()),
        "tokenProxy": case.arg("--token-proxy"),
        "tokenProxySniName": case.arg("--token-proxy-sni-name"),
        "tokenProxyCaConfigMap": case.arg("--token-proxy-ca-config-map"),
        // Admission judges rules too; only the mutation is compared here.
        // WI006 and WI008-WI010 would reject first what the mutation
        // refuses or keeps.
        "rules": {"WI006": "off", "WI007": "off", "WI008": "off", "WI009": "off", "WI010": "off", "WI012": "off", "WI013": "off"},
    });
    let expected_error = std::fs::read_to_string(case.expected_path("error")).ok();
    let expected: Vec<Value> = match std::fs::read_to_string(case.expected_path("expected.json")) {
        Ok(text) => match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => return vec![format!("{}.expected.json: not JSON: {e}", case.name)],
        },
        Err(_) => Vec::new(),
    };
    for (index, object) in objects.iter().enumerate().filter(|(_, o)| o.kind == "Pod") {
        let response = policy.validate(Cluster::with_service_accounts(service_accounts.clone()), &settings, &admission_request(&object.doc.value, "CREATE"));
        let name = format!("pod {index} ({}, line {})", object.name, object.doc.line);
        if let Some(error) = &expected_error {
            if response["accepted"] != false || !response["message"].as_str().unwrap_or("").contains(error.trim()) {
                problems.push(format!(
                    "{name}: expected a refusal containing\n{}\n  actual response:\n{response:#}",
                    error.trim()
                ));
            }
            continue;
        }
        let Some(want) = expected.get(index) else {
            problems.push(format!("{name}: {} has no object {index}", format!("{}.expected.json", case.name)));
            continue;
        };
        let changed = want != &object.doc.value;
        let got = if changed { &response["mutated_object"] } else { &Value::Null };
        if response["accepted"] != true || (changed && got != want) || (!changed && !response["mutated_object"].is_null()) {
            let expectation = if changed { format!("accepted with mutated_object\n{want:#}") } else { "accepted unchanged (mutated_object null)".into() };
            problems.push(format!("{name}: expected {expectation}\n  actual response:\n{response:#}"));
            continue;
        }
        // Re-invocation (reinvocationPolicy: IfNeeded) sends the mutated
        // pod in the same CREATE request: no change.
        let again = policy.validate(Cluster::with_service_accounts(service_accounts.clone()), &settings, &admission_request(want, "CREATE"));
        if again["accepted"] != true || !again["mutated_object"].is_null() {
            problems.push(format!(
                "{name}: re-invocation changed the pod; expected accepted with mutated_object null\n  sent:\n{want:#}\n  actual response:\n{again:#}"
            ));
        }
    }
    problems
}

