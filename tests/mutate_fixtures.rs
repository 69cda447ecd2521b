//! The mutation fixture table (`tests/fixtures/mutate`): each input is
//! mutated by the native core and by `kubectl-wi mutate -o json` (wasmtime).
//! Both must equal `<case>.expected.json` as JSON, or both must refuse with
//! the message in `<case>.error`. Every success is also checked to be
//! idempotent and to be exactly its RFC 6902 patch applied to the input
//! (applied by the `json-patch` crate, not by the core). Each case is its
//! own trial (harness = false, libtest-mimic), `mutate::<case>`: file
//! `v1.6-basic.yaml` is `mutate::v1.6_basic`.

use std::process::ExitCode;

use libtest_mimic::{Failed, Trial};
use serde_json::Value;
use wi_conformance::{Case, blessing, cases, layout, repo_root, run_cli, run_trials, verdict};

fn main() -> ExitCode {
    let mut trials: Vec<Trial> = cases("mutate")
        .into_iter()
        .map(|case| Trial::test(format!("mutate::{}", case.trial_name()), move || check_case(&case)))
        .collect();
    trials.push(Trial::test("mutate::table_has_at_least_15_cases", || {
        let n = cases("mutate").len();
        if n < 15 {
            return Err(format!("only {n} mutation cases in tests/fixtures/mutate, expected at least 15").into());
        }
        Ok(())
    }));
    run_trials(trials)
}

fn options(case: &Case) -> wi_core::MutateOptions {
    wi_core::MutateOptions {
        layout: layout(case),
        tenant_id: case.arg("--tenant-id"),
        authority_host: case.arg("--authority-host"),
        kubernetes_version: Some(wi_core::parse_kubernetes_version(&case.arg("--kubernetes-version").unwrap_or_else(|| "1.31".into())).unwrap()),
        default_namespace: case.arg("-n").unwrap_or_else(|| "default".into()),
        token_proxy: wi_core::mutation::TokenProxy {
            url: case.arg("--token-proxy"),
            sni_name: case.arg("--token-proxy-sni-name"),
            ca_config_map: case.arg("--token-proxy-ca-config-map"),
            ca_data: case.arg("--token-proxy-ca-data"),
        },
        ..Default::default()
    }
}

fn native(case: &Case, source: wi_core::SourceFile) -> Result<Vec<wi_core::MutatedObject>, String> {
    wi_core::mutate(&[source], &options(case)).map_err(|e| match e {
        wi_core::MutateFailure::Input(e) => format!("input: {e:?}"),
        wi_core::MutateFailure::Mutation(e) => e.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("\n"),
    })
}

fn objects_of(mutated: &[wi_core::MutatedObject]) -> Value {
    Value::Array(mutated.iter().map(|o| o.object.clone()).collect())
}

/// `original` with the core's patch applied by the `json-patch` crate.
fn apply_patch(original: &Value, ops: &[wi_core::patch::Operation]) -> Result<Value, String> {
    let json = wi_core::patch::to_json(ops);
    let patch: json_patch::Patch = serde_json::from_value(json.clone()).map_err(|e| format!("the patch is not RFC 6902 ({e}):\n{json:#}"))?;
    let mut doc = original.clone();
    json_patch::patch(&mut doc, &patch).map_err(|e| format!("the patch does not apply ({e}):\n{json:#}"))?;
    Ok(doc)
}

fn relative(path: &std::path::Path) -> String {
    path.strip_prefix(repo_root()).unwrap_or(path).display().to_string()
}

