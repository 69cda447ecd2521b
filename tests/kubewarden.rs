//! The built Kubewarden policy in a real waPC host (wapc + wasmtime-provider,
//! the crates policy-server runs policies with), a fresh instance per
//! request. The host answers `kubewarden/kubernetes/get_resource` like
//! policy-evaluator: from a fake cluster's objects, refusing kinds not granted
//! in `contextAwareResources` with policy-evaluator's message.
//!
//! Three tables: the AdmissionReview fixtures in `tests/fixtures/kubewarden`
//! with their full expected `ValidationResponse`; and the lint and mutation
//! tables the CLI tests use, replayed object by object as admission requests,
//! which must agree with the core.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};
use wi_conformance::policy_host::{Cluster, Policy, admission_request};
use wi_conformance::{cases, layout, repo_root};

fn everything_allowed(objects: Vec<Value>) -> Arc<Cluster> {
    Arc::new(Cluster { objects, allowed: ["v1/ServiceAccount".to_string()].into() })
}

#[test]
fn answers_every_admission_fixture_exactly() {
    let policy = Policy::load();
    let dir = repo_root().join("tests/fixtures/kubewarden");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    assert!(paths.len() >= 12, "only {} admission fixtures", paths.len());
    let mut failures = Vec::new();
    for path in paths {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let cluster = Arc::new(Cluster::of_fixture(&case));
        let got = match case.get("rawPayload") {
            Some(raw) => policy.call(cluster, "validate", raw.as_str().unwrap().as_bytes()),
            None => policy.validate(cluster, &case["settings"], &case["request"]),
        };
        let expected = &case["response"];
        // Kubewarden's ValidationResponse carries every field; absent = null.
        for field in ["accepted", "message", "code", "warnings", "mutated_object"] {
            if got[field] != expected[field] {
                failures.push(format!(
                    "{}: {field} = {:#}, expected {:#}",
                    path.file_name().unwrap().to_string_lossy(),
                    got[field],
                    expected[field]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Replays the lint table: every object of every case is admitted (with the
/// case's ServiceAccounts in the cluster) and must be rejected exactly when
/// the core reports an error finding on it that admission applies.
#[test]
fn agrees_with_the_core_on_the_lint_table() {
    let policy = Policy::load();
    let mut failures = Vec::new();
    for case in cases("lint") {
        let objects = wi_core::objects::load(&[case.source()], "default").unwrap();
        let service_accounts: Vec<Value> =
            objects.iter().filter(|o| o.kind == "ServiceAccount").map(|o| o.doc.value.clone()).collect();
        let settings = json!({"layout": if layout(&case) == wi_core::Layout::V1_6 { "v1.6" } else { "classic" },
            "tenantId": case.arg("--tenant-id"), "authorityHost": case.arg("--authority-host")});
        let options = wi_core::LintOptions {
            layout: layout(&case),
            tenant_id: case.arg("--tenant-id"),
            authority_host: case.arg("--authority-host"),
            default_namespace: "default".into(),
            ..Default::default()
        };
        let all = wi_core::rules::run(&objects, &options);
        for (index, object) in objects.iter().enumerate() {
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
                .filter(|f| !matches!(f.rule, "WI004" | "WI024" | "WI025" | "WI030" | "WI031" | "WI032"))
                // WI002's ServiceAccount variant needs the ServiceAccount of a pod
                // that has not opted in; admission only looks up opted-in pods.
                .filter(|f| !(f.rule == "WI002" && f.pointer.contains("/metadata/labels/")))
                .map(|f| f.rule)
                .collect();
            let response = policy.validate(everything_allowed(service_accounts.clone()), &settings, &admission_request(&value, "CREATE"));
            let accepted = response["accepted"].as_bool().unwrap();
            let message = response["message"].as_str().unwrap_or("");
            // A missing ServiceAccount is WI004, a warning by default, in
            // validate mode.
            let should_accept = errors.is_empty();
            if accepted != should_accept || errors.iter().any(|r| !message.contains(&format!("[{r}]"))) {
                failures.push(format!("{} object {index} ({}): core errors {errors:?}; policy said {response}", case.name, object.kind));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Replays the mutation table in mutate mode: every Pod the CLI mutates is
/// mutated identically by the policy, every refusal is a refusal, and
/// sending the mutated pod again changes nothing.
#[test]
fn agrees_with_the_core_on_the_mutation_table() {
    let policy = Policy::load();
    let mut failures = Vec::new();
    let mut pods_checked = 0;
    for case in cases("mutate") {
        let objects = wi_core::objects::load(&[case.source()], "default").unwrap();
        let service_accounts: Vec<Value> =
            objects.iter().filter(|o| o.kind == "ServiceAccount").map(|o| o.doc.value.clone()).collect();
        let settings = json!({
            "mutate": true,
            "layout": if layout(&case) == wi_core::Layout::V1_6 { "v1.6" } else { "classic" },
            "tenantId": case.arg("--tenant-id"),
            "authorityHost": case.arg("--authority-host"),
            "kubernetesVersion": case.arg("--kubernetes-version").unwrap_or_else(|| "1.31".into()),
            // Admission judges rules too; only the mutation is compared here.
            // WI006 and WI008-WI010 would reject first what the mutation
            // refuses or keeps.
            "rules": {"WI006": "off", "WI007": "off", "WI008": "off", "WI009": "off", "WI010": "off", "WI012": "off", "WI013": "off"},
        });
        let expected_error = std::fs::read_to_string(case.expected_path("error")).ok();
        let expected: Vec<Value> = std::fs::read_to_string(case.expected_path("expected.json"))
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap_or_default();
        for (index, object) in objects.iter().enumerate().filter(|(_, o)| o.kind == "Pod") {
            pods_checked += 1;
            let response = policy.validate(everything_allowed(service_accounts.clone()), &settings, &admission_request(&object.doc.value, "CREATE"));
            let name = format!("{} pod {index}", case.name);
            if let Some(error) = &expected_error {
                if response["accepted"] != false || !response["message"].as_str().unwrap_or("").contains(error.trim()) {
                    failures.push(format!("{name}: expected refusal {error:?}, got {response}"));
                }
                continue;
            }
            let want = &expected[index];
            let changed = want != &object.doc.value;
            let got = if changed { &response["mutated_object"] } else { &Value::Null };
            if response["accepted"] != true || (changed && got != want) || (!changed && !response["mutated_object"].is_null()) {
                failures.push(format!("{name}: expected {want:#}, got {response:#}"));
                continue;
            }
            // Re-invocation (reinvocationPolicy: IfNeeded) sends the mutated
            // pod in the same CREATE request: no change.
            let again = policy.validate(everything_allowed(service_accounts.clone()), &settings, &admission_request(want, "CREATE"));
            if again["accepted"] != true || !again["mutated_object"].is_null() {
                failures.push(format!("{name}: re-invocation changed the pod: {again}"));
            }
        }
    }
    assert!(pods_checked >= 15, "only {pods_checked} pods in the mutation table");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn validate_settings_agrees_with_the_published_schema() {
    let policy = Policy::load();
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(repo_root().join("bundles/kubewarden/settings.schema.json")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the settings schema is a valid JSON Schema");
    let no_cluster = || Arc::new(Cluster { objects: vec![], allowed: BTreeSet::new() });
    // Every example settings file is valid for both.
    let examples_dir = repo_root().join("bundles/kubewarden");
    let mut examples = 0;
    for entry in std::fs::read_dir(&examples_dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("policy-") {
            continue;
        }
        // The ClusterAdmissionPolicy manifests carry the settings under spec.settings.
        let text = std::fs::read_to_string(&path).unwrap();
        let docs = wi_core::objects::load(&[wi_core::SourceFile { name: name.clone(), content: text }], "default").unwrap();
        for doc in docs {
            let settings = doc.doc.value["spec"]["settings"].clone();
            assert!(validator.is_valid(&settings), "{name}: schema rejects {settings}");
            let answer = policy.call(no_cluster(), "validate_settings", settings.to_string().as_bytes());
            assert_eq!(answer["valid"], true, "{name}: {answer}");
            examples += 1;
        }
    }
    assert!(examples >= 2);
    // Invalid settings: both reject, and the policy's message names the field.
    let invalid = [
        (json!({"layout": "v2"}), "layout"),
        (json!({"tenantId": "not-a-guid"}), "tenantId"),
        (json!({"authorityHost": "http://login.example.com/"}), "authorityHost"),
        (json!({"kubernetesVersion": "latest"}), "kubernetesVersion"),
        (json!({"allowedClientIds": {"finance": ["nope"]}}), "allowedClientIds.finance"),
        (json!({"allowedClientIds": {"Finance!": []}}), "allowedClientIds"),
        (json!({"rules": {"WI999": "error"}}), "rules"),
        (json!({"rules": {"WI001": "fatal"}}), "rules.WI001"),
        (json!({"defaultClientIds": {"no-slash": "5a4f7c1e-2b3d-4e5f-8a9b-0c1d2e3f4a5b"}}), "defaultClientIds"),
        (json!({"defaultClientIds": {"ns/sa": "x"}}), "defaultClientIds.ns/sa"),
        (json!({"mutate": "yes"}), "mutate"),
        (json!({"unknownSetting": 1}), "unknownSetting"),
    ];
    for (settings, field) in invalid {
        assert!(!validator.is_valid(&settings), "schema accepts {settings}");
        let answer = policy.call(no_cluster(), "validate_settings", settings.to_string().as_bytes());
        assert_eq!(answer["valid"], false, "policy accepts {settings}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(field), "{settings}: message {message:?} does not name {field}");
    }
    let malformed = policy.call(no_cluster(), "validate_settings", b"{not json");
    assert_eq!(malformed["valid"], false);
}

#[test]
fn protocol_version_is_answered() {
    let policy = Policy::load();
    let answer = policy.call(Arc::new(Cluster { objects: vec![], allowed: BTreeSet::new() }), "protocol_version", b"");
    assert_eq!(answer, json!("v1"));
}

#[test]
fn schema_rule_codes_are_exactly_the_catalogue() {
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(repo_root().join("bundles/kubewarden/settings.schema.json")).unwrap()).unwrap();
    let rules_schema = json!({"type": "object", "propertyNames": schema["properties"]["rules"]["propertyNames"]});
    let validator = jsonschema::validator_for(&rules_schema).unwrap();
    for n in 0..100 {
        let code = format!("WI{n:03}");
        let in_catalogue = wi_core::rules::find(&code).is_some();
        assert_eq!(validator.is_valid(&json!({code.clone(): "off"})), in_catalogue, "schema and catalogue disagree on {code}");
    }
}

#[test]
fn huge_and_hostile_requests_get_an_answer_not_a_trap() {
    let policy = Policy::load();
    let cluster = || everything_allowed(vec![json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "app-sa", "namespace": "app", "annotations": {"azure.workload.identity/client-id": "11111111-2222-4333-8444-555555555555"}}})]);
    // A 5 MB pod: 5,000 containers.
    let containers: Vec<Value> = (0..5000).map(|i| json!({"name": format!("c{i}"), "image": "x".repeat(1000)})).collect();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big", "namespace": "app", "labels": {"azure.workload.identity/use": "true"}},
        "spec": {"serviceAccountName": "app-sa", "containers": containers}});
    let response = policy.validate(cluster(), &json!({"mutate": true}), &admission_request(&pod, "CREATE"));
    assert_eq!(response["accepted"], true);
    assert_eq!(response["mutated_object"]["spec"]["containers"][4999]["env"][0]["name"], "AZURE_CLIENT_ID");
    // Deeply nested JSON inside the object.
    let mut deep = json!(1);
    for _ in 0..100 {
        deep = json!([deep]);
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "deep", "namespace": "app"}, "spec": {"x": deep}});
    let response = policy.validate(cluster(), &json!({}), &admission_request(&pod, "CREATE"));
    assert_eq!(response["accepted"], true);
    // Wrong types where objects are expected.
    for object in [json!({"kind": "Pod", "metadata": "x"}), json!({"kind": 5}), json!("text"), json!({"kind": "Pod", "metadata": {"labels": {"azure.workload.identity/use": "true"}}, "spec": []})] {
        let response = policy.validate(cluster(), &json!({}), &admission_request(&object, "CREATE"));
        assert_eq!(response["accepted"], false, "{object}: {response}");
        assert!(response["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

/// The schema users validate against and `validate_settings` accept and
/// refuse the same values, on a table of edge cases (signs, spaces, sizes,
/// letter case, empty entries).
#[test]
fn schema_and_validate_settings_agree_on_edge_values() {
    let policy = Policy::load();
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(repo_root().join("bundles/kubewarden/settings.schema.json")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let guid = "5a4f7c1e-2b3d-4e5f-8a9b-0c1d2e3f4a5b";
    let long_sa = format!("{}.{}.{}.{}", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(63));
    let default_client_id = |key: String| {
        let mut ids = serde_json::Map::new();
        ids.insert(key, json!(guid));
        json!({ "defaultClientIds": ids })
    };
    let table: Vec<(Value, bool)> = vec![
        (Value::Null, true),
        (json!({}), true),
        (json!([]), false),
        (json!({"kubernetesVersion": "1.32"}), true),
        (json!({"kubernetesVersion": "v1.32.4"}), true),
        (json!({"kubernetesVersion": "1.33+"}), true),
        (json!({"kubernetesVersion": " 1.32"}), false),
        (json!({"kubernetesVersion": "+1.32"}), false),
        (json!({"kubernetesVersion": "1.99999999999"}), false),
        (json!({"kubernetesVersion": "1.32 "}), false),
        (json!({"kubernetesVersion": "1"}), false),
        (json!({"authorityHost": "https://login.microsoftonline.us/"}), true),
        (json!({"authorityHost": "https:///x"}), false),
        (json!({"authorityHost": "https://x?y"}), false),
        (json!({"authorityHost": "https://a.com:99999/"}), false),
        (json!({"authorityHost": "https://a..com/"}), false),
        (json!({"authorityHost": "https://a.com/%zz"}), false),
        (json!({"authorityHost": "https://login.microsoftonline.com:443/x%20y"}), true),
        (json!({"kubernetesVersion": "1.32.4.5"}), false),
        (json!({"kubernetesVersion": "1.32++"}), false),
        (json!({"kubernetesVersion": "1.28.5-eks-5e0fdde"}), true),
        (json!({"tenantId": guid}), true),
        (json!({"tenantId": format!(" {guid}")}), false),
        (json!({"rules": {"WI012": "off"}}), true),
        (json!({"rules": {"WI014": "warning"}}), true),
        (json!({"rules": {"wi012": "off"}}), false),
        (json!({"rules": {"WI012": "Off"}}), false),
        (json!({"allowedClientIds": {"finance": [guid]}}), true),
        (json!({"allowedClientIds": {"*": [guid]}}), true),
        (json!({"allowedClientIds": {"finance": []}}), false),
        (json!({"allowedClientIds": {"finance": [guid.to_uppercase()]}}), true),
        (json!({"defaultClientIds": {"finance/a.b": guid}}), true),
        (json!({"defaultClientIds": {"finance/a..b": guid}}), false),
        (json!({"defaultClientIds": {"finance/.a": guid}}), false),
        (json!({"defaultClientIds": {"finance/a-": guid}}), false),
        (default_client_id(format!("finance/{long_sa}")), false),
        (default_client_id(format!("finance/{}", &long_sa[..253])), true),
        (json!({"defaultClientIds": {"Finance/a": guid}}), false),
    ];
    let mut failures = Vec::new();
    for (settings, valid) in table {
        let by_schema = validator.is_valid(&settings);
        let answer = policy.call(Arc::new(Cluster { objects: vec![], allowed: BTreeSet::new() }), "validate_settings", settings.to_string().as_bytes());
        let by_policy = answer["valid"] == true;
        if by_schema != valid || by_policy != valid {
            failures.push(format!("{settings}: expected valid={valid}, schema says {by_schema}, validate_settings says {answer}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
