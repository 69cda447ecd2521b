//! One table, every face: each lint and mutation fixture under
//! `tests/fixtures/{lint,mutate}` goes through every face of the core, and
//! each must give the native core's answer:
//!
//! - `native`: wi-core linked into this test;
//! - `cli`: `kubectl-wi -o json` (the component in wasmtime);
//! - `kubewarden`: the policy in a waPC host (wapc + wasmtime-provider, as
//!   policy-server runs it), every object of the case as an admission
//!   request: rejected exactly for the errors admission can judge from one
//!   object, pods mutated as the core mutates them;
//! - `extism`: the Extism plugin through the Rust `extism` crate;
//! - `web`: the page's wasm-bindgen module under Node.js.
//!
//! Findings are compared whole (rule, severity, message, fix, file, line,
//! object) and mutated objects as JSON. A new fixture is a new row with no
//! new code. Each row is a trial (`cargo test --test conformance wi006`);
//! the table of all rows is written to target/conformance.md.

use std::collections::HashMap;
use std::process::{Command, ExitCode, Stdio};
use std::sync::{LazyLock, Mutex};

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{Value, json};
use wi_conformance::policy_host::{Policy, lint_case_problems, mutation_case_problems};
use wi_conformance::{Case, cases, repo_root, run_cli};
use wi_core::options::{LintFlags, MutateFlags};

const FACES: [&str; 5] = ["native", "cli", "kubewarden", "extism", "web"];

static POLICY: LazyLock<Policy> = LazyLock::new(Policy::load);

static EXTISM: LazyLock<Mutex<extism::Plugin>> = LazyLock::new(|| {
    let path = repo_root().join("bundles/extism/wi_policy_extism.wasm");
    let wasm = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; run `make extism` (make test does)", path.display()));
    Mutex::new(extism::Plugin::new(wasm, [], false).expect("the Extism plugin loads"))
});

/// The web face's answers to every case, from one Node.js run.
static WEB: LazyLock<Result<HashMap<String, Value>, String>> = LazyLock::new(web_answers);

/// Each row's verdict per face, for the table.
static ROWS: Mutex<Vec<(String, Vec<String>)>> = Mutex::new(Vec::new());

/// A case's `# args:` as the JSON faces take them: the flags' camelCase
/// names (`--tenant-id` is `tenantId`).
fn flags(case: &Case) -> Value {
    let mut flags = serde_json::Map::new();
    let mut args = case.args.iter();
    while let (Some(flag), Some(value)) = (args.next(), args.next()) {
        let key = match flag.as_str() {
            "-n" => "namespace".to_string(),
            flag => {
                let mut key = String::new();
                let mut upper = false;
                for c in flag.trim_start_matches('-').chars() {
                    if c == '-' {
                        upper = true;
                    } else {
                        key.push(if upper { c.to_ascii_uppercase() } else { c });
                        upper = false;
                    }
                }
                key
            }
        };
        if key == "allowedClientIds" {
            let (namespace, ids) = value.split_once('=').expect("NS=GUIDS");
            flags.entry("allowedClientIds").or_insert_with(|| json!({}))[namespace] = json!(ids.split(',').collect::<Vec<_>>());
        } else {
            flags.insert(key, json!(value));
        }
    }
    Value::Object(flags)
}

fn key(table: &str, case: &Case) -> String {
    format!("{table}/{}", case.name)
}

fn web_answers() -> Result<HashMap<String, Value>, String> {
    let mut keys = Vec::new();
    let mut input = Vec::new();
    for table in ["lint", "mutate"] {
        for case in cases(table) {
            let source = case.source();
            let f = flags(&case);
            input.push(json!({"name": case.input, "content": source.content,
                "lint": if table == "lint" { f.clone() } else { Value::Null },
                "mutate": if table == "mutate" { f } else { Value::Null }}));
            keys.push(key(table, &case));
        }
    }
    let script = repo_root().join("tests/conformance/web.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("node {}: {e} (make test sets up Node.js)", script.display()))?;
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(Value::Array(input).to_string().as_bytes()).map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("node {} failed (make web builds bundles/web/dist):\n{}", script.display(), String::from_utf8_lossy(&out.stderr)));
    }
    let answers: Vec<Value> = serde_json::from_slice(&out.stdout).map_err(|e| format!("node's answer is not JSON: {e}"))?;
    Ok(keys.into_iter().zip(answers).collect())
}

