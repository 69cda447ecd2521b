//! Shared pieces of the cross-runtime tests: where things are, fixture
//! cases with their arguments, and running `kubectl-wi`.

pub mod policy_host;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

/// The binary `make build` produced; tests run what users run.
pub fn kubectl_wi() -> PathBuf {
    let path = repo_root().join("target/release/kubectl-wi");
    assert!(path.exists(), "{} is missing: run `make build` (or `make test`)", path.display());
    path
}

/// Runs `kubectl-wi` from the repository root with a private cache directory.
pub fn run_cli(args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(kubectl_wi())
        .args(args)
        .current_dir(repo_root())
        .env("KUBECTL_WI_CACHE_DIR", repo_root().join("target/test-cache"))
        // No rule plugins from the user's own plugin directory.
        .env("KUBECTL_WI_CONFIG_DIR", repo_root().join("target/test-config-none"))
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl-wi starts");
    if let Some(bytes) = stdin {
        // A child that stops reading early is fine; its exit code tells.
        let _ = child.stdin.take().unwrap().write_all(bytes);
    }
    child.wait_with_output().unwrap()
}

/// One fixture: an input file and the arguments from its `# args:` header.
#[derive(Debug)]
pub struct Case {
    pub name: String,
    /// Path relative to the repository root, as given to `-f`.
    pub input: String,
    pub args: Vec<String>,
}

impl Case {
    /// Terraform or an ARM template: read by the faces that lint files
    /// (native, CLI, Extism), not by the Kubewarden policy (admission
    /// objects) or the browser page (left out for its size).
    pub fn is_infrastructure_code(&self) -> bool {
        self.input.ends_with(".tf") || std::fs::read_to_string(repo_root().join(&self.input)).is_ok_and(|t| t.contains("deploymentTemplate.json#"))
    }
    pub fn expected_path(&self, extension: &str) -> PathBuf {
        repo_root().join(&self.input).with_extension(extension)
    }
    pub fn arg(&self, flag: &str) -> Option<String> {
        self.args.iter().position(|a| a == flag).map(|i| self.args[i + 1].clone())
    }
    /// The case's trial name: its file name without the extension, lower
    /// case, `-` as `_` (`WI006-fires-not-a-number.yaml` is
    /// `wi006_fires_not_a_number`), so `cargo test wi006_` runs the WI006
    /// cases.
    pub fn trial_name(&self) -> String {
        trial_name(&self.name)
    }
    pub fn source(&self) -> wi_core::SourceFile {
        wi_core::SourceFile {
            name: self.input.clone(),
            content: std::fs::read_to_string(repo_root().join(&self.input)).unwrap(),
        }
    }
}

/// Every `*.yaml`/`*.json` input under `tests/fixtures/<table>`, sorted.
pub fn cases(table: &str) -> Vec<Case> {
    let dir = repo_root().join("tests/fixtures").join(table);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "json" | "tf")) && !p.to_string_lossy().ends_with(".expected.json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let args = text
                .lines()
                .find_map(|l| l.strip_prefix("# args:"))
                .map(|a| a.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
            Case {
                name: p.file_stem().unwrap().to_string_lossy().into_owned(),
                input: format!("tests/fixtures/{table}/{}", p.file_name().unwrap().to_string_lossy()),
                args,
            }
        })
        .collect()
}

pub fn layout(case: &Case) -> wi_core::Layout {
    match case.arg("--layout").as_deref() {
        Some("v1.6") => wi_core::Layout::V1_6,
        _ => wi_core::Layout::Classic,
    }
}

/// `WI006-fires-not-a-number` -> `wi006_fires_not_a_number`.
pub fn trial_name(file_stem: &str) -> String {
    file_stem.to_lowercase().replace('-', "_")
}

/// A fixture trial's verdict: passes when `problems` is empty, else fails
/// with the fixture's path and every problem in full.
pub fn verdict(fixture: &str, problems: Vec<String>) -> Result<(), libtest_mimic::Failed> {
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!("fixture {fixture}\n\n{}", problems.join("\n\n")).into())
}

/// Runs `trials` as the test binary's harness (`harness = false`): the
/// usual `cargo test` flags (`--list`, `--exact`, `--skip`, `--ignored`)
/// and one filter, one line per trial. (libtest-mimic takes one filter
/// where libtest takes several: `cargo test a b` fails in these binaries.)
pub fn run_trials(trials: Vec<libtest_mimic::Trial>) -> std::process::ExitCode {
    let names: std::collections::BTreeSet<&str> = trials.iter().map(libtest_mimic::Trial::name).collect();
    assert_eq!(names.len(), trials.len(), "two trials have the same name");
    libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials).exit_code()
}

/// Set `WI_BLESS=1` to (re)write expected files from the native core's
/// output; review the diff before committing it.
pub fn blessing() -> bool {
    std::env::var_os("WI_BLESS").is_some()
}
