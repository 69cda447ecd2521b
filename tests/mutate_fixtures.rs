//! The mutation fixture table (`tests/fixtures/mutate`): each input is
//! mutated by the native core and by `kubectl-wi mutate -o json` (wasmtime).
//! Both must equal `<case>.expected.json` as JSON, or both must refuse with
//! the message in `<case>.error`. Every success is also checked to be
//! idempotent and to be exactly its RFC 6902 patch applied to the input.

use serde_json::Value;
use wi_conformance::{Case, blessing, cases, layout, run_cli};

fn options(case: &Case) -> wi_core::MutateOptions {
    wi_core::MutateOptions {
        layout: layout(case),
        tenant_id: case.arg("--tenant-id"),
        authority_host: case.arg("--authority-host"),
        kubernetes_version: Some(wi_core::parse_kubernetes_version(&case.arg("--kubernetes-version").unwrap_or_else(|| "1.31".into())).unwrap()),
        default_namespace: case.arg("-n").unwrap_or_else(|| "default".into()),
        ..Default::default()
    }
}

fn native(case: &Case, source: wi_core::SourceFile) -> Result<Vec<wi_core::MutatedObject>, String> {
    wi_core::mutate(&[source], &options(case)).map_err(|e| match e {
        wi_core::MutateFailure::Input(e) => format!("input: {e:?}"),
        wi_core::MutateFailure::Mutation(e) => e.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("\n"),
    })
}

#[test]
fn every_case_mutates_as_the_webhook_natively_and_in_wasmtime() {
    let all = cases("mutate");
    assert!(all.len() >= 15, "only {} mutation cases", all.len());
    let mut failures = Vec::new();
    for case in &all {
        let source = case.source();
        let result = native(case, source.clone());
        let error_path = case.expected_path("error");
        let json_path = case.expected_path("expected.json");
        if blessing() {
            match &result {
                Ok(objects) => {
                    let values: Vec<&Value> = objects.iter().map(|o| &o.object).collect();
                    std::fs::write(&json_path, format!("{:#}\n", serde_json::json!(values))).unwrap();
                }
                Err(message) => std::fs::write(&error_path, format!("{message}\n")).unwrap(),
            }
        }
        let mut args = vec!["mutate", "-f", case.input.as_str(), "-o", "json"];
        args.extend(case.args.iter().map(String::as_str));
        let cli = run_cli(&args, None);
        if error_path.exists() {
            let expected = std::fs::read_to_string(&error_path).unwrap();
            let expected = expected.trim();
            match &result {
                Ok(_) => failures.push(format!("{}: native core mutated, expected refusal {expected:?}", case.name)),
                Err(m) if !m.contains(expected) => failures.push(format!("{}: native refusal {m:?}, expected {expected:?}", case.name)),
                Err(_) => {}
            }
            let stderr = String::from_utf8_lossy(&cli.stderr);
            if cli.status.code() != Some(1) || !stderr.contains(expected) || !cli.stdout.is_empty() {
                failures.push(format!("{}: kubectl-wi exit {:?}, stdout {} bytes, stderr {stderr:?}; expected exit 1 with {expected:?} and no output", case.name, cli.status.code(), cli.stdout.len()));
            }
            continue;
        }
        let expected: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap_or_else(|_| panic!("{} has no expected file", case.name))).unwrap();
        let objects = match result {
            Ok(o) => o,
            Err(m) => {
                failures.push(format!("{}: native refused: {m}", case.name));
                continue;
            }
        };
        let got = Value::Array(objects.iter().map(|o| o.object.clone()).collect());
        if got != expected {
            failures.push(format!("{} (native): got\n{got:#}\nexpected\n{expected:#}", case.name));
        }
        match serde_json::from_slice::<Value>(&cli.stdout) {
            Ok(list) if list["kind"] == "List" && list["items"] == expected && cli.status.success() => {}
            _ => failures.push(format!("{} (kubectl-wi): exit {:?}, output {}, stderr {}", case.name, cli.status.code(), String::from_utf8_lossy(&cli.stdout), String::from_utf8_lossy(&cli.stderr))),
        }
        // The patch reproduces the result from the original input.
        let originals: Vec<Value> = wi_core::objects::load(&[source.clone()], "default").unwrap().into_iter().map(|o| o.doc.value).collect();
        for (original, mutated) in originals.iter().zip(&objects) {
            let mut patched = original.clone();
            wi_core::patch::apply(&mut patched, &mutated.patch).unwrap();
            if patched != mutated.object {
                failures.push(format!("{}: patch does not reproduce the mutated object", case.name));
            }
        }
        // Mutating twice equals mutating once.
        let again = native(case, wi_core::SourceFile { name: case.input.clone(), content: expected.to_string() });
        match again {
            Ok(o) if Value::Array(o.iter().map(|o| o.object.clone()).collect()) == expected => {}
            _ => failures.push(format!("{}: mutating the result again changes it", case.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
