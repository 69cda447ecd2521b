//! The lint fixture table (`tests/fixtures/lint`): every case runs through the
//! native core and through `kubectl-wi lint -o json` (the core in wasmtime),
//! and both must give exactly the findings in `<case>.expected`, one
//! `LINE SEVERITY RULE` per line. Each case is its own trial (harness =
//! false, libtest-mimic): `cargo test wi006_` runs the WI006 cases.

use std::process::ExitCode;

use libtest_mimic::{Failed, Trial};
use wi_conformance::{Case, blessing, cases, layout, repo_root, run_cli, run_trials, verdict};

/// One trial per case, named after its file (`WI006-fires-not-a-number.yaml`
/// is `wi006_fires_not_a_number`), and the checks of the whole table.
fn main() -> ExitCode {
    let mut trials: Vec<Trial> = cases("lint")
        .into_iter()
        .map(|case| Trial::test(case.trial_name(), move || check_case(&case)))
        .collect();
    trials.push(Trial::test("lint_table_has_at_least_44_cases", at_least_44_cases));
    trials.push(Trial::test("every_rule_has_a_firing_and_a_clean_case", every_rule_has_a_firing_and_a_clean_case));
    trials.push(Trial::test("findings_never_depend_on_argument_order", || {
        findings_never_depend_on_argument_order();
        Ok(())
    }));
    run_trials(trials)
}

fn native(case: &Case) -> Result<Vec<String>, String> {
    let options = wi_core::LintOptions {
        issuer: case.arg("--issuer"),
        layout: layout(case),
        tenant_id: case.arg("--tenant-id"),
        authority_host: case.arg("--authority-host"),
        default_namespace: case.arg("-n").unwrap_or_else(|| "default".into()),
        allowed_client_ids: case
            .arg("--allowed-client-ids")
            .and_then(|a| a.split_once('=').map(|(ns, ids)| (ns.to_string(), ids.split(',').map(str::to_string).collect())))
            .into_iter()
            .collect(),
        webhook_version: case.arg("--webhook-version").map(|v| wi_core::options::parse_webhook_version(&v).expect("a fixture's --webhook-version is valid")),
        kubernetes_version: case.arg("--kubernetes-version").map(|v| wi_core::options::parse_kubernetes_version(&v).expect("a fixture's --kubernetes-version is valid")),
        keda_namespace: case.arg("--keda-namespace"),
    };
    let findings = wi_core::lint(&[case.source()], &options).map_err(|e| format!("input error {e:?}"))?;
    Ok(findings
        .iter()
        .map(|f| format!("{} {} {}", f.at.line, f.severity.as_str(), f.rule))
        .collect())
}

