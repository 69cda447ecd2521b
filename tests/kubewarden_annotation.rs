//! The annotated policy `make policy` writes
//! (`target/kubewarden/annotated-policy.wasm`): the Kubewarden metadata
//! section kwctl and policy-server read (`io.kubewarden.metadata`, the JSON
//! of policy-evaluator's `Metadata`) holds exactly what
//! `bundles/kubewarden/metadata.yml` says, the rest of the module is
//! `policy.wasm` unchanged, and the module still runs as a waPC policy.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::{Value, json};
use wasmparser::{Parser, Payload};
use wi_conformance::policy_host::{Cluster, Policy};
use wi_conformance::repo_root;

const METADATA_SECTION: &str = "io.kubewarden.metadata";

fn built(name: &str) -> Vec<u8> {
    let path = repo_root().join("target/kubewarden").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; run `make policy`", path.display()))
}

/// Every top-level section as (id, contents), in module order.
fn sections(module: &[u8]) -> Vec<(u8, Vec<u8>)> {
    Parser::new(0)
        .parse_all(module)
        .filter_map(|payload| payload.expect("a valid module").as_section())
        .map(|(id, range)| (id, module[range.start as usize..range.end as usize].to_vec()))
        .collect()
}

/// The data of every custom section called `name`.
fn custom_sections(module: &[u8], name: &str) -> Vec<Vec<u8>> {
    Parser::new(0)
        .parse_all(module)
        .filter_map(|payload| match payload.expect("a valid module") {
            Payload::CustomSection(reader) if reader.name() == name => Some(reader.data().to_vec()),
            _ => None,
        })
        .collect()
}

fn metadata_of(module: &[u8]) -> Value {
    let found = custom_sections(module, METADATA_SECTION);
    assert_eq!(found.len(), 1, "{} {METADATA_SECTION} sections", found.len());
    serde_json::from_slice(&found[0]).expect("the metadata section holds JSON")
}

fn metadata_yml() -> Value {
    let text = std::fs::read_to_string(repo_root().join("bundles/kubewarden/metadata.yml")).unwrap();
    serde_saphyr::from_str(&text).expect("metadata.yml parses")
}

fn scratch(name: &str) -> PathBuf {
    let dir = repo_root().join("target/test-annotate").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `wi-kubewarden-annotate MODULE -m METADATA [-u USAGE] -o OUTPUT`
/// from the repository root.
fn annotate(module: &Path, metadata: &Path, usage: Option<&Path>, output: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wi-kubewarden-annotate"));
    command.arg(module).arg("-m").arg(metadata).arg("-o").arg(output).current_dir(repo_root());
    if let Some(usage) = usage {
        command.arg("-u").arg(usage);
    }
    command.output().unwrap()
}

#[test]
fn metadata_section_holds_metadata_yml() {
    let metadata = metadata_of(&built("annotated-policy.wasm"));
    let yml = metadata_yml();
    for (field, value) in yml.as_object().expect("metadata.yml is a mapping") {
        match field.as_str() {
            // A map: kwctl adds to it (usage), never changes what is given.
            "annotations" => {
                for (key, annotation) in value.as_object().unwrap() {
                    assert_eq!(&metadata["annotations"][key], annotation, "annotation {key}");
                }
            }
            // A set in policy-evaluator: written sorted, without duplicates.
            "contextAwareResources" => {
                let set = |v: &Value| v.as_array().unwrap().iter().map(Value::to_string).collect::<BTreeSet<_>>();
                assert_eq!(set(&metadata[field]), set(value), "{field}");
            }
            _ => assert_eq!(&metadata[field], value, "{field}"),
        }
    }
    // Asked from the module, as kwctl does; the policy speaks waPC protocol v1.
    assert_eq!(metadata["protocolVersion"], "v1");
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    assert_eq!(metadata["annotations"]["io.kubewarden.policy.usage"], readme.as_str());
    // Exactly the fields policy-evaluator's Metadata serializes (defaults
    // filled in, as in a `kwctl annotate`d module).
    let fields: BTreeSet<&str> = metadata.as_object().unwrap().keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = [
        "protocolVersion",
        "rules",
        "annotations",
        "mutating",
        "backgroundAudit",
        "executionMode",
        "policyType",
        "contextAwareResources",
    ]
    .into();
    assert_eq!(fields, expected);
    assert_eq!(metadata["policyType"], "kubernetes");
    // What the context-aware lookup depends on, spelled out.
    assert_eq!(metadata["contextAwareResources"], json!([{"apiVersion": "v1", "kind": "ServiceAccount"}]));
    assert_eq!(metadata["executionMode"], "kubewarden-wapc");
}

#[test]
fn annotation_changes_nothing_else() {
    let plain = built("policy.wasm");
    let annotated = built("annotated-policy.wasm");
    assert!(custom_sections(&plain, METADATA_SECTION).is_empty(), "policy.wasm is already annotated");
    let mut rest = sections(&annotated);
    let (id, last) = rest.pop().unwrap();
    assert_eq!(id, 0, "the metadata section comes last");
    assert!(last.starts_with(b"\x16io.kubewarden.metadata"), "the last section is not the metadata section");
    // Same sections, same order, same bytes: code, data, exports, names.
    assert_eq!(rest, sections(&plain));
}

#[test]
fn annotating_an_annotated_module_replaces_the_section() {
    let dir = scratch("twice");
    let usage = dir.join("usage.md");
    std::fs::write(&usage, "Second usage text\n").unwrap();
    let once = repo_root().join("target/kubewarden/annotated-policy.wasm");
    let twice = dir.join("twice.wasm");
    let output = annotate(&once, Path::new("bundles/kubewarden/metadata.yml"), Some(&usage), &twice);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let twice = std::fs::read(&twice).unwrap();
    assert_eq!(metadata_of(&twice)["annotations"]["io.kubewarden.policy.usage"], "Second usage text\n");
    // The rest is still policy.wasm's.
    let mut rest = sections(&twice);
    rest.pop();
    assert_eq!(rest, sections(&built("policy.wasm")));
    // Same inputs as make policy: the same bytes.
    let again = dir.join("again.wasm");
    let output = annotate(&once, Path::new("bundles/kubewarden/metadata.yml"), Some(Path::new("README.md")), &again);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(std::fs::read(&again).unwrap(), built("annotated-policy.wasm"));
    // No temporary file left behind.
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 3, "{left:?}");
}

