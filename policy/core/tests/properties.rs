//! Property tests over generated Pods, ServiceAccounts and federated
//! credentials: the mutation is idempotent, touches only what the webhook
//! owns, and is exactly its JSON Patch; lint never panics and every finding
//! points at a line of its file.

use proptest::prelude::*;
use serde_json::{Value, json};
use wi_core::{Layout, LintOptions, MutateOptions, SourceFile};

const GUID: &str = "11111111-2222-4333-8444-555555555555";

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,8}[a-z0-9]"
}

fn env_var() -> impl Strategy<Value = Value> {
    (prop_oneof![Just("AZURE_CLIENT_ID".to_string()), Just("AZURE_FEDERATED_TOKEN_FILE".to_string()), "[A-Z][A-Z_]{0,6}"], "[ -~]{0,12}")
        .prop_map(|(name, value)| json!({"name": name, "value": value}))
}

fn container() -> impl Strategy<Value = Value> {
    (name(), prop::collection::vec(env_var(), 0..3), prop::bool::ANY, prop::bool::ANY).prop_map(|(name, env, mount, ports)| {
        let mut c = json!({"name": name, "image": "registry.example/app:1"});
        if !env.is_empty() {
            c["env"] = Value::Array(env);
        }
        if mount {
            c["volumeMounts"] = json!([{"name": "data", "mountPath": "/data"}]);
        }
        if ports {
            c["ports"] = json!([{"containerPort": 8080}]);
        }
        c
    })
}

/// A pod opted in to Workload ID (or not), with its ServiceAccount.
fn pod_and_service_account() -> impl Strategy<Value = (Value, Value)> {
    (
        prop::collection::vec(container(), 1..4),
        prop::collection::vec(container(), 0..3),
        prop::bool::weighted(0.85),
        prop::option::of(prop_oneof![Just("3600"), Just("86400"), Just("7200")]),
        prop::option::of(prop::bool::ANY),
        prop::bool::ANY,
        prop::bool::ANY,
        prop::bool::ANY,
    )
        .prop_map(|(mut containers, mut init, opted_in, expiration, proxy, skip_first, volumes, tenant)| {
            // Container names are unique across a pod's containers and init
            // containers (the API server refuses others); the checks below
            // find containers by name.
            let mut seen = std::collections::HashSet::new();
            for (i, c) in containers.iter_mut().chain(init.iter_mut()).enumerate() {
                if !seen.insert(c["name"].as_str().unwrap_or_default().to_string()) {
                    c["name"] = json!(format!("{}-{i}", c["name"].as_str().unwrap_or_default()));
                    seen.insert(c["name"].as_str().unwrap_or_default().to_string());
                }
            }
            let mut annotations = serde_json::Map::new();
            if let Some(e) = expiration {
                annotations.insert("azure.workload.identity/service-account-token-expiration".into(), json!(e));
            }
            if proxy == Some(true) {
                annotations.insert("azure.workload.identity/inject-proxy-sidecar".into(), json!("true"));
            }
            if skip_first {
                annotations.insert("azure.workload.identity/skip-containers".into(), containers[0]["name"].clone());
            }
            let mut pod = json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": "p",
                    "namespace": "ns",
                    "labels": {"app": "a", "azure.workload.identity/use": if opted_in { "true" } else { "false" }},
                    "annotations": annotations,
                },
                "spec": {"serviceAccountName": "sa", "containers": containers, "restartPolicy": "Always"},
            });
            if !init.is_empty() {
                pod["spec"]["initContainers"] = Value::Array(init);
            }
            if volumes {
                pod["spec"]["volumes"] = json!([{"name": "data", "emptyDir": {}}]);
            }
            let mut sa = json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "sa", "namespace": "ns", "annotations": {"azure.workload.identity/client-id": GUID}},
            });
            if tenant {
                sa["metadata"]["annotations"]["azure.workload.identity/tenant-id"] = json!(GUID);
            }
            (pod, sa)
        })
}

fn options(layout: Layout, version: Option<(u32, u32)>) -> MutateOptions {
    MutateOptions {
        layout,
        tenant_id: Some(GUID.into()),
        kubernetes_version: version,
        default_namespace: "default".into(),
        ..Default::default()
    }
}

fn file(name: &str, objects: &[&Value]) -> SourceFile {
    SourceFile { name: name.into(), content: serde_json::to_string_pretty(&json!({"kind": "List", "apiVersion": "v1", "items": objects})).unwrap() }
}