/// What one face said, for the failure message.
fn shown(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Compares each face's answer with the native core's and records the row.
struct Row {
    name: String,
    verdicts: Vec<String>,
    problems: Vec<String>,
}

impl Row {
    fn new(name: String) -> Row {
        Row { name, verdicts: Vec::new(), problems: Vec::new() }
    }

    fn compare(&mut self, face: &str, native: &Value, got: Result<Value, String>) {
        match got {
            Ok(got) if got == *native => self.verdicts.push("same".into()),
            Ok(got) => {
                self.verdicts.push("DIFFERS".into());
                self.problems.push(format!("{face}: differs from the native core\n  native:\n{}\n  {face}:\n{}", shown(native), shown(&got)));
            }
            Err(e) => {
                self.verdicts.push("FAILED".into());
                self.problems.push(format!("{face}: {e}"));
            }
        }
    }

    fn judged(&mut self, face: &str, problems: Vec<String>, what: &str) {
        if problems.is_empty() {
            self.verdicts.push(what.into());
        } else {
            self.verdicts.push("DIFFERS".into());
            self.problems.extend(problems.into_iter().map(|p| format!("{face}: {p}")));
        }
    }

    fn finish(self, input: &str) -> Result<(), Failed> {
        ROWS.lock().unwrap().push((self.name, self.verdicts));
        wi_conformance::verdict(input, self.problems)
    }
}

fn cli_json(args: &[&str]) -> Result<(Value, Option<i32>), String> {
    let out = run_cli(args, None);
    let value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("kubectl-wi {}: not JSON ({e}); exit {:?}; stderr:\n{}", args.join(" "), out.status.code(), String::from_utf8_lossy(&out.stderr)))?;
    Ok((value, out.status.code()))
}

fn extism_call(export: &str, case: &Case) -> Result<Value, (String, i32)> {
    let mut request = flags(case);
    request["files"] = json!([{"path": case.input, "content": case.source().content}]);
    let mut plugin = EXTISM.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let out: Result<String, (extism::Error, i32)> = plugin.call_get_error_code(export, request.to_string());
    match out {
        Ok(text) => serde_json::from_str(&text).map_err(|e| (format!("not JSON: {e}"), 0)),
        Err((e, code)) => Err((e.to_string(), code)),
    }
}

fn web_answer(table: &str, case: &Case) -> Result<Value, String> {
    let answers = WEB.as_ref().map_err(Clone::clone)?;
    answers.get(&key(table, case)).and_then(|a| a.get(table)).cloned().ok_or_else(|| "no answer".to_string())
}

fn lint_row(case: &Case) -> Result<(), Failed> {
    let mut row = Row::new(format!("lint/{}", case.name));
    let options = LintFlags::from_json(&flags(case))?.options().map_err(|e| e.to_string())?;
    let native = match wi_core::lint(&[case.source()], &options) {
        Ok(findings) => wi_core::lint_json(&findings),
        Err(e) => return Err(format!("{}: the native core refuses the input: {e:?}", case.input).into()),
    };
    row.verdicts.push("reference".into());
    let mut args = vec!["lint", "-f", case.input.as_str(), "-o", "json"];
    args.extend(case.args.iter().map(String::as_str));
    row.compare("cli", &native, cli_json(&args).map(|(v, _)| v));
    if case.is_infrastructure_code() {
        row.compare("extism", &native, extism_call("lint", case).map_err(|(e, code)| format!("plugin error {code}: {e}")));
        // Admission sees Kubernetes objects only, and the page leaves the
        // Terraform reader out for its size: said in the table, not hidden.
        row.verdicts.insert(2, "not served (IaC)".into());
        row.verdicts.push("not served (IaC)".into());
        return row.finish(&case.input);
    }
    row.judged("kubewarden", lint_case_problems(&POLICY, case), "same verdicts");
    row.compare("extism", &native, extism_call("lint", case).map_err(|(e, code)| format!("plugin error {code}: {e}")));
    row.compare("web", &native, web_answer("lint", case));
    row.finish(&case.input)
}

