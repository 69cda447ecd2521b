//! The lint fixture table (`tests/fixtures/lint`): every case runs through the
//! native core and through `kubectl-wi lint -o json` (the core in wasmtime),
//! and both must give exactly the findings in `<case>.expected`, one
//! `LINE SEVERITY RULE` per line.

use wi_conformance::{Case, blessing, cases, layout, repo_root, run_cli};

fn native(case: &Case) -> Vec<String> {
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
    };
    let findings = wi_core::lint(&[case.source()], &options).unwrap_or_else(|e| panic!("{}: input error {e:?}", case.name));
    findings
        .iter()
        .map(|f| format!("{} {} {}", f.at.line, f.severity.as_str(), f.rule))
        .collect()
}

fn through_cli(case: &Case) -> (Vec<String>, i32) {
    let mut args = vec!["lint", "-f", case.input.as_str(), "-o", "json"];
    args.extend(case.args.iter().map(String::as_str));
    let out = run_cli(&args, None);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", case.name, String::from_utf8_lossy(&out.stderr)));
    let lines = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {} {}", f["line"], f["severity"].as_str().unwrap(), f["rule"].as_str().unwrap()))
        .collect();
    (lines, out.status.code().unwrap())
}

#[test]
fn every_case_gives_its_expected_findings_natively_and_in_wasmtime() {
    let all = cases("lint");
    assert!(all.len() >= 44, "expected a firing and a clean case per rule, found {} cases", all.len());
    let mut failures = Vec::new();
    for case in &all {
        let expected_path = case.expected_path("expected");
        let got = native(case);
        if blessing() {
            std::fs::write(&expected_path, got.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
        }
        let expected: Vec<String> = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} has no {}", case.name, expected_path.display()))
            .lines()
            .map(str::to_string)
            .collect();
        if got != expected {
            failures.push(format!("{} (native): got {got:?}, expected {expected:?}", case.name));
        }
        let (cli, code) = through_cli(case);
        if cli != expected {
            failures.push(format!("{} (kubectl-wi): got {cli:?}, expected {expected:?}", case.name));
        }
        let want_code = if expected.iter().any(|l| l.contains(" error ")) { 1 } else { 0 };
        if code != want_code {
            failures.push(format!("{}: exit {code}, expected {want_code}", case.name));
        }
        // The file name states the rule and whether it must fire.
        let (rule, kind) = case.name.split_once('-').unwrap();
        let fires = expected.iter().any(|l| l.ends_with(rule));
        match kind.split('-').next().unwrap() {
            "fires" if !fires => failures.push(format!("{}: {rule} does not fire", case.name)),
            "clean" if fires => failures.push(format!("{}: {rule} fires on the clean case", case.name)),
            "fires" | "clean" => {}
            other => failures.push(format!("{}: case kind {other:?} is neither fires nor clean", case.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_has_a_firing_and_a_clean_case() {
    let all = cases("lint");
    for rule in wi_core::RULES {
        for kind in ["fires", "clean"] {
            assert!(
                all.iter().any(|c| c.name.starts_with(&format!("{}-{kind}", rule.code))),
                "no {}-{kind} case in tests/fixtures/lint",
                rule.code
            );
        }
    }
    let _ = repo_root();
}

/// Every pair of inputs (fixtures, examples, the az CLI outputs) linted in
/// both orders gives the same findings: one identity seen in two sources is
/// one identity, and nothing depends on which file came first.
#[test]
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
