//! `kubectl wi` as users run it: through kubectl's plugin discovery, with
//! every output format, and with hostile input.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use wi_conformance::{kubectl_wi, repo_root, run_cli};

fn scratch(name: &str) -> PathBuf {
    let dir = repo_root().join("target/test-scratch").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn kubectl_discovers_and_runs_the_plugin() {
    let bin = scratch("plugin-path");
    std::fs::copy(kubectl_wi(), bin.join("kubectl-wi")).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    // The pinned kubectl of the project's venv (make test passes it in
    // KUBECTL), else the one on PATH.
    let kubectl_bin = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into());
    let kubectl = |args: &[&str]| {
        Command::new(&kubectl_bin)
            .args(args)
            .env("PATH", &path)
            .env("KUBECONFIG", bin.join("no-kubeconfig"))
            .env("KUBECTL_WI_CACHE_DIR", bin.join("cache"))
            .current_dir(repo_root())
            .output()
            .unwrap_or_else(|e| panic!("running {kubectl_bin}: {e} (make test installs kubectl into target/venv)"))
    };
    let list = kubectl(&["plugin", "list"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains(&bin.join("kubectl-wi").display().to_string()), "{}", stderr(&list));

    let clean = kubectl(&["wi", "lint", "-f", "bundles/examples/good"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    assert!(String::from_utf8_lossy(&clean.stdout).contains("0 errors, 0 warnings"));

    let broken = kubectl(&["wi", "lint", "-f", "bundles/examples/broken", "-o", "json"]);
    assert_eq!(broken.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&broken.stdout).unwrap();
    assert!(report["summary"]["errors"].as_u64().unwrap() > 0);

    let explain = kubectl(&["wi", "explain", "WI003"]);
    assert!(String::from_utf8_lossy(&explain.stdout).contains("## Why is this bad?"));
    // The first run stored the precompiled core in the cache.
    let cached = std::fs::read_dir(bin.join("cache")).unwrap().count();
    assert_eq!(cached, 1);
}

#[test]
fn json_report_has_the_documented_shape() {
    let out = run_cli(&["lint", "-f", "tests/fixtures/lint/WI003-fires.yaml", "-o", "json"], None);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &report["findings"][0];
    assert_eq!(f["rule"], "WI003");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["file"], "tests/fixtures/lint/WI003-fires.yaml");
    assert_eq!(f["line"], 15);
    assert_eq!(f["kind"], "Pod");
    assert_eq!(f["namespace"], "app");
    assert_eq!(f["name"], "web");
    assert!(f["message"].as_str().unwrap().contains("client-id"));
    assert_eq!(report["summary"], serde_json::json!({"errors": 1, "warnings": 0, "infos": 0}));
}

#[test]
fn text_report_is_compiler_style() {
    let out = run_cli(&["lint", "-f", "tests/fixtures/lint/WI001-fires-capitalised.yaml"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("tests/fixtures/lint/WI001-fires-capitalised.yaml:15: error[WI001]: "), "{text}");
    assert!(text.contains("\n  fix: "));
    assert!(text.trim_end().ends_with("1 error, 0 warnings, 0 infos in 1 file"));
}

#[test]
fn sarif_is_2_1_0_with_rules_and_locations() {
    let out = run_cli(&["lint", "-f", "bundles/examples/broken", "-o", "sarif"], None);
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), wi_core::RULES.len());
    for result in run["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()));
    }
}

#[test]
fn stdin_lists_and_kubectl_json_are_read() {
    let list = std::fs::read_to_string(repo_root().join("bundles/examples/azure-cli/kubectl-get.json")).unwrap();
    // `lint -o json`: its exit code and each finding as `file:line severity rule kind namespace/name`.
    let lint = |args: &[&str], stdin: Option<&str>| -> (Option<i32>, Vec<String>) {
        let out = run_cli(args, stdin.map(str::as_bytes));
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}{}", String::from_utf8_lossy(&out.stdout), stderr(&out)));
        let findings: Vec<String> = report["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("{args:?}: no findings array: {report:#}"))
            .iter()
            .map(|f| {
                format!(
                    "{}:{} {} {} {} {}/{}",
                    f["file"].as_str().unwrap(),
                    f["line"],
                    f["severity"].as_str().unwrap(),
                    f["rule"].as_str().unwrap(),
                    f["kind"].as_str().unwrap(),
                    f["namespace"].as_str().unwrap(),
                    f["name"].as_str().unwrap()
                )
            })
            .collect();
        let errors = findings.iter().filter(|f| f.contains(" error ")).count();
        let warnings = findings.iter().filter(|f| f.contains(" warning ")).count();
        assert_eq!(report["summary"], serde_json::json!({"errors": errors, "warnings": warnings, "infos": 0}), "{args:?}: {report:#}");
        (out.status.code(), findings)
    };
    let none: Vec<String> = Vec::new();
    let from_stdin = ["lint", "-f", "-", "-o", "json"];

    // `kubectl get -o json`'s `kind: List` from stdin: a ServiceAccount and
    // the Deployment that runs as it, consistent, so nothing to report...
    assert_eq!(lint(&from_stdin, Some(&list)), (Some(0), none.clone()));
    // ...but the List's items are read, with their lines: the same List
    // with a client ID that is not a GUID is WI005 on the annotation's line.
    let bad_client_id = list.replace("\"0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\"", "\"not-a-guid\"");
    assert_ne!(bad_client_id, list);
    assert_eq!(
        lint(&from_stdin, Some(&bad_client_id)),
        (Some(1), vec!["<stdin>:9 error WI005 ServiceAccount payments/payments-sa".to_string()])
    );

    // The List from stdin with the `az` FIC and identity lists beside it:
    // WI030 sees both. Its FIC trusts payments/payments-sa...
    let with_az = [
        "lint",
        "-f",
        "-",
        "-f",
        "bundles/examples/azure-cli/federated-credentials.json",
        "-f",
        "bundles/examples/azure-cli/identity-list.json",
        "-o",
        "json",
    ];
    assert_eq!(lint(&with_az, Some(&list)), (Some(0), none.clone()));
    // ...so the Deployment, renamed onto another ServiceAccount, matches no
    // FIC (WI030 on its serviceAccountName line) and the FIC trusts a
    // ServiceAccount not in the inputs (WI031).
    let renamed = list.replace("payments-sa", "payments-api");
    assert_eq!(
        lint(&with_az, Some(&renamed)),
        (
            Some(1),
            vec![
                "<stdin>:32 error WI030 Deployment payments/payments".to_string(),
                "bundles/examples/azure-cli/federated-credentials.json:10 warning WI031 FederatedIdentityCredential rg-payments/payments-fic".to_string(),
            ]
        )
    );

    // The directory: kubectl's JSON and the `az` lists, all three read as
    // files, clean together.
    assert_eq!(lint(&["lint", "-f", "bundles/examples/azure-cli", "-o", "json"], None), (Some(0), none));
    let out = run_cli(&["lint", "-f", "bundles/examples/azure-cli"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.trim_end(), "0 errors, 0 warnings, 0 infos in 3 files", "{}", stderr(&out));
}

#[test]
fn rules_and_explain_print_the_catalogue() {
    let out = run_cli(&["rules", "-o", "json"], None);
    let rules: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = rules.as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    let expected: Vec<&str> = wi_core::RULES.iter().map(|r| r.code).collect();
    assert_eq!(codes, expected);
    let out = run_cli(&["explain", "WI999"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no rule"));
}

#[test]
fn readme_rule_section_is_generated_from_the_catalogue() {
    let out = run_cli(&["rules", "-o", "markdown"], None);
    let generated = String::from_utf8(out.stdout).unwrap();
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme.find("<!-- rules:start -->\n").expect("README has a rules:start marker") + "<!-- rules:start -->\n".len();
    let end = readme.find("<!-- rules:end -->").expect("README has a rules:end marker");
    assert!(
        readme[start..end] == generated,
        "README rule section is stale: run `make readme-rules`"
    );
}

/// Each bad input: exit 2, a message naming the file (and line where there is one), no stdout.
fn assert_input_error(args: &[&str], stdin: Option<&[u8]>, must_contain: &[&str]) {
    let out = run_cli(args, stdin);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "args {args:?}: {err}");
    assert!(out.stdout.is_empty(), "args {args:?} wrote to stdout");
    for s in must_contain {
        assert!(err.contains(s), "args {args:?}: {err:?} lacks {s:?}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_input_is_a_clear_error_with_exit_2() {
    let dir = scratch("bad-input");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    };
    let malformed = write("malformed.yaml", b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: [a, b\n");
    assert_input_error(&["lint", "-f", &malformed], None, &[&format!("{malformed}:")]);
    let scalar = write("scalar.yaml", b"kind: Pod\n---\njust a string\n");
    assert_input_error(&["lint", "-f", &scalar], None, &[&format!("{scalar}:3:"), "not an object"]);
    let no_kind = write("nokind.yaml", b"apiVersion: v1\nmetadata:\n  name: x\n");
    assert_input_error(&["mutate", "-f", &no_kind], None, &[&format!("{no_kind}:1:"), "no `kind`"]);
    let utf8 = write("latin1.yaml", b"kind: Pod\nmetadata:\n  name: caf\xe9\n");
    assert_input_error(&["lint", "-f", &utf8], None, &[&format!("{utf8}:3:12"), "UTF-8"]);
    let huge = dir.join("huge.yaml");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(50 * 1024 * 1024).unwrap();
    assert_input_error(&["lint", "-f", &huge.display().to_string()], None, &["huge.yaml", "limit"]);
    assert_input_error(&["lint", "-f", "-"], Some(&vec![b' '; 33 * 1024 * 1024]), &["<stdin>", "limit"]);
    let deep = write("deep.json", "[".repeat(200_000).as_bytes());
    assert_input_error(&["lint", "-f", &deep], None, &[&format!("{deep}:1:")]);
    let mut bomb = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
    for i in 1..12u8 {
        let (n, p) = ((b'a' + i) as char, (b'a' + i - 1) as char);
        bomb.push_str(&format!("{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"));
    }
    let bomb = write("bomb.yaml", bomb.as_bytes());
    assert_input_error(&["lint", "-f", &bomb], None, &[&format!("{bomb}:")]);
    let bad_meta = write("badmeta.yaml", b"apiVersion: v1\nkind: Pod\nmetadata: 5\n");
    assert_input_error(&["lint", "-f", &bad_meta], None, &[&format!("{bad_meta}:3:"), "metadata"]);
    assert_input_error(&["lint", "-f", "does/not/exist.yaml"], None, &["does/not/exist.yaml"]);
    assert_input_error(&["mutate", "-f", "bundles/examples/good", "--kubernetes-version", "latest"], None, &["latest"]);
    assert_input_error(&["lint"], None, &["--filename"]);
}

#[test]
fn mutate_yaml_reads_back_as_the_json_output() {
    // Strings YAML 1.1 readers (kubectl's) would take for booleans, numbers or null must stay strings.
    let tricky = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tricky", "namespace": "app"},
        "data": {"a": "yes", "b": "on", "c": "NO", "d": "0123", "e": "1e3", "f": "null", "g": "~", "h": "2026-01-01",
                 "i": "0x10", "j": "- a", "k": "a: b", "l": "#c", "m": "", "n": "multi\nline\n", "o": " lead", "p": "<<", "q": "y"}});
    let dir = scratch("roundtrip");
    let tricky_path = dir.join("tricky.json");
    std::fs::write(&tricky_path, tricky.to_string()).unwrap();
    let tricky_arg = tricky_path.display().to_string();
    let args = ["-f", "bundles/examples/good", "-f", "bundles/examples/migration", "-f", tricky_arg.as_str(), "--kubernetes-version", "1.32"];
    let json_out = run_cli(&[&["mutate", "-o", "json"][..], &args[..]].concat(), None);
    assert!(json_out.status.success(), "{}", stderr(&json_out));
    let yaml_out = run_cli(&[&["mutate", "-o", "yaml"][..], &args[..]].concat(), None);
    assert!(yaml_out.status.success());
    // Long one-line values (issuer URLs) stay plain one-line scalars.
    assert!(!String::from_utf8_lossy(&yaml_out.stdout).contains(": >"), "folded scalar in mutate output");
    // Read the YAML stream back through the same tool, unchanged (mutation is idempotent).
    let back = run_cli(&["mutate", "-f", "-", "-o", "json", "--kubernetes-version", "1.32"], Some(&yaml_out.stdout));
    assert!(back.status.success(), "{}", stderr(&back));
    let a: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    let b: Value = serde_json::from_slice(&back.stdout).unwrap();
    assert_eq!(a, b);
    assert_eq!(a["items"].as_array().unwrap().last().unwrap()["data"], tricky["data"]);
}

/// JSON equality as the API server sees numbers: `8` and `8.0` are one value.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w))),
        _ => a == b,
    }
}

/// What kubectl itself reads from a manifest, offline.
fn kubectl_reads(path: &std::path::Path) -> Value {
    let out = Command::new("kubectl")
        .args(["label", "--local", "-o", "json", "k=v", "-f"])
        .arg(path)
        .env("KUBECONFIG", repo_root().join("target/test-scratch/no-kubeconfig"))
        .output()
        .expect("kubectl is installed");
    assert!(out.status.success(), "kubectl: {}", stderr(&out));
    let mut object: Value = serde_json::from_slice(&out.stdout).unwrap();
    object["metadata"].as_object_mut().unwrap().remove("labels");
    object
}

#[test]
fn yaml_numbers_read_and_written_as_kubectl_reads_them() {
    let fixture = repo_root().join("tests/fixtures/yaml11/numeric-forms.yaml");
    let kubectl = kubectl_reads(&fixture);
    // kubectl-wi reads the file as kubectl does...
    let out = run_cli(&["mutate", "-f", "tests/fixtures/yaml11/numeric-forms.yaml", "-o", "json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ours: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours = &ours["items"][0];
    for (key, want) in kubectl["spec"].as_object().unwrap() {
        assert!(same_json(&ours["spec"][key], want), "spec.{key}: kubectl reads {want}, kubectl-wi {}", ours["spec"][key]);
    }
    assert!(same_json(ours, &kubectl), "kubectl: {kubectl:#}\nkubectl-wi: {ours:#}");
    // ...and what `mutate` writes, kubectl reads back as the same values:
    // a secret's `defaultMode: 0400` never becomes another mode.
    let out = run_cli(&["mutate", "-f", "tests/fixtures/yaml11/numeric-forms.yaml"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = scratch("yaml11").join("mutated.yaml");
    std::fs::write(&written, &out.stdout).unwrap();
    let again = kubectl_reads(&written);
    assert!(same_json(&again, &kubectl), "kubectl reads the written YAML as {again:#}, the input as {kubectl:#}");
    assert_eq!(again["spec"]["defaultMode-in-volume"]["secret"]["defaultMode"], 256);
}

#[test]
fn a_stream_of_json_objects_reads_like_kubectl_with_lines() {
    let dir = scratch("json-stream");
    let path = dir.join("pods.json");
    let pod = |name: &str| format!("{{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{{\"name\":\"{name}\",\"namespace\":\"app\",\"labels\":{{\"azure.workload.identity/use\":\"True\"}}}},\"spec\":{{\"containers\":[]}}}}\n");
    std::fs::write(&path, pod("a") + &pod("b")).unwrap();
    let out = run_cli(&["lint", "-f", path.to_str().unwrap(), "-o", "json"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines: Vec<(u64, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "WI001")
        .map(|f| (f["line"].as_u64().unwrap(), f["name"].as_str().unwrap()))
        .collect();
    assert_eq!(lines, [(1, "a"), (2, "b")]);
}

#[test]
fn option_values_are_checked_and_the_flag_named() {
    let cases: &[(&[&str], &str)] = &[
        (&["lint", "--tenant-id", "not a guid"], "--tenant-id"),
        (&["lint", "--authority-host", "ftp://x"], "--authority-host"),
        (&["lint", "--authority-host", ""], "--authority-host"),
        (&["lint", "--allowed-client-ids", "ns=not-a-guid"], "--allowed-client-ids: ns"),
        (&["lint", "--allowed-client-ids", "ns="], "--allowed-client-ids: ns"),
        (&["lint", "--issuer", "http://x"], "--issuer"),
        (&["mutate", "--tenant-id", ""], "--tenant-id"),
        (&["mutate", "--kubernetes-version", "+1.32"], "--kubernetes-version"),
    ];
    for (args, flag) in cases {
        let mut all = args.to_vec();
        all.extend(["-f", "bundles/examples/good"]);
        let out = run_cli(&all, None);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        assert!(out.stdout.is_empty(), "{all:?}");
        assert!(stderr(&out).contains(flag), "{all:?}: {}", stderr(&out));
    }
}

#[test]
fn mutate_refuses_what_lint_calls_an_error_in_the_annotations_it_reads() {
    let dir = scratch("mutate-annotation");
    let path = dir.join("pod.yaml");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  namespace: app\n  annotations:\n    azure.workload.identity/client-id: \"11111111-2222-4333-8444-555555555555\"\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: app\n  labels:\n    azure.workload.identity/use: \"true\"\n  annotations:\n    azure.workload.identity/service-account-token-expiration: 86400\nspec:\n  serviceAccountName: sa\n  containers:\n  - name: web\n    image: nginx\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let lint = run_cli(&["lint", "-f", file, "-o", "json", "--tenant-id", "11111111-2222-4333-8444-555555555555"], None);
    let report: Value = serde_json::from_slice(&lint.stdout).unwrap();
    let wi006 = report["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "WI006").expect("lint reports WI006");
    let out = run_cli(&["mutate", "-f", file, "--tenant-id", "11111111-2222-4333-8444-555555555555"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(err.contains(&format!("{file}:17: error: [WI006] {}", wi006["message"].as_str().unwrap())), "{err}");
}

#[test]
fn mutate_without_a_tenant_says_so() {
    let out = run_cli(&["mutate", "-f", "tests/fixtures/mutate/no-tenant-no-variable.yaml"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning: ") && stderr(&out).contains("AZURE_TENANT_ID not injected"), "{}", stderr(&out));
    let with = run_cli(&["mutate", "-f", "tests/fixtures/mutate/no-tenant-no-variable.yaml", "--tenant-id", "11111111-2222-4333-8444-555555555555"], None);
    assert!(!stderr(&with).contains("warning"), "{}", stderr(&with));
}

const SA_AND_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: app\n  labels:\n    azure.workload.identity/use: \"true\"\nspec:\n  serviceAccountName: sa\n  containers:\n  - name: c\n    image: nginx\n";

fn service_account(client_id: &str) -> String {
    format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  namespace: app\n  annotations:\n    azure.workload.identity/client-id: \"{client_id}\"\n---\n")
}

#[test]
fn a_service_account_written_twice_is_chosen_by_content_not_by_names_or_order() {
    let dir = scratch("twice");
    std::fs::create_dir_all(dir.join("o")).unwrap();
    std::fs::write(dir.join("o/a.yaml"), service_account("11111111-1111-4111-8111-111111111111")).unwrap();
    std::fs::write(dir.join("o/b.yaml"), service_account("22222222-2222-4222-8222-222222222222") + SA_AND_POD).unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["mutate", "--tenant-id", "72f988bf-86f1-41af-91ab-2d7cd011db47", "-o", "json"];
        all.extend(args);
        let out = Command::new(kubectl_wi()).args(&all).current_dir(&dir).env("KUBECTL_WI_CACHE_DIR", repo_root().join("target/test-cache")).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let list: Value = serde_json::from_slice(&out.stdout).unwrap();
        list["items"].as_array().unwrap().iter().find(|o| o["kind"] == "Pod").unwrap()["spec"]["containers"][0]["env"][0]["value"].clone()
    };
    let first = run(&["-f", "./o/b.yaml", "-f", "o"]);
    assert_eq!(first, run(&["-f", "o", "-f", "./o/b.yaml"]));
    assert_eq!(first, run(&["-f", "o/b.yaml", "-f", "o/a.yaml"]));
}

#[test]
fn hard_links_and_stdin_redirected_from_a_given_file_are_read_once() {
    let dir = scratch("hardlink");
    let good = repo_root().join("bundles/examples/good/workload.yaml");
    std::fs::copy(&good, dir.join("g.yaml")).unwrap();
    std::fs::hard_link(dir.join("g.yaml"), dir.join("g2.yaml")).unwrap();
    let once = run_cli(&["lint", "-f", dir.join("g.yaml").to_str().unwrap()], None);
    assert_eq!(once.status.code(), Some(0), "{}", String::from_utf8_lossy(&once.stdout));
    let twice = run_cli(&["lint", "-f", dir.join("g.yaml").to_str().unwrap(), "-f", dir.join("g2.yaml").to_str().unwrap()], None);
    assert_eq!(twice.status.code(), Some(0), "{}", String::from_utf8_lossy(&twice.stdout));
    let redirected = Command::new(kubectl_wi())
        .args(["lint", "-f", "-", "-f", dir.join("g.yaml").to_str().unwrap()])
        .stdin(std::fs::File::open(dir.join("g.yaml")).unwrap())
        .env("KUBECTL_WI_CACHE_DIR", repo_root().join("target/test-cache"))
        .output()
        .unwrap();
    assert_eq!(redirected.status.code(), Some(0), "{}", String::from_utf8_lossy(&redirected.stdout));
    // `-f /dev/stdin` reads the pipe.
    let piped = run_cli(&["lint", "-f", "/dev/stdin", "-o", "json"], Some(std::fs::read(&good).unwrap().as_slice()));
    assert_eq!(piped.status.code(), Some(0), "{}", stderr(&piped));
}

#[test]
fn the_namespace_flag_is_checked() {
    for bad in ["", "Bad NS!", "é", &"a".repeat(64)] {
        let out = run_cli(&["lint", "-n", bad, "-f", "bundles/examples/good"], None);
        assert_eq!(out.status.code(), Some(2), "-n {bad:?}");
        assert!(stderr(&out).contains("--namespace"), "{}", stderr(&out));
    }
}

#[test]
fn an_unquoted_proxy_port_is_an_input_error_with_its_rule() {
    let dir = scratch("proxy-port");
    let path = dir.join("p.yaml");
    let pod = SA_AND_POD.replace("  labels:\n", "  annotations:\n    azure.workload.identity/inject-proxy-sidecar: \"true\"\n    azure.workload.identity/proxy-sidecar-port: 8000\n  labels:\n");
    std::fs::write(&path, service_account("11111111-1111-4111-8111-111111111111") + &pod).unwrap();
    let out = run_cli(&["mutate", "-f", path.to_str().unwrap(), "--tenant-id", "72f988bf-86f1-41af-91ab-2d7cd011db47"], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("[WI009]"), "{}", stderr(&out));
}

#[test]
fn a_fifo_in_the_cache_does_not_hang_the_tool() {
    let dir = scratch("cache-fifo");
    let cache = dir.join("cache");
    let run = || {
        let mut child = Command::new(kubectl_wi())
            .args(["lint", "-f", "tests/fixtures/lint/WI003-clean.yaml"])
            .current_dir(repo_root())
            .env("KUBECTL_WI_CACHE_DIR", &cache)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code();
            }
            if start.elapsed() > std::time::Duration::from_secs(60) {
                let _ = child.kill();
                panic!("kubectl-wi hung on a FIFO in its cache");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    assert_eq!(run(), Some(0));
    let artifact = std::fs::read_dir(&cache).unwrap().next().unwrap().unwrap().path();
    std::fs::remove_file(&artifact).unwrap();
    assert!(Command::new("mkfifo").arg(&artifact).status().unwrap().success());
    assert_eq!(run(), Some(0));
}
