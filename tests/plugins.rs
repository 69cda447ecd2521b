//! Rule plugins as users run them (`kubectl wi lint --plugin`): the example
//! plugin in every output format and from the plugin directory, and the
//! sandbox against plugins that loop, hoard memory, crash, flood the host,
//! lie about their codes or import what the world does not grant. `make
//! test` builds them (`make plugins test-plugins`) before this runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use wi_conformance::{kubectl_wi, repo_root, run_cli};

const EXAMPLE: &str = "bundles/plugins/prod-cost-center.wasm";
const HOSTILE: &str = "target/plugins/hostile.wasm";
const PROD: &str = "bundles/examples/plugins/prod-shop.yaml";

fn built(path: &str) -> &str {
    assert!(repo_root().join(path).exists(), "{path} is missing: run `make plugins test-plugins` (make test does)");
    path
}

fn scratch(name: &str) -> PathBuf {
    let dir = repo_root().join("target/test-scratch/plugins").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A file that makes the hostile plugin behave as `mode` says, beside a
/// pod the core reports WI012 on (so the core's findings can be checked
/// to survive the plugin).
fn hostile_input(mode: &str) -> String {
    let dir = scratch(&format!("mode-{mode}"));
    let path = dir.join("input.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: hostile, namespace: t}}\ndata: {{mode: \"{mode}\"}}\n---\n\
             apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: t, labels: {{azure.workload.identity/use: \"true\"}}}}\n\
             spec: {{containers: [{{name: c, image: x}}]}}\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// Lints the hostile input in `mode` and checks the run: exit 2, the
/// plugin named in the error, and the core's findings still reported.
fn stopped(mode: &str, extra: &[&str]) -> String {
    let input = hostile_input(mode);
    let mut args = vec!["lint", "-f", &input, "--plugin", built(HOSTILE)];
    args.extend_from_slice(extra);
    let out = run_cli(&args, None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "mode {mode}: {stderr}");
    assert!(stderr.starts_with(&format!("kubectl wi: error: plugin hostile ({HOSTILE}): ")), "mode {mode}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "mode {mode}: one line: {stderr}");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("warning[WI012]") && stdout.contains("warning[WI004]"), "mode {mode}: the core's findings are kept: {stdout}");
    assert!(!stdout.contains("HOST001"), "mode {mode}: nothing of the failed plugin: {stdout}");
    stderr
}

#[test]
fn the_example_plugin_reports_in_text_json_and_sarif() {
    let out = run_cli(&["lint", "-f", PROD, "--plugin", built(EXAMPLE)], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "{PROD}:21: error[ORG001]: ServiceAccount checkout in the prod namespace shop has no cost-center label (ServiceAccount shop/checkout)\n  \
             fix: Add metadata.labels.cost-center with the team's cost center, e.g. cost-center: cc-1234.\n1 error, 0 warnings, 0 infos in 1 file\n"
        )
    );
    // Without the plugin the same file is clean.
    let out = run_cli(&["lint", "-f", PROD], None);
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(0), "0 errors, 0 warnings, 0 infos in 1 file\n".to_string()));

    let out = run_cli(&["lint", "-f", PROD, "--plugin", EXAMPLE, "-o", "json"], None);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report,
        serde_json::json!({
            "findings": [{
                "rule": "ORG001", "severity": "error",
                "message": "ServiceAccount checkout in the prod namespace shop has no cost-center label",
                "fix": "Add metadata.labels.cost-center with the team's cost center, e.g. cost-center: cc-1234.",
                "file": PROD, "line": 21, "kind": "ServiceAccount", "namespace": "shop", "name": "checkout",
            }],
            "summary": {"errors": 1, "warnings": 0, "infos": 0},
        })
    );

    let out = run_cli(&["lint", "-f", PROD, "--plugin", EXAMPLE, "-o", "sarif"], None);
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "ORG001");
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "ORG001");
    assert_eq!(rules[index]["name"], "prod-service-account-cost-center");
    assert!(rules[index]["help"]["markdown"].as_str().unwrap().contains("From the rule plugin prod-cost-center"));
    assert!(rules.iter().any(|r| r["id"] == "WI001"), "the core's catalogue is still there");
    assert!(run.get("invocations").is_none(), "a successful run has no failure notifications");
}