/// What kwctl refuses is refused, naming the file and the field, exit 2;
/// nothing is written.
#[test]
fn invalid_metadata_is_refused() {
    let dir = scratch("invalid");
    let policy = repo_root().join("target/kubewarden/policy.wasm");
    let good = std::fs::read_to_string(repo_root().join("bundles/kubewarden/metadata.yml")).unwrap();
    let cases = [
        ("wildcard-with-others", good.replacen("apiGroups: [apps]", "apiGroups: [apps, \"*\"]", 1), "rules[1].apiGroups"),
        ("empty-operations", good.replacen("operations: [CREATE, UPDATE]", "operations: []", 1), "rules[0].operations"),
        ("unknown-operation", good.replacen("operations: [CREATE, UPDATE]", "operations: [CREATE, PATCH]", 1), "PATCH"),
        ("double-wildcard", good.replacen("resources: [jobs, cronjobs]", "resources: [jobs, \"*/*\"]", 1), "rules[2].resources"),
        ("empty-kind", good.replacen("kind: ServiceAccount", "kind: \"\"", 1), "contextAwareResources[0].kind"),
        ("typo", good.replacen("contextAwareResources:", "contextAwareResource:", 1), "contextAwareResource"),
        ("no-mutating", good.replacen("mutating: true\n", "", 1), "mutating"),
        ("bad-mode", good.replacen("executionMode: kubewarden-wapc", "executionMode: opa", 1), "executionMode"),
        ("bad-version", format!("{good}minimumKubewardenVersion: 1.x\n"), "minimumKubewardenVersion"),
    ];
    for (name, text, field) in cases {
        assert_ne!(text, good, "{name}: the edit did not apply");
        let metadata = dir.join(format!("{name}.yml"));
        std::fs::write(&metadata, text).unwrap();
        let out = dir.join(format!("{name}.wasm"));
        let output = annotate(&policy, &metadata, None, &out);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(field), "{name}: {stderr:?} does not name {field}");
        let file = format!("{name}.yml");
        assert!(stderr.contains(&file), "{name}: {stderr:?} does not name {file}");
        assert!(!out.exists(), "{name}: wrote {}", out.display());
    }
    // Not a module at all.
    let output = annotate(Path::new("README.md"), Path::new("bundles/kubewarden/metadata.yml"), None, &dir.join("x.wasm"));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("README.md"));
}

/// The annotated module is the one users run: it answers as policy.wasm does.
#[test]
fn annotated_module_runs_in_the_wapc_host() {
    let plain = Policy::from_bytes(&built("policy.wasm"));
    let annotated = Policy::from_bytes(&built("annotated-policy.wasm"));
    let no_cluster = || Arc::new(Cluster { objects: vec![], allowed: BTreeSet::new() });
    assert_eq!(annotated.call(no_cluster(), "protocol_version", b""), json!("v1"));
    assert_eq!(annotated.call(no_cluster(), "validate_settings", b"{}"), json!({"valid": true, "message": null}));
    let dir = repo_root().join("tests/fixtures/kubewarden");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let cluster = || Arc::new(Cluster::of_fixture(&case));
        let answer = |policy: &Policy| match case.get("rawPayload") {
            Some(raw) => policy.call(cluster(), "validate", raw.as_str().unwrap().as_bytes()),
            None => policy.validate(cluster(), &case["settings"], &case["request"]),
        };
        let got = answer(&annotated);
        assert_eq!(got, answer(&plain), "{}", path.display());
        assert_eq!(got["accepted"], case["response"]["accepted"], "{}", path.display());
    }
}