/// Every field of `before` that the webhook does not own is unchanged in
/// `after`; containers keep their order, fields, and env entries in order.
fn only_owned_fields_changed(before: &Value, after: &Value) -> Result<(), String> {
    if before["metadata"] != after["metadata"] {
        return Err("metadata changed".into());
    }
    let (b, a) = (before["spec"].as_object().unwrap(), after["spec"].as_object().unwrap());
    for (key, value) in b {
        if !matches!(key.as_str(), "containers" | "initContainers" | "volumes") && a.get(key) != Some(value) {
            return Err(format!("spec.{key} changed"));
        }
    }
    for list in ["containers", "initContainers"] {
        let after_list = a.get(list).and_then(Value::as_array).cloned().unwrap_or_default();
        for original in b.get(list).and_then(Value::as_array).into_iter().flatten() {
            let Some(kept) = after_list.iter().find(|c| c["name"] == original["name"]) else {
                return Err(format!("{list}: container {} removed", original["name"]));
            };
            for (field, value) in original.as_object().unwrap() {
                match field.as_str() {
                    "env" | "volumeMounts" => {
                        let now = kept[field].as_array().ok_or(format!("{field} of {} is gone", original["name"]))?;
                        if !now.starts_with(value.as_array().unwrap()) {
                            return Err(format!("{list}: {field} of {} changed before the injected entries", original["name"]));
                        }
                    }
                    _ if kept.get(field) != Some(value) => return Err(format!("{list}: {field} of {} changed", original["name"])),
                    _ => {}
                }
            }
        }
    }
    for volume in b.get("volumes").and_then(Value::as_array).into_iter().flatten() {
        if !a["volumes"].as_array().is_some_and(|v| v.contains(volume)) {
            return Err(format!("volume {} removed or changed", volume["name"]));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn mutation_is_idempotent_owned_and_equal_to_its_patch(
        (pod, sa) in pod_and_service_account(),
        layout in prop_oneof![Just(Layout::Classic), Just(Layout::V1_6)],
        version in prop::option::of((Just(1u32), 28u32..35)),
    ) {
        let options = options(layout, version);
        let Ok(first) = wi_core::mutate(&[file("in.json", &[&pod, &sa])], &options) else {
            // A refusal (for example a proxy without a port) is not a mutation.
            return Ok(());
        };
        let mutated = first[0].object.clone();
        // The patch applied to the input is the mutated object.
        let mut patched = pod.clone();
        let patch: json_patch::Patch = serde_json::from_value(wi_core::patch::to_json(&first[0].patch)).unwrap();
        json_patch::patch(&mut patched, &patch).unwrap();
        prop_assert_eq!(&patched, &mutated);
        if pod["metadata"]["labels"]["azure.workload.identity/use"] != "true" {
            prop_assert_eq!(&mutated, &pod);
        } else {
            // An opted-in pod always gets at least the token volume.
            prop_assert!(mutated["spec"]["volumes"].as_array().is_some_and(|v| v.len() > pod["spec"]["volumes"].as_array().map_or(0, Vec::len)));
        }
        if let Err(e) = only_owned_fields_changed(&pod, &mutated) {
            prop_assert!(false, "{}\nbefore: {:#}\nafter: {:#}", e, pod, mutated);
        }
        // Mutating the mutated pod changes nothing.
        let second = wi_core::mutate(&[file("again.json", &[&mutated, &sa])], &options).unwrap();
        prop_assert_eq!(&second[0].object, &mutated);
        prop_assert!(second[0].patch.is_empty());
    }

    #[test]
    fn lint_never_panics_and_lines_exist(
        (pod, sa) in pod_and_service_account(),
        subject_ns in name(),
        issuer in prop_oneof![Just("https://westeurope.oic.prod-aks.azure.com/t/c/".to_string()), "https?://[a-z.]{1,12}/?[a-z/]{0,8}"],
        audiences in prop::collection::vec(prop_oneof![Just("api://AzureADTokenExchange".to_string()), "[a-z:/]{0,10}"], 0..3),
        as_yaml in prop::bool::ANY,
    ) {
        let fic = json!({
            "apiVersion": "managedidentity.azure.com/v1api20230131",
            "kind": "FederatedIdentityCredential",
            "metadata": {"name": "fic", "namespace": "ns"},
            "spec": {"owner": {"name": "id"}, "issuer": issuer, "subject": format!("system:serviceaccount:{subject_ns}:sa"), "audiences": audiences},
        });
        let content = if as_yaml {
            wi_core::render::yaml_stream(&[pod.clone(), sa.clone(), fic])
        } else {
            serde_json::to_string_pretty(&json!([pod, sa, fic])).unwrap()
        };
        let lines = content.lines().count() as u32;
        let file = SourceFile { name: "in".into(), content };
        let findings = wi_core::lint(std::slice::from_ref(&file), &LintOptions { default_namespace: "default".into(), ..Default::default() });
        let findings = findings.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        for f in &findings {
            prop_assert!(f.at.line >= 1 && f.at.line <= lines, "{} at line {} of {}", f.rule, f.at.line, lines);
        }
        if subject_ns != "ns" {
            prop_assert!(findings.iter().any(|f| f.rule == "WI030" || f.rule == "WI031"), "a FIC for another namespace goes unnoticed: {:?}", findings);
        }
    }
}
