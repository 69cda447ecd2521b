//! The built Kubewarden policy in a real waPC host (wapc + wasmtime-provider,
//! the crates policy-server runs policies with), a fresh instance per
//! request. The host answers `kubewarden/kubernetes/get_resource` like
//! policy-evaluator: from a fake cluster's objects, refusing kinds not granted
//! in `contextAwareResources` with policy-evaluator's message.
//!
//! Three tables: the AdmissionReview fixtures in `tests/fixtures/kubewarden`
//! with their full expected `ValidationResponse`; and the lint and mutation
//! tables the CLI tests use, replayed object by object as admission requests,
//! which must agree with the core. Each fixture of each table is its own
//! trial (harness = false, libtest-mimic): `kubewarden::<fixture>`,
//! `kubewarden::lint_table::<case>`, `kubewarden::mutate_table::<case>`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, LazyLock};

use libtest_mimic::{Failed, Trial};
use serde_json::{Value, json};
use wi_conformance::policy_host::{Cluster, Policy, admission_request};
use wi_conformance::{Case, cases, layout, repo_root, run_trials, trial_name, verdict};

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
    for case in cases("lint") {
        trials.push(Trial::test(format!("kubewarden::lint_table::{}", case.trial_name()), move || agrees_with_the_core_on_the_lint_case(&case)));
    }
    for case in cases("mutate") {
        trials.push(Trial::test(format!("kubewarden::mutate_table::{}", case.trial_name()), move || {
            agrees_with_the_core_on_the_mutation_case(&case)
        }));
    }
    trials.push(Trial::test("kubewarden::mutate_table::has_at_least_15_pods", || {
        let pods: usize = cases("mutate")
            .iter()
            .map(|case| wi_core::objects::load(&[case.source()], "default").unwrap().iter().filter(|o| o.kind == "Pod").count())
            .sum();
        if pods < 15 {
            return Err(format!("only {pods} pods in the mutation table, expected at least 15").into());
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

fn everything_allowed(objects: Vec<Value>) -> Arc<Cluster> {
    Arc::new(Cluster { objects, allowed: ["v1/ServiceAccount".to_string()].into() })
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

/// Replays one lint case: every object of it is admitted (with the case's
/// ServiceAccounts in the cluster) and must be rejected exactly when the
/// core reports an error finding on it that admission applies.
fn agrees_with_the_core_on_the_lint_case(case: &Case) -> Result<(), Failed> {
    let mut problems = Vec::new();
    let objects = wi_core::objects::load(&[case.source()], "default").map_err(|e| format!("{}: input error {e:?}", case.input))?;
    let service_accounts: Vec<Value> = objects.iter().filter(|o| o.kind == "ServiceAccount").map(|o| o.doc.value.clone()).collect();
    let settings = json!({"layout": if layout(case) == wi_core::Layout::V1_6 { "v1.6" } else { "classic" },
        "tenantId": case.arg("--tenant-id"), "authorityHost": case.arg("--authority-host")});
    let options = wi_core::LintOptions {
        layout: layout(case),
        tenant_id: case.arg("--tenant-id"),
        authority_host: case.arg("--authority-host"),
        default_namespace: "default".into(),
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
            .filter(|f| !matches!(f.rule, "WI004" | "WI024" | "WI025" | "WI030" | "WI031" | "WI032" | "WI051"))
            // WI002's ServiceAccount variant needs the ServiceAccount of a pod
            // that has not opted in; admission only looks up opted-in pods.
            .filter(|f| !(f.rule == "WI002" && f.pointer.contains("/metadata/labels/")))
            .map(|f| f.rule)
            .collect();
        let response = POLICY.validate(everything_allowed(service_accounts.clone()), &settings, &admission_request(&value, "CREATE"));
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
    verdict(&case.input, problems)
}

/// Replays one mutation case in mutate mode: every Pod the CLI mutates is
/// mutated identically by the policy, every refusal is a refusal, and
/// sending the mutated pod again changes nothing.
fn agrees_with_the_core_on_the_mutation_case(case: &Case) -> Result<(), Failed> {
    let mut problems = Vec::new();
    let objects = wi_core::objects::load(&[case.source()], "default").map_err(|e| format!("{}: input error {e:?}", case.input))?;
    let service_accounts: Vec<Value> = objects.iter().filter(|o| o.kind == "ServiceAccount").map(|o| o.doc.value.clone()).collect();
    let settings = json!({
        "mutate": true,
        "layout": if layout(case) == wi_core::Layout::V1_6 { "v1.6" } else { "classic" },
        "tenantId": case.arg("--tenant-id"),
        "authorityHost": case.arg("--authority-host"),
        "kubernetesVersion": case.arg("--kubernetes-version").unwrap_or_else(|| "1.31".into()),
        // Admission judges rules too; only the mutation is compared here.
        // WI006 and WI008-WI010 would reject first what the mutation
        // refuses or keeps.
        "rules": {"WI006": "off", "WI007": "off", "WI008": "off", "WI009": "off", "WI010": "off", "WI012": "off", "WI013": "off"},
    });
    let expected_error = std::fs::read_to_string(case.expected_path("error")).ok();
    let expected: Vec<Value> = match std::fs::read_to_string(case.expected_path("expected.json")) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", relative(&case.expected_path("expected.json"))))?,
        Err(_) => Vec::new(),
    };
    for (index, object) in objects.iter().enumerate().filter(|(_, o)| o.kind == "Pod") {
        let response = POLICY.validate(everything_allowed(service_accounts.clone()), &settings, &admission_request(&object.doc.value, "CREATE"));
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
            problems.push(format!("{name}: {} has no object {index}", relative(&case.expected_path("expected.json"))));
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
        let again = POLICY.validate(everything_allowed(service_accounts.clone()), &settings, &admission_request(want, "CREATE"));
        if again["accepted"] != true || !again["mutated_object"].is_null() {
            problems.push(format!(
                "{name}: re-invocation changed the pod; expected accepted with mutated_object null\n  sent:\n{want:#}\n  actual response:\n{again:#}"
            ));
        }
    }
    verdict(&case.input, problems)
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