fn through_cli(case: &Case) -> Result<(Vec<String>, i32), String> {
    let mut args = vec!["lint", "-f", case.input.as_str(), "-o", "json"];
    args.extend(case.args.iter().map(String::as_str));
    let out = run_cli(&args, None);
    let unreadable = |why: String| {
        format!(
            "kubectl-wi {}: {why}; exit {:?}\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| unreadable(format!("output is not JSON ({e})")))?;
    let findings = report["findings"].as_array().ok_or_else(|| unreadable("the report has no findings array".into()))?;
    let lines = findings
        .iter()
        .map(|f| format!("{} {} {}", f["line"], f["severity"].as_str().unwrap_or("?"), f["rule"].as_str().unwrap_or("?")))
        .collect();
    Ok((lines, out.status.code().unwrap_or(-1)))
}

/// Findings one per line, indented, for a failure message.
fn listed(findings: &[String]) -> String {
    if findings.is_empty() {
        return "    (none)".into();
    }
    findings.iter().map(|f| format!("    {f}")).collect::<Vec<_>>().join("\n")
}

/// One case: the native core and `kubectl-wi` (wasmtime) both give exactly
/// `<case>.expected`, the exit code follows the errors, and the file name's
/// rule fires or stays clean as the name says.
fn check_case(case: &Case) -> Result<(), Failed> {
    let expected_path = case.expected_path("expected");
    let expected_file = expected_path.strip_prefix(repo_root()).unwrap_or(&expected_path).display().to_string();
    let mut problems = Vec::new();
    let got = native(case);
    if blessing() {
        if let Ok(got) = &got {
            std::fs::write(&expected_path, got.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
        }
    }
    let expected: Vec<String> = match std::fs::read_to_string(&expected_path) {
        Ok(text) => text.lines().map(str::to_string).collect(),
        Err(e) => return verdict(&case.input, vec![format!("cannot read the expected findings {expected_file}: {e}")]),
    };
    match &got {
        Ok(got) if *got == expected => {}
        Ok(got) => problems.push(format!(
            "native core: findings differ from {expected_file}\n  expected:\n{}\n  actual:\n{}",
            listed(&expected),
            listed(got)
        )),
        Err(e) => problems.push(format!("native core: {e}\n  expected:\n{}", listed(&expected))),
    }
    match through_cli(case) {
        Ok((cli, code)) => {
            if cli != expected {
                problems.push(format!(
                    "kubectl-wi (wasmtime): findings differ from {expected_file}\n  expected:\n{}\n  actual:\n{}",
                    listed(&expected),
                    listed(&cli)
                ));
            }
            let want_code = if expected.iter().any(|l| l.contains(" error ")) { 1 } else { 0 };
            if code != want_code {
                problems.push(format!("kubectl-wi (wasmtime): exit {code}, expected {want_code}"));
            }
        }
        Err(e) => problems.push(e),
    }
    // The file name states the rule and whether it must fire.
    let (rule, kind) = case.name.split_once('-').unwrap_or((&case.name, ""));
    let fires = expected.iter().any(|l| l.ends_with(rule));
    match kind.split('-').next().unwrap() {
        "fires" if !fires => problems.push(format!("{rule} does not fire in {expected_file}:\n{}", listed(&expected))),
        "clean" if fires => problems.push(format!("{rule} fires on the clean case:\n{}", listed(&expected))),
        "fires" | "clean" => {}
        other => problems.push(format!("case kind {other:?} is neither fires nor clean")),
    }
    verdict(&case.input, problems)
}

fn at_least_44_cases() -> Result<(), Failed> {
    let all = cases("lint");
    if all.len() < 44 {
        return Err(format!("expected a firing and a clean case per rule (at least 44), found {} cases in tests/fixtures/lint", all.len()).into());
    }
    Ok(())
}

fn every_rule_has_a_firing_and_a_clean_case() -> Result<(), Failed> {
    let all = cases("lint");
    let mut missing = Vec::new();
    for rule in wi_core::RULES {
        for kind in ["fires", "clean"] {
            if !all.iter().any(|c| c.name.starts_with(&format!("{}-{kind}", rule.code))) {
                missing.push(format!("no {}-{kind} case in tests/fixtures/lint", rule.code));
            }
        }
    }
    if missing.is_empty() { Ok(()) } else { Err(missing.join("\n").into()) }
}

/// Every pair of inputs (fixtures, examples, the az CLI outputs) linted in
/// both orders gives the same findings: one identity seen in two sources is
/// one identity, and nothing depends on which file came first.
fn findings_never_depend_on_argument_order() {
    let mut sources: Vec<wi_core::SourceFile> = cases("lint").iter().map(Case::source).collect();
    for dir in ["bundles/examples/good", "bundles/examples/broken", "bundles/examples/azure-cli", "bundles/examples/migration"] {
        let mut paths: Vec<_> = std::fs::read_dir(repo_root().join(dir)).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let name = path.strip_prefix(repo_root()).unwrap().display().to_string();
            sources.push(wi_core::SourceFile { name, content: std::fs::read_to_string(&path).unwrap() });
        }
    }
    let options = wi_core::LintOptions { default_namespace: "default".into(), ..Default::default() };
    let findings = |files: &[wi_core::SourceFile]| {
        let mut found: Vec<String> = wi_core::lint(files, &options)
            .unwrap()
            .into_iter()
            .map(|f| format!("{}:{} {} {}", f.at.file, f.at.line, f.rule, f.message))
            .collect();
        found.sort();
        found
    };
    let mut pairs = 0;
    for (i, a) in sources.iter().enumerate() {
        for b in &sources[i + 1..] {
            let forward = findings(&[a.clone(), b.clone()]);
            let backward = findings(&[b.clone(), a.clone()]);
            assert_eq!(forward, backward, "{} and {} give different findings by order", a.name, b.name);
            pairs += 1;
        }
    }
    assert!(pairs > 1000, "{pairs} pairs");
}
