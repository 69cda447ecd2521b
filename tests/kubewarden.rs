//! The built Kubewarden policy in a real waPC host (wapc + wasmtime-provider,
//! the crates policy-server runs policies with), a fresh instance per
//! request. The host answers `kubewarden/kubernetes/get_resource` like
//! policy-evaluator: from a fake cluster's objects, refusing kinds not granted
//! in `contextAwareResources` with policy-evaluator's message.
//!
//! The AdmissionReview fixtures in `tests/fixtures/kubewarden` with their
//! full expected `ValidationResponse`, each its own trial (harness = false,
//! libtest-mimic): `kubewarden::<fixture>`. The lint and mutation tables
//! replayed object by object through the policy are in the every-face
//! table, tests/conformance.rs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, LazyLock};

use libtest_mimic::{Failed, Trial};
use serde_json::{Value, json};
use wi_conformance::policy_host::{Cluster, Policy, admission_request};
use wi_conformance::{repo_root, run_trials, trial_name, verdict};

/// Compiled once, on the first trial that needs it (`--list` does not).
static POLICY: LazyLock<Policy> = LazyLock::new(Policy::load);

fn main() -> ExitCode {
    let mut trials = Vec::new();
    for path in admission_fixtures() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        trials.push(Trial::test(format!("kubewarden::{}", trial_name(&name)), move || answers_the_admission_fixture(&path)));
    }
    trials.push(Trial::test("kubewarden::table_has_at_least_12_admission_fixtures", || {
        let n = admission_fixtures().len();
        if n < 12 {
            return Err(format!("only {n} admission fixtures in tests/fixtures/kubewarden, expected at least 12").into());
        }
        Ok(())
    }));
    let plain: [(&str, fn()); 5] = [
        ("validate_settings_agrees_with_the_published_schema", validate_settings_agrees_with_the_published_schema),
        ("protocol_version_is_answered", protocol_version_is_answered),
        ("schema_rule_codes_are_exactly_the_catalogue", schema_rule_codes_are_exactly_the_catalogue),
        ("huge_and_hostile_requests_get_an_answer_not_a_trap", huge_and_hostile_requests_get_an_answer_not_a_trap),
        ("schema_and_validate_settings_agree_on_edge_values", schema_and_validate_settings_agree_on_edge_values),
    ];
    for (name, test) in plain {
        trials.push(Trial::test(name, move || {
            test();
            Ok(())
        }));
    }
    run_trials(trials)
}

/// The AdmissionReview fixtures, sorted.
fn admission_fixtures() -> Vec<PathBuf> {
    let dir = repo_root().join("tests/fixtures/kubewarden");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths
}

fn relative(path: &Path) -> String {
    path.strip_prefix(repo_root()).unwrap_or(path).display().to_string()
}

/// One AdmissionReview fixture: the policy answers its `response` exactly.
fn answers_the_admission_fixture(path: &Path) -> Result<(), Failed> {
    let fixture = relative(path);
    let case: Value = serde_json::from_str(&std::fs::read_to_string(path)?).map_err(|e| format!("{fixture} is not JSON: {e}"))?;
    let cluster = Arc::new(Cluster::of_fixture(&case));
    let got = match case.get("rawPayload") {
        Some(raw) => POLICY.call(cluster, "validate", raw.as_str().unwrap().as_bytes()),
        None => POLICY.validate(cluster, &case["settings"], &case["request"]),
    };
    let expected = &case["response"];
    // Kubewarden's ValidationResponse carries every field; absent = null.
    let differing: Vec<&str> =
        ["accepted", "message", "code", "warnings", "mutated_object"].into_iter().filter(|field| got[field] != expected[field]).collect();
    if differing.is_empty() {
        return Ok(());
    }
    let mut problems = vec![format!("the policy's ValidationResponse differs from the fixture's `response` in: {}", differing.join(", "))];
    problems.extend(differing.iter().map(|field| format!("{field}\n  expected:\n{:#}\n  actual:\n{:#}", expected[field], got[field])));
    problems.push(format!("expected response:\n{expected:#}\nactual response:\n{got:#}"));
    verdict(&fixture, problems)
}

fn validate_settings_agrees_with_the_published_schema() {
    let policy = &*POLICY;
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

fn protocol_version_is_answered() {
    let policy = &*POLICY;
    let answer = policy.call(Arc::new(Cluster { objects: vec![], allowed: BTreeSet::new() }), "protocol_version", b"");
    assert_eq!(answer, json!("v1"));
}

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

fn huge_and_hostile_requests_get_an_answer_not_a_trap() {
    let policy = &*POLICY;
    let cluster = || Cluster::with_service_accounts(vec![json!({"apiVersion": "v1", "kind": "ServiceAccount",
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
fn schema_and_validate_settings_agree_on_edge_values() {
    let policy = &*POLICY;
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