/// `lint -f PROD` with `config` as the user's config directory (run_cli
/// points it at an empty one).
fn lint_with_config_dir(config: &Path, extra: &[&str]) -> Output {
    Command::new(kubectl_wi())
        .args(["lint", "-f", PROD])
        .args(extra)
        .current_dir(repo_root())
        .env("KUBECTL_WI_CACHE_DIR", repo_root().join("target/test-cache"))
        .env("KUBECTL_WI_CONFIG_DIR", config)
        .output()
        .unwrap()
}

#[test]
fn plugins_in_the_plugin_directory_run_unless_told_not_to() {
    let config = scratch("config-dir");
    std::fs::create_dir_all(config.join("plugins")).unwrap();
    std::fs::copy(repo_root().join(built(EXAMPLE)), config.join("plugins/cost.wasm")).unwrap();
    std::fs::write(config.join("plugins/README.txt"), "not a plugin: only *.wasm files are loaded").unwrap();
    let lint = |extra: &[&str]| lint_with_config_dir(&config, extra);
    let out = lint(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("error[ORG001]"));
    let out = lint(&["--no-plugin-dir"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The same plugin named again on the command line runs once.
    let out = lint(&["--plugin", &config.join("plugins/cost.wasm").display().to_string(), "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
    // A copy elsewhere is another plugin claiming the same prefix.
    let copy = scratch("copy").join("again.wasm");
    std::fs::copy(repo_root().join(EXAMPLE), &copy).unwrap();
    let out = lint(&["--plugin", &copy.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("its prefix \"ORG\" is another loaded plugin's"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("error[ORG001]"), "the first copy still reports");
}

#[test]
fn plugins_see_the_objects_and_the_core_findings() {
    let input = hostile_input("echo");
    let out = run_cli(&["lint", "-f", &input, "--plugin", built(HOSTILE), "-o", "json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let messages: Vec<&str> = report["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "HOST001").map(|f| f["message"].as_str().unwrap()).collect();
    assert_eq!(messages, [format!("core said WI004 at {input}:9"), format!("core said WI012 at {input}:9")]);
    // Without a mode the plugin reports each ConfigMap, at its line.
    let input = hostile_input("");
    let out = run_cli(&["lint", "-f", &input, "--plugin", HOSTILE], None);
    assert!(text(&out.stdout).starts_with(&format!("{input}:1: warning[HOST001]: ConfigMap t/hostile seen (ConfigMap t/hostile)\n")), "{}", text(&out.stdout));
}

#[test]
fn a_plugin_in_an_endless_loop_is_stopped_at_its_deadline() {
    let stderr = stopped("loop", &[]);
    assert!(stderr.ends_with("check ran longer than 500 ms and was stopped (raise it with --plugin-timeout)\n"), "{stderr}");
    let stderr = stopped("loop", &["--plugin-timeout", "50ms"]);
    assert!(stderr.contains("check ran longer than 50 ms"), "{stderr}");
}

#[test]
fn a_plugin_that_hoards_memory_is_stopped_at_its_cap() {
    let stderr = stopped("hog", &[]);
    assert!(stderr.ends_with("check needed more than 64 MiB of memory and was stopped (raise it with --plugin-memory)\n"), "{stderr}");
    let stderr = stopped("hog", &["--plugin-memory", "16Mi"]);
    assert!(stderr.contains("more than 16 MiB of memory"), "{stderr}");
}

#[test]
fn a_plugin_that_crashes_is_reported() {
    assert!(stopped("trap", &[]).ends_with("check crashed (a panic in the plugin: wasm `unreachable` executed)\n"));
    assert!(stopped("recurse", &[]).ends_with("check crashed: wasm trap: call stack exhausted\n"));
    let stderr = stopped("error", &[]);
    // One line: the plugin's second line could fake a finding.
    assert!(stderr.ends_with("check reported an error: the plugin gave up (first line of several)\n"), "{stderr}");
}

#[test]
fn a_plugin_that_floods_the_host_is_refused() {
    // 100 MB of findings: over the memory cap by default...
    assert!(stopped("flood", &[]).contains("check needed more than 64 MiB of memory"));
    // ...and over what the host copies out when the cap allows it.
    let stderr = stopped("flood", &["--plugin-memory", "512Mi"]);
    assert!(stderr.ends_with("check returned more than 16 MiB and was refused\n"), "{stderr}");
    assert!(stopped("long", &[]).ends_with("a HOST001 finding's message is longer than 4096 bytes\n"));
}

#[test]
fn a_plugin_may_only_report_its_own_declared_rules_about_real_objects() {
    assert!(stopped("undeclared", &[]).ends_with("check reported rule \"HOST999\", which describe does not declare\n"));
    assert!(stopped("core-code", &[]).ends_with("check reported rule \"WI001\", which describe does not declare\n"));
    assert!(stopped("no-object", &[]).ends_with("check reported HOST001 about object 2, but there are 2 objects\n"));
    let stderr = hostile_plugin_error("target/plugins/steal-prefix.wasm");
    assert_eq!(stderr, "kubectl wi: error: plugin hostile (target/plugins/steal-prefix.wasm): its prefix \"WI\" starts with WI, which is the core's\n");
}

/// The error of a plugin that fails to load, with the core's report intact.
fn hostile_plugin_error(plugin: &str) -> String {
    let input = hostile_input("");
    let out = run_cli(&["lint", "-f", &input, "--plugin", built(plugin)], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).contains("warning[WI012]"));
    text(&out.stderr)
}

#[test]
fn a_plugin_that_imports_anything_is_refused_before_it_runs() {
    let stderr = hostile_plugin_error("target/plugins/smuggler.wasm");
    assert_eq!(
        stderr,
        "kubectl wi: error: plugin target/plugins/smuggler.wasm: it imports read-file, which the rule-plugin world does not grant \
         (a plugin gets no files, network, environment or clock; build it for wasm32-unknown-unknown)\n"
    );
}

#[test]
fn plugin_text_cannot_forge_report_lines() {
    // A message with a line break and a terminal escape is refused whole.
    let stderr = stopped("escape", &[]);
    assert!(stderr.ends_with("a HOST001 finding's message holds control, line-break or bidirectional characters\n"), "{stderr}");
}

#[test]
fn failures_show_in_json_and_sarif() {
    let input = hostile_input("trap");
    let out = run_cli(&["lint", "-f", &input, "--plugin", built(HOSTILE), "-o", "json"], None);
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["pluginErrors"],
        serde_json::json!([{"plugin": "hostile", "path": HOSTILE, "message": "check crashed (a panic in the plugin: wasm `unreachable` executed)"}])
    );
    assert_eq!(report["summary"]["warnings"], 2);
    let out = run_cli(&["lint", "-f", &input, "--plugin", HOSTILE, "-o", "sarif"], None);
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert!(invocation["toolExecutionNotifications"][0]["message"]["text"].as_str().unwrap().contains("check crashed"));
}

#[test]
fn bad_plugin_files_and_flag_values_are_usage_errors() {
    let dir = scratch("bad-files");
    let yaml = dir.join("rules.wasm");
    std::fs::write(&yaml, "apiVersion: v1\n").unwrap();
    let truncated = dir.join("truncated.wasm");
    let bytes = std::fs::read(repo_root().join(built(EXAMPLE))).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (yaml.display().to_string(), "not a WebAssembly file"),
        (truncated.display().to_string(), "not a rule-plugin module"),
        (dir.join("missing.wasm").display().to_string(), "cannot read it"),
        (dir.display().to_string(), "not a file"),
        // A wasm module of another kind: the core's own Extism plugin.
        ("bundles/extism/wi_policy_extism.wasm".to_string(), "not a rule-plugin module"),
    ];
    for (plugin, expected) in &cases {
        if !Path::new(plugin).is_absolute() && !repo_root().join(plugin).exists() {
            panic!("{plugin} is missing: run `make extism` (make test does)");
        }
        let out = run_cli(&["lint", "-f", PROD, "--plugin", plugin], None);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{plugin}: {stderr}");
        assert!(stderr.starts_with(&format!("kubectl wi: error: plugin {plugin}: {expected}")), "{plugin}: {stderr}");
        assert!(text(&out.stdout).ends_with("0 errors, 0 warnings, 0 infos in 1 file\n"), "the core still reports");
    }
    for (flag, value, expected) in [
        ("--plugin-memory", "64MB", "is not a size"),
        ("--plugin-memory", "8Gi", "out of range"),
        ("--plugin-memory", "1", "out of range"),
        ("--plugin-timeout", "0", "out of range"),
        ("--plugin-timeout", "soon", "is not a duration"),
        ("--plugin-timeout", "2h", "is not a duration"),
    ] {
        let out = run_cli(&["lint", "-f", PROD, "--plugin", EXAMPLE, flag, value], None);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(flag) && stderr.contains(expected), "{flag} {value}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn plugin_files_that_would_hang_or_swamp_the_host_are_refused() {
    let dir = scratch("swamp");
    // A FIFO named like a plugin: opening it would wait for a writer forever.
    let fifo = dir.join("fifo.wasm");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    // One function of 300 KiB: the compiler's time and memory grow with it.
    let big = dir.join("big.wasm");
    let mut module = wasm_encoder::Module::new();
    let mut types = wasm_encoder::TypeSection::new();
    types.ty().function([], []);
    module.section(&types);
    let mut functions = wasm_encoder::FunctionSection::new();
    functions.function(0);
    module.section(&functions);
    let mut code = wasm_encoder::CodeSection::new();
    let mut body = wasm_encoder::Function::new([]);
    for _ in 0..100_000 {
        body.instruction(&wasm_encoder::Instruction::I32Const(1));
        body.instruction(&wasm_encoder::Instruction::Drop);
    }
    body.instruction(&wasm_encoder::Instruction::End);
    code.function(&body);
    module.section(&code);
    std::fs::write(&big, module.finish()).unwrap();
    for (plugin, expected) in [(&fifo, "not a file"), (&big, "a function of it is 292 KiB of code; a plugin function may have 128 KiB")] {
        let plugin = plugin.display().to_string();
        let out = run_cli(&["lint", "-f", PROD, "--plugin", &plugin], None);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(text(&out.stderr), format!("kubectl wi: error: plugin {plugin}: {expected}\n"));
    }
}

#[test]
fn overlapping_prefixes_and_a_broken_plugin_directory_are_reported() {
    let input = hostile_input("");
    let out = run_cli(&["lint", "-f", &input, "--plugin", built(HOSTILE), "--plugin", built("target/plugins/shadow-prefix.wasm")], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "kubectl wi: error: plugin hostile (target/plugins/shadow-prefix.wasm): its prefix \"HOS\" overlaps \"HOST\", another loaded plugin's\n"
    );
    assert_eq!(text(&out.stdout).matches("warning[HOST001]").count(), 1);

    // A file where the plugin directory should be: reported, the core still runs.
    let config = scratch("file-as-dir");
    std::fs::write(config.join("plugins"), "not a directory").unwrap();
    let out = lint_with_config_dir(&config, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with(&format!("kubectl wi: error: plugin {}: the plugin directory cannot be read: ", config.join("plugins").display())), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with("0 errors, 0 warnings, 0 infos in 1 file\n"));
}

#[test]
fn rules_lists_the_rules_of_plugins() {
    let out = run_cli(&["rules", "--plugin", built(EXAMPLE), "-o", "json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rules: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = rules.as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes.first(), Some(&"WI001"));
    assert_eq!(codes.last(), Some(&"ORG001"));
    let out = run_cli(&["rules", "--plugin", built(EXAMPLE)], None);
    assert!(text(&out.stdout).lines().last().unwrap().starts_with("ORG001  error    prod-service-account-cost-center"));
}

#[test]
fn a_compiled_plugin_is_cached_and_a_damaged_copy_is_replaced() {
    let cache = scratch("cache");
    let lint = || {
        Command::new(kubectl_wi())
            .args(["lint", "-f", PROD, "--plugin", EXAMPLE, "-o", "json"])
            .current_dir(repo_root())
            .env("KUBECTL_WI_CACHE_DIR", &cache)
            .env("KUBECTL_WI_CONFIG_DIR", cache.join("no-config"))
            .output()
            .unwrap()
    };
    let plugin_files = || -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().path()).filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("plugin-")).collect();
        found.sort();
        found
    };
    let first = lint();
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    let stored = plugin_files();
    assert_eq!(stored.len(), 1, "one compiled plugin in the cache: {stored:?}");
    assert!(stored[0].extension().is_some_and(|e| e == "cwasm"));
    // Loaded from the cache: the same answer.
    let second = lint();
    assert_eq!(second.stdout, first.stdout);
    // A damaged artifact is never loaded: it is compiled again and replaced.
    let mut bytes = std::fs::read(&stored[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&stored[0], &bytes).unwrap();
    let third = lint();
    assert_eq!(third.stdout, first.stdout, "{}", text(&third.stderr));
    assert_eq!(plugin_files(), stored, "the same name again, with sound content");
    assert_ne!(std::fs::read(&stored[0]).unwrap(), bytes);
}