fn check_case(case: &Case) -> Result<(), Failed> {
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
    let cli_stdout = String::from_utf8_lossy(&cli.stdout);
    let cli_stderr = String::from_utf8_lossy(&cli.stderr);
    let mut problems = Vec::new();

    if error_path.exists() {
        let expected = std::fs::read_to_string(&error_path).unwrap();
        let expected = expected.trim();
        let error_file = relative(&error_path);
        match &result {
            Ok(objects) => problems.push(format!(
                "native core: mutated, expected the refusal in {error_file}\n  expected refusal:\n{expected}\n  actual objects:\n{:#}",
                objects_of(objects)
            )),
            Err(m) if !m.contains(expected) => {
                problems.push(format!("native core: wrong refusal ({error_file})\n  expected (contained):\n{expected}\n  actual:\n{m}"))
            }
            Err(_) => {}
        }
        if cli.status.code() != Some(1) || !cli_stderr.contains(expected) || !cli.stdout.is_empty() {
            problems.push(format!(
                "kubectl-wi (wasmtime) {}: expected exit 1, no stdout and a stderr containing\n{expected}\n  actual: exit {:?}\n  stdout:\n{cli_stdout}\n  stderr:\n{cli_stderr}",
                args.join(" "),
                cli.status.code()
            ));
        }
        return verdict(&case.input, problems);
    }

    let json_file = relative(&json_path);
    let expected: Value = match std::fs::read_to_string(&json_path) {
        Ok(text) => match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => return verdict(&case.input, vec![format!("{json_file} is not JSON: {e}")]),
        },
        Err(e) => return verdict(&case.input, vec![format!("neither {json_file} nor {} can be read: {e}", relative(&error_path))]),
    };
    match &result {
        Ok(objects) => {
            let got = objects_of(objects);
            if got != expected {
                problems.push(format!("native core: objects differ from {json_file}\n  expected:\n{expected:#}\n  actual:\n{got:#}"));
            }
        }
        Err(m) => problems.push(format!("native core: refused, expected the objects in {json_file}\n  refusal:\n{m}\n  expected:\n{expected:#}")),
    }
    match serde_json::from_slice::<Value>(&cli.stdout) {
        Ok(list) if list["kind"] == "List" && list["items"] == expected && cli.status.success() => {}
        Ok(list) => problems.push(format!(
            "kubectl-wi (wasmtime) {}: exit {:?}; expected a List whose items are {json_file}\n  expected items:\n{expected:#}\n  actual output:\n{list:#}\n  stderr:\n{cli_stderr}",
            args.join(" "),
            cli.status.code()
        )),
        Err(e) => problems.push(format!(
            "kubectl-wi (wasmtime) {}: exit {:?}, output is not JSON ({e})\n  expected items:\n{expected:#}\n  stdout:\n{cli_stdout}\n  stderr:\n{cli_stderr}",
            args.join(" "),
            cli.status.code()
        )),
    }
    let Ok(objects) = result else {
        return verdict(&case.input, problems);
    };
    // The patch reproduces the result from the original input.
    let originals: Vec<Value> = wi_core::objects::load(&[source], "default").unwrap().into_iter().map(|o| o.doc.value).collect();
    for (index, (original, mutated)) in originals.iter().zip(&objects).enumerate() {
        match apply_patch(original, &mutated.patch) {
            Ok(patched) if patched == mutated.object => {}
            Ok(patched) => problems.push(format!(
                "object {index}: the patch does not reproduce the mutated object\n  patch:\n{:#}\n  expected (the mutated object):\n{:#}\n  actual (the input patched):\n{patched:#}",
                wi_core::patch::to_json(&mutated.patch),
                mutated.object
            )),
            Err(e) => problems.push(format!("object {index}: {e}\n  input object:\n{original:#}")),
        }
    }
    // Mutating twice equals mutating once.
    match native(case, wi_core::SourceFile { name: case.input.clone(), content: expected.to_string() }) {
        Ok(again) if objects_of(&again) == expected => {}
        Ok(again) => problems.push(format!(
            "mutating the result again changes it\n  expected (unchanged):\n{expected:#}\n  actual:\n{:#}",
            objects_of(&again)
        )),
        Err(m) => problems.push(format!("mutating the result again is refused:\n{m}\n  input:\n{expected:#}")),
    }
    verdict(&case.input, problems)
}
