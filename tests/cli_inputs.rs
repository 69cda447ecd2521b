//! How `kubectl wi` takes its inputs and leaves its traces, through the
//! built binary: each real file read once however it is named, a damaged
//! precompiled cache healed instead of crashing every run, one format for
//! input errors, SARIF artifact URIs that are URI references.

use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wi_conformance::{kubectl_wi, repo_root, run_cli};

/// A fresh directory under target/test-scratch (prefixed so names do not
/// collide with tests/cli.rs, which runs in parallel in another binary).
fn scratch(name: &str) -> PathBuf {
    let dir = repo_root().join("target/test-scratch").join(format!("inputs-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `path` relative to the repository root, where `run_cli` runs.
fn relative(path: &Path) -> String {
    path.strip_prefix(repo_root()).unwrap().display().to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn copy_example(to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(repo_root().join("bundles/examples/good/workload.yaml"), to).unwrap();
}

/// Runs `args` and the reference arguments; both must give the same exit
/// code, stdout and stderr (the text report counts files, so a file read
/// twice shows even when no rule fires).
fn assert_same_as(args: &[&str], reference: &[&str]) {
    let got = run_cli(args, None);
    let want = run_cli(reference, None);
    assert!(matches!(want.status.code(), Some(0 | 1)), "reference {reference:?}: {}", stderr(&want));
    assert_eq!(got.status.code(), want.status.code(), "{args:?}: {}{}", stdout(&got), stderr(&got));
    assert_eq!(stdout(&got), stdout(&want), "{args:?} vs {reference:?}");
    assert_eq!(stderr(&got), stderr(&want), "{args:?} vs {reference:?}");
}

/// `run_cli` for a run that might not end: killed, and the test failed,
/// after `limit`.
fn run_within(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(kubectl_wi())
        .args(args)
        .current_dir(repo_root())
        .env("KUBECTL_WI_CACHE_DIR", repo_root().join("target/test-cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drained as it comes, so a full pipe cannot look like a hang.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{args:?} did not finish in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
}

// 1. Each real file once.

#[test]
fn the_same_directory_twice_is_read_once() {
    // Read twice, the federated credential was a duplicate of itself (WI025).
    assert_same_as(&["lint", "-f", "bundles/examples/good", "-f", "bundles/examples/good"], &["lint", "-f", "bundles/examples/good"]);
    assert_same_as(
        &["lint", "-f", "bundles/examples/good", "-f", "bundles/examples/good", "-o", "json"],
        &["lint", "-f", "bundles/examples/good", "-o", "json"],
    );
}

#[test]
fn a_file_named_two_ways_is_read_once_under_its_first_name() {
    let file = "bundles/examples/good/workload.yaml";
    let dotted = "./bundles/examples/good/workload.yaml";
    assert_same_as(&["lint", "-f", file, "-f", dotted], &["lint", "-f", file]);
    assert_same_as(&["lint", "-f", file, "-f", file], &["lint", "-f", file]);
    // Mutate printed every object twice.
    let once = run_cli(&["mutate", "-f", file, "-o", "json"], None);
    let twice = run_cli(&["mutate", "-f", file, "-f", dotted, "-f", "bundles/examples/good", "-o", "json"], None);
    assert_eq!(twice.status.code(), Some(0), "{}", stderr(&twice));
    assert_eq!(stdout(&twice), stdout(&once));
    // Messages name the file as it was first reached.
    let fires = "tests/fixtures/lint/WI003-fires.yaml";
    let out = run_cli(&["lint", "-f", &format!("./{fires}"), "-f", fires, "-o", "json"], None);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"], json!({"errors": 1, "warnings": 0, "infos": 0}), "{report:#}");
    assert_eq!(report["findings"][0]["file"], format!("./{fires}"));
}

#[test]
fn a_directory_and_its_subdirectory_are_read_once() {
    // The manifest examples; bundles/examples/generate holds a generate
    // spec, which is not a manifest.
    let root = scratch("examples");
    for dir in ["azure-cli", "broken", "good", "migration"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        for entry in std::fs::read_dir(repo_root().join("bundles/examples").join(dir)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, root.join(dir).join(path.file_name().unwrap())).unwrap();
        }
    }
    let (all, sub) = (relative(&root), relative(&root.join("good")));
    let each: Vec<String> = ["good", "azure-cli", "broken", "migration"].iter().map(|d| relative(&root.join(d))).collect();
    assert_same_as(&["lint", "-f", &all, "-R", "-f", &sub], &["lint", "-f", &all, "-R"]);
    assert_same_as(&["lint", "-f", &sub, "-f", &all, "-R"], &["lint", "-f", &each[0], "-f", &each[1], "-f", &each[2], "-f", &each[3]]);
}

#[test]
fn a_symlinked_directory_is_followed_once_and_loops_end() {
    // kustomize style: an overlay links its base.
    let tree = scratch("kustomize");
    copy_example(&tree.join("base/workload.yaml"));
    std::fs::create_dir_all(tree.join("prod")).unwrap();
    symlink("../base", tree.join("prod/base")).unwrap();
    // A link back to an ancestor would never end without tracking directories.
    symlink("..", tree.join("base/up")).unwrap();
    // A link to a directory outside the tree is followed like any directory.
    let outside = scratch("kustomize-outside");
    std::fs::copy(repo_root().join("tests/fixtures/lint/WI003-fires.yaml"), outside.join("sa.yaml")).unwrap();
    symlink(&outside, tree.join("prod/shared")).unwrap();

    let tree_arg = relative(&tree);
    let out = run_within(&["lint", "-f", &tree_arg, "-R", "-o", "json"], Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The same findings as the two real files given once each (WI003 and
    // WI030 for the linked ServiceAccount), no WI024/WI025 between a
    // credential and itself; the linked file named by the path it was
    // reached by.
    let expected = run_cli(&["lint", "-f", &format!("{tree_arg}/base"), "-f", &relative(&outside), "-o", "json"], None);
    let expected: Value = serde_json::from_slice(&expected.stdout).unwrap();
    assert_eq!(report["summary"], expected["summary"], "{report:#}");
    let rules = |r: &Value| r["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(rules(&report), rules(&expected));
    assert!(rules(&report).iter().all(|r| r != "WI024" && r != "WI025"), "{report:#}");
    for finding in report["findings"].as_array().unwrap() {
        assert_eq!(finding["file"], format!("{tree_arg}/prod/shared/sa.yaml"));
    }

    // Two files: the base (under its own name, reached first) and the linked one.
    let text = run_cli(&["lint", "-f", &tree_arg, "-R"], None);
    assert!(stdout(&text).trim_end().ends_with("in 2 files"), "{}", stdout(&text));
    // Entering through the overlay: the base is read once, under the link's name.
    let via_link = run_cli(&["lint", "-f", &format!("{tree_arg}/prod"), "-R", "-f", &format!("{tree_arg}/base"), "-o", "json"], None);
    let report: Value = serde_json::from_slice(&via_link.stdout).unwrap();
    assert_eq!(report["summary"], expected["summary"], "{report:#}");
    let text = run_cli(&["lint", "-f", &format!("{tree_arg}/prod"), "-R", "-f", &format!("{tree_arg}/base")], None);
    assert!(stdout(&text).trim_end().ends_with("in 2 files"), "{}", stdout(&text));
}

// 2. The precompiled cache.

fn run_with_cache(args: &[&str], cache: &Path) -> Output {
    Command::new(kubectl_wi())
        .args(args)
        .current_dir(repo_root())
        .env("KUBECTL_WI_CACHE_DIR", cache)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The one cache file in `cache`, named `core-KEY-ENGINE-SHA256.cwasm`.
fn cache_file(cache: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(cache).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("cwasm"), "{files:?}");
    files[0].clone()
}

/// Damages the cache in one way, then checks that the next run answers like
/// a clean one and leaves a cache the run after it loads without rewriting.
fn assert_cache_heals(name: &str, damage: impl Fn(&Path)) {
    let cache = scratch(name);
    let args = ["lint", "-f", "bundles/examples/broken", "-o", "json"];
    let clean = run_with_cache(&args, &cache);
    assert_eq!(clean.status.code(), Some(1), "{}", stderr(&clean));
    let file = cache_file(&cache);
    let good = std::fs::read(&file).unwrap();

    damage(&file);

    let healing = run_with_cache(&args, &cache);
    assert_eq!(healing.status.code(), clean.status.code(), "{name}: {}", stderr(&healing));
    assert_eq!(stdout(&healing), stdout(&clean), "{name}");
    assert_eq!(stderr(&healing), stderr(&clean), "{name}");

    // Replaced by a whole file (compilation is deterministic, so the same
    // bytes under the same name)...
    let healed = cache_file(&cache);
    assert_eq!(healed, file, "{name}");
    assert!(std::fs::read(&healed).unwrap() == good, "{name}: the cache was not healed");
    let inode = std::fs::metadata(&healed).unwrap().ino();
    // ...that the next run loads as it is.
    let again = run_with_cache(&args, &cache);
    assert_eq!(again.status.code(), clean.status.code());
    assert_eq!(stdout(&again), stdout(&clean));
    assert_eq!(std::fs::metadata(cache_file(&cache)).unwrap().ino(), inode, "{name}: the healed cache was written again");
}

#[test]
fn a_cache_overwritten_in_the_middle_is_recompiled_and_replaced() {
    assert_cache_heals("cache-overwritten", |file| {
        let mut bytes = std::fs::read(file).unwrap();
        let middle = bytes.len() / 2;
        // int3 over 128 KiB of machine code: before the digest, the next run
        // executed it (SIGTRAP, exit 133, no message) and so did every run after.
        for b in &mut bytes[middle - 64 * 1024..middle + 64 * 1024] {
            *b = 0xcc;
        }
        std::fs::write(file, bytes).unwrap();
    });
}

#[test]
fn a_truncated_cache_is_recompiled_and_replaced() {
    let truncate_to = |fraction: u64| {
        move |file: &Path| {
            let f = std::fs::OpenOptions::new().write(true).open(file).unwrap();
            let len = f.metadata().unwrap().len();
            f.set_len(len * fraction / 100).unwrap();
        }
    };
    assert_cache_heals("cache-truncated", truncate_to(50));
    assert_cache_heals("cache-empty", truncate_to(0));
}

#[test]
fn a_cache_file_without_a_digest_is_replaced() {
    // The name versions before the digest wrote: `core-KEY-ENGINE.cwasm`.
    assert_cache_heals("cache-no-digest", |file| {
        let name = file.file_name().unwrap().to_str().unwrap();
        let (stem, digest) = name.strip_suffix(".cwasm").unwrap().rsplit_once('-').unwrap();
        assert_eq!(digest.len(), 8, "{name} carries a CRC-32");
        std::fs::rename(file, file.with_file_name(format!("{stem}.cwasm"))).unwrap();
    });
}

// 3. Input errors: `FILE[:LINE[:COL]]: error: MESSAGE`, exit 2, no stdout.

/// Runs `args`, expects an input error and returns its one line.
fn input_error(args: &[&str], stdin: Option<&[u8]>) -> String {
    let out = run_cli(args, stdin);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
    assert!(err.ends_with('\n'));
    let line = err.trim_end().to_string();
    assert!(!line.contains("os error"), "{line}");
    assert!(!line.ends_with(": error"), "{line}");
    line
}

#[test]
fn input_errors_are_file_line_column_error_message() {
    let dir = scratch("errors");
    let rel = relative(&dir);

    assert_eq!(input_error(&["lint", "-f", "does/not/exist.yaml"], None), "does/not/exist.yaml: error: no such file or directory");
    assert_eq!(input_error(&["mutate", "-f", "does/not/exist.yaml"], None), "does/not/exist.yaml: error: no such file or directory");

    std::fs::write(dir.join("latin1.yaml"), b"kind: Pod\nmetadata:\n  name: caf\xe9\n").unwrap();
    assert_eq!(input_error(&["lint", "-f", &format!("{rel}/latin1.yaml")], None), format!("{rel}/latin1.yaml:3:12: error: file is not valid UTF-8"));

    let huge = dir.join("huge.yaml");
    std::fs::File::create(&huge).unwrap().set_len(33 * 1024 * 1024).unwrap();
    assert_eq!(input_error(&["lint", "-f", &format!("{rel}/huge.yaml")], None), format!("{rel}/huge.yaml: error: file is larger than the 32 MiB limit"));
    std::fs::remove_file(&huge).unwrap();
    assert_eq!(
        input_error(&["lint", "-f", "-"], Some(&vec![b' '; 33 * 1024 * 1024])),
        "<stdin>: error: file is larger than the 32 MiB limit"
    );
    let twice = input_error(&["lint", "-f", "-", "-f", "-"], Some(b"kind: Pod\n"));
    assert!(twice.starts_with("<stdin>: error: "), "{twice}");

    std::fs::create_dir_all(dir.join("empty/sub")).unwrap();
    assert_eq!(
        input_error(&["lint", "-f", &format!("{rel}/empty")], None),
        format!("{rel}/empty: error: no .yaml, .yml, .json or .tf files (use -R to look in subdirectories)")
    );

    // A dangling link inside a directory is named by the path it was reached by.
    std::fs::create_dir_all(dir.join("dangling")).unwrap();
    symlink("gone.yaml", dir.join("dangling/app.yaml")).unwrap();
    assert_eq!(
        input_error(&["lint", "-f", &format!("{rel}/dangling")], None),
        format!("{rel}/dangling/app.yaml: error: no such file or directory")
    );
    symlink("loop.yaml", dir.join("loop.yaml")).unwrap();
    let looped = input_error(&["lint", "-f", &format!("{rel}/loop.yaml")], None);
    assert_eq!(looped, format!("{rel}/loop.yaml: error: too many levels of symbolic links"));

    // Root reads anything; the check only means something for other users.
    let locked = dir.join("locked.yaml");
    std::fs::write(&locked, b"kind: Pod\n").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_err() {
        assert_eq!(input_error(&["lint", "-f", &format!("{rel}/locked.yaml")], None), format!("{rel}/locked.yaml: error: permission denied"));
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();

    // Errors the core finds have the same shape.
    std::fs::write(dir.join("scalar.yaml"), b"kind: Pod\n---\njust a string\n").unwrap();
    let scalar = input_error(&["lint", "-f", &format!("{rel}/scalar.yaml")], None);
    assert!(scalar.starts_with(&format!("{rel}/scalar.yaml:3:")), "{scalar}");
    assert!(scalar.contains(": error: "), "{scalar}");
}

// 4. SARIF artifact URIs.

/// The `uri-reference` format of JSON Schema is RFC 3986's URI-reference;
/// jsonschema checks it strictly (and against a full URI parser).
fn is_uri_reference(text: &str) -> bool {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&json!({"type": "string", "format": "uri-reference"}))
        .unwrap();
    validator.is_valid(&json!(text))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn sarif_uris(args: &[&str], stdin: Option<&[u8]>) -> Vec<String> {
    let out = run_cli(args, stdin);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sarif_artifact_uris_are_valid_uri_references() {
    // The check itself: what the old output held is refused.
    assert!(!is_uri_reference("target/my app#1 100%.yaml"));
    assert!(is_uri_reference("target/my%20app%231%20100%25.yaml"));

    let dir = scratch("sarif uris");
    let name = "my app#1 100%.yaml";
    std::fs::copy(repo_root().join("tests/fixtures/lint/WI003-fires.yaml"), dir.join(name)).unwrap();
    let rel = format!("{}/{name}", relative(&dir));

    let uris = sarif_uris(&["lint", "-f", &rel, "-o", "sarif"], None);
    assert_eq!(uris, ["target/test-scratch/inputs-sarif%20uris/my%20app%231%20100%25.yaml"]);
    assert!(is_uri_reference(&uris[0]), "{}", uris[0]);
    assert_eq!(percent_decode(&uris[0]), rel);

    let uris = sarif_uris(&["lint", "-f", &format!("./{rel}"), "-o", "sarif"], None);
    assert_eq!(uris[0], "target/test-scratch/inputs-sarif%20uris/my%20app%231%20100%25.yaml");

    let absolute = dir.join(name).display().to_string();
    let uris = sarif_uris(&["lint", "-f", &absolute, "-o", "sarif"], None);
    assert!(uris[0].starts_with("file:///"), "{}", uris[0]);
    assert!(is_uri_reference(&uris[0]), "{}", uris[0]);
    assert_eq!(percent_decode(uris[0].strip_prefix("file://").unwrap()), absolute);

    let input = std::fs::read(dir.join(name)).unwrap();
    let uris = sarif_uris(&["lint", "-f", "-", "-o", "sarif"], Some(&input));
    assert_eq!(uris, ["stdin"]);

    // The bundled examples: every URI valid, and unchanged where nothing needed encoding.
    let uris = sarif_uris(&["lint", "-f", "bundles/examples/broken", "-o", "sarif"], None);
    assert!(!uris.is_empty());
    for uri in &uris {
        assert!(is_uri_reference(uri), "{uri}");
        assert!(uri.starts_with("bundles/examples/broken/"), "{uri}");
    }
}

#[test]
fn a_fifo_in_a_walked_directory_is_skipped_not_waited_on() {
    let dir = scratch("fifo");
    copy_example(&dir.join("workload.yaml"));
    let fifo = dir.join("pipe.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    let out = run_within(&["lint", "-R", "-f", &relative(&dir)], Duration::from_secs(20));
    assert_same_as(&["lint", "-R", "-f", &relative(&dir)], &["lint", "-f", &relative(&dir.join("workload.yaml"))]);
    assert!(!stderr(&out).contains("pipe.yaml"), "{}", stderr(&out));
}

#[test]
fn control_characters_from_the_input_are_escaped_in_text_output() {
    // A name that would colour the terminal and forge a finding line.
    let manifest = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: \"a\\e[31m\\nforged.yaml:1: error[WI001]: x\"\n  namespace: ns\n  annotations:\n    azure.workload.identity/client-id: not-a-guid\n";
    let out = run_cli(&["lint", "-f", "-"], Some(manifest.as_bytes()));
    let text = stdout(&out);
    assert!(text.contains(r"a\u{1b}[31m\nforged.yaml"), "{text}");
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
    assert!(!text.lines().any(|l| l.starts_with("forged.yaml")), "{text}");
    // JSON output keeps the name exactly (escaped by JSON itself).
    let out = run_cli(&["lint", "-f", "-", "-o", "json"], Some(manifest.as_bytes()));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["name"], "a\u{1b}[31m\nforged.yaml:1: error[WI001]: x");
}

#[test]
fn mutate_refuses_a_pod_with_more_containers_than_it_bounds() {
    // 5,000 containers from one anchor: a small file that once made mutate
    // take gigabytes.
    let mut manifest = String::from("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa, namespace: ns, annotations: {azure.workload.identity/client-id: 11111111-2222-4333-8444-555555555555}}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: ns\n  labels: {azure.workload.identity/use: \"true\"}\nspec:\n  serviceAccountName: sa\n  containers:\n  - &c {name: c, image: x}\n");
    manifest.push_str(&"  - *c\n".repeat(4_999));
    let out = run_cli(&["mutate", "-f", "-"], Some(manifest.as_bytes()));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("<stdin>:5: error: Pod ns/p has 5000 containers; mutate handles at most 1000"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    // lint still answers.
    let out = run_cli(&["lint", "-f", "-", "-o", "json"], Some(manifest.as_bytes()));
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", stderr(&out));
}
