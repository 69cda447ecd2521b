//! Replays the fuzz corpus (`policy/core/fuzz/corpus/<target>/`) and every
//! shared fixture through the fuzz targets' invariants, on stable Rust, so
//! an input a fuzzer once found stays a test case. A failure names the file.

#[path = "../fuzz/fuzz_targets/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

fn replay(check: fn(&[u8]), dirs: &[&str], at_least: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files: Vec<PathBuf> = dirs.iter().flat_map(|d| files_under(&root.join(d))).collect();
    assert!(files.len() >= at_least, "expected at least {at_least} inputs under {dirs:?}, found {}", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let data = std::fs::read(file).unwrap();
        if let Err(panic) = std::panic::catch_unwind(|| check(&data)) {
            let message = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            failures.push(format!("{}: {}", file.display(), message.unwrap_or_default()));
        }
    }
    assert!(failures.is_empty(), "{} of {} inputs broke an invariant:\n{}", failures.len(), files.len(), failures.join("\n"));
}

#[test]
fn read_manifests_corpus_and_fixtures() {
    replay(
        checks::read_manifests,
        &["fuzz/corpus/read_manifests", "../../tests/fixtures/lint", "../../tests/fixtures/mutate", "../../tests/fixtures/yaml11", "../../bundles/examples"],
        100,
    );
}

#[test]
fn admission_request_corpus_and_fixtures() {
    replay(checks::admission_request, &["fuzz/corpus/admission_request", "../../tests/fixtures/kubewarden"], 40);
}