fn mutate_row(case: &Case) -> Result<(), Failed> {
    let mut row = Row::new(format!("mutate/{}", case.name));
    let options = MutateFlags::from_json(&flags(case))?.options().map_err(|e| e.to_string())?;
    let mut args = vec!["mutate", "-f", case.input.as_str(), "-o", "json"];
    args.extend(case.args.iter().map(String::as_str));
    match wi_core::mutate(&[case.source()], &options) {
        Ok(objects) => {
            let native = Value::Array(objects.into_iter().map(|o| o.object).collect());
            row.verdicts.push("reference".into());
            row.compare("cli", &native, cli_json(&args).map(|(v, _)| v["items"].clone()));
            row.judged("kubewarden", mutation_case_problems(&POLICY, case), "same pods");
            row.compare("extism", &native, extism_call("mutate", case).map(|v| v["items"].clone()).map_err(|(e, code)| format!("plugin error {code}: {e}")));
            // The page answers with the YAML `mutate` prints: read back.
            let web = web_answer("mutate", case).and_then(|answer| {
                let yaml = answer["yaml"].as_str().ok_or_else(|| format!("no YAML: {}", shown(&answer)))?;
                let source = wi_core::SourceFile { name: case.input.clone(), content: yaml.to_string() };
                let objects = wi_core::objects::load(&[source], "default").map_err(|e| format!("its YAML does not read back: {e:?}"))?;
                Ok(Value::Array(objects.into_iter().map(|o| o.doc.value).collect()))
            });
            row.compare("web", &native, web);
        }
        Err(wi_core::MutateFailure::Mutation(refusals)) => {
            // Every face refuses the same pods.
            let native = json!(refusals.iter().map(|r| r.at.line).collect::<Vec<_>>());
            row.verdicts.push("refuses".into());
            let out = run_cli(&args, None);
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            let lines = |text: &str| json!(text.lines().filter_map(|l| l.strip_prefix(&format!("{}:", case.input))?.split(':').next()?.parse::<u32>().ok()).collect::<Vec<_>>());
            row.compare("cli", &native, if out.status.code() == Some(1) { Ok(lines(&stderr)) } else { Err(format!("exit {:?}, expected 1: {stderr}", out.status.code())) });
            row.judged("kubewarden", mutation_case_problems(&POLICY, case), "refuses");
            row.compare("extism", &native, match extism_call("mutate", case) {
                Err((message, 1)) => Ok(lines(&message)),
                other => Err(format!("expected a plugin error with code 1, got {other:?}")),
            });
            row.compare("web", &native, web_answer("mutate", case).map(|a| json!(a["refusals"].as_array().map(|r| r.iter().map(|r| r["line"].clone()).collect::<Vec<_>>()))));
        }
        Err(e) => return Err(format!("{}: the native core refuses the input: {e:?}", case.input).into()),
    }
    row.finish(&case.input)
}

fn write_table() {
    let mut rows = ROWS.lock().unwrap().clone();
    if rows.is_empty() {
        return;
    }
    rows.sort();
    let mut table = format!("| fixture | {} |\n|---|{}\n", FACES.join(" | "), "---|".repeat(FACES.len()));
    for (name, verdicts) in &rows {
        table.push_str(&format!("| {name} | {} |\n", verdicts.join(" | ")));
    }
    let path = repo_root().join("target/conformance.md");
    if std::fs::write(&path, table).is_ok() {
        println!("conformance: {} rows x {} faces in {}", rows.len(), FACES.len(), path.display());
    }
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for case in cases("lint") {
        trials.push(Trial::test(format!("conformance::lint::{}", case.trial_name()), move || lint_row(&case)));
    }
    for case in cases("mutate") {
        trials.push(Trial::test(format!("conformance::mutate::{}", case.trial_name()), move || mutate_row(&case)));
    }
    trials.push(Trial::test("conformance::mutate_table_has_at_least_15_pods", || {
        let pods: usize = cases("mutate")
            .iter()
            .map(|case| wi_core::objects::load(&[case.source()], "default").unwrap().iter().filter(|o| o.kind == "Pod").count())
            .sum();
        if pods < 15 {
            return Err(format!("only {pods} pods in the mutation table, expected at least 15").into());
        }
        Ok(())
    }));
    let conclusion = libtest_mimic::run(&args, trials);
    write_table();
    conclusion.exit_code()
}
