//! `wi-kubewarden-annotate POLICY.wasm -m metadata.yml [-u README.md] -o OUT.wasm`
//!
//! Writes the Kubewarden metadata into the policy module, as `kwctl annotate`
//! does, so that `make policy` ships a module that `kwctl run` trusts with
//! its `contextAwareResources` and `kwctl push` accepts. Without the section
//! kwctl treats the policy as unannotated and denies every Kubernetes lookup.
//!
//! The format follows kwctl 1.31 (`src/annotate.rs`, `src/backend.rs`) and
//! policy-evaluator 0.30 (`src/policy_metadata.rs`, `src/constants.rs`):
//! a custom section named `io.kubewarden.metadata` holding the JSON of
//! policy-evaluator's `Metadata`, with `protocolVersion` asked from the
//! policy itself and the usage file as the `io.kubewarden.policy.usage`
//! annotation. Two deliberate differences from kwctl: an existing metadata
//! section is replaced (kwctl adds a second one, and policy-evaluator reads
//! the first, so re-annotating with kwctl keeps the old metadata), and every
//! other section is copied byte for byte (kwctl re-encodes the module).
//! Unknown metadata fields are refused: kwctl drops them silently, so a typo
//! in `contextAwareResources` would quietly take the policy's access away.
//!
//! Exit status 2 with a message naming the file and field on any refusal.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::{Deserialize, Serialize};
use wapc::WapcHost;
use wasm_encoder::{CustomSection, RawSection};
use wasmparser::{Encoding, Parser, Payload};
use wasmtime_provider::WasmtimeEngineProviderBuilder;

/// policy-evaluator's `KUBEWARDEN_CUSTOM_SECTION_METADATA`.
const METADATA_SECTION: &str = "io.kubewarden.metadata";
/// policy-evaluator's `KUBEWARDEN_ANNOTATION_POLICY_USAGE`, filled from `-u`.
const USAGE_ANNOTATION: &str = "io.kubewarden.policy.usage";

/// policy-evaluator's `Metadata`: field names, order, defaults and omitted
/// fields as it serializes them, so kwctl and policy-server read what they
/// would read from a `kwctl annotate`d module.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Metadata {
    /// Ignored when read: always asked from the module, as kwctl does.
    #[serde(default)]
    protocol_version: Option<ProtocolVersion>,
    rules: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    annotations: Option<BTreeMap<String, String>>,
    mutating: bool,
    #[serde(default = "yes")]
    background_audit: bool,
    #[serde(default)]
    execution_mode: ExecutionMode,
    #[serde(default)]
    policy_type: PolicyType,
    /// A set in policy-evaluator: serialized sorted, without duplicates.
    #[serde(default)]
    context_aware_resources: BTreeSet<ContextAwareResource>,
    /// A `semver::Version` in policy-evaluator; checked below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    minimum_kubewarden_version: Option<String>,
}

fn yes() -> bool {
    true
}

/// kubewarden-policy-sdk's `ProtocolVersion`.
#[derive(Deserialize, Serialize, Clone, Copy, PartialEq, Debug)]
enum ProtocolVersion {
    #[serde(rename = "Unknown")]
    Unknown,
    #[serde(rename = "v1")]
    V1,
}

#[derive(Deserialize, Serialize, Clone, Copy, PartialEq, Default)]
enum ExecutionMode {
    #[default]
    #[serde(rename = "kubewarden-wapc")]
    KubewardenWapc,
    #[serde(rename = "opa")]
    Opa,
    #[serde(rename = "gatekeeper")]
    Gatekeeper,
    #[serde(rename = "wasi")]
    Wasi,
}

#[derive(Deserialize, Serialize, Default)]
enum PolicyType {
    #[default]
    #[serde(rename = "kubernetes")]
    Kubernetes,
    #[serde(rename = "raw")]
    Raw,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Rule {
    api_groups: Vec<String>,
    api_versions: Vec<String>,
    resources: Vec<String>,
    operations: Vec<Operation>,
}

#[derive(Deserialize, Serialize, PartialEq)]
enum Operation {
    #[serde(rename = "CREATE")]
    Create,
    #[serde(rename = "UPDATE")]
    Update,
    #[serde(rename = "DELETE")]
    Delete,
    #[serde(rename = "CONNECT")]
    Connect,
    #[serde(rename = "*")]
    All,
}

#[derive(Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ContextAwareResource {
    api_version: String,
    kind: String,
}

struct Args {
    wasm: PathBuf,
    metadata: PathBuf,
    usage: Option<PathBuf>,
    output: PathBuf,
}

const USAGE: &str = "usage: wi-kubewarden-annotate POLICY.wasm -m METADATA.yml [-u USAGE.md] -o OUTPUT.wasm";

fn main() -> ExitCode {
    match parse_args(std::env::args().skip(1)).and_then(|args| annotate(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("wi-kubewarden-annotate: {message}");
            ExitCode::from(2)
        }
    }
}

/// kwctl annotate's flags, so the Makefile line reads like a policy's.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut wasm, mut metadata, mut usage, mut output) = (None, None, None, None);
    while let Some(arg) = args.next() {
        let (slot, value) = match arg.as_str() {
            "-m" | "--metadata-path" => (&mut metadata, args.next()),
            "-u" | "--usage-path" => (&mut usage, args.next()),
            "-o" | "--output-path" => (&mut output, args.next()),
            "-h" | "--help" => return Err(USAGE.into()),
            flag if flag.starts_with('-') => return Err(format!("unknown flag {flag}\n{USAGE}")),
            _ => (&mut wasm, Some(arg.clone())),
        };
        let value = value.ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))?;
        if slot.replace(PathBuf::from(value)).is_some() {
            return Err(format!("{arg} given twice\n{USAGE}"));
        }
    }
    let missing = |what: &str| format!("missing {what}\n{USAGE}");
    Ok(Args {
        wasm: wasm.ok_or_else(|| missing("POLICY.wasm"))?,
        metadata: metadata.ok_or_else(|| missing("-m METADATA.yml"))?,
        usage,
        output: output.ok_or_else(|| missing("-o OUTPUT.wasm"))?,
    })
}

fn annotate(args: &Args) -> Result<(), String> {
    let module = read(&args.wasm)?;
    let text = String::from_utf8(read(&args.metadata)?).map_err(|_| format!("{}: not UTF-8", args.metadata.display()))?;
    let mut metadata: Metadata = serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", args.metadata.display()))?;

    let in_module = |e: String| format!("{}: {e}", args.wasm.display());
    let sections = sections(&module).map_err(in_module)?;
    check_execution_mode(&module, metadata.execution_mode)
        .map_err(|e| format!("{}: executionMode {e}: {}", args.metadata.display(), args.wasm.display()))?;
    metadata.protocol_version = Some(protocol_version(&module, metadata.execution_mode).map_err(in_module)?);
    if let Some(path) = &args.usage {
        let usage = String::from_utf8(read(path)?).map_err(|_| format!("{}: not UTF-8", path.display()))?;
        metadata.annotations.get_or_insert_default().insert(USAGE_ANNOTATION.into(), usage);
    }
    let problems = problems(&metadata);
    if !problems.is_empty() {
        return Err(format!("{}: metadata is invalid:\n  {}", args.metadata.display(), problems.join("\n  ")));
    }

    let json = serde_json::to_vec(&metadata).expect("metadata serializes");
    let mut out = wasm_encoder::Module::new();
    for section in sections.iter().filter(|s| s.custom_name != Some(METADATA_SECTION)) {
        out.section(&RawSection { id: section.id, data: &module[section.range.clone()] });
    }
    // At the end, where kwctl (walrus) puts custom sections it adds.
    out.section(&CustomSection { name: Cow::Borrowed(METADATA_SECTION), data: Cow::Owned(json) });
    write_atomically(&args.output, &out.finish())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// One top-level section of the module: its id, the byte range of its
/// contents (a custom section's name included), and its name if custom.
struct Section<'a> {
    id: u8,
    range: std::ops::Range<usize>,
    custom_name: Option<&'a str>,
}

fn sections(module: &[u8]) -> Result<Vec<Section<'_>>, String> {
    let mut sections = Vec::new();
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.map_err(|e| format!("not a WebAssembly module: {e}"))?;
        if let Payload::Version { encoding: Encoding::Component, .. } = payload {
            return Err("is a component; Kubewarden policies are core modules".into());
        }
        if let Some((id, range)) = payload.as_section() {
            let custom_name = match &payload {
                Payload::CustomSection(reader) => Some(reader.name()),
                _ => None,
            };
            sections.push(Section { id, range: range.start as usize..range.end as usize, custom_name });
        }
    }
    Ok(sections)
}

/// kwctl's `rego_policy_detector`: Rego-built modules export `opa_*`.
fn built_from_rego(module: &[u8]) -> Result<bool, String> {
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::ExportSection(exports) = payload.map_err(|e| format!("not a WebAssembly module: {e}"))? {
            for export in exports {
                if export.map_err(|e| format!("bad export section: {e}"))?.name.starts_with("opa_") {
                    return Ok(true);
                }
            }
        }
    }
    Ok(false)
}

/// kwctl's `BackendDetector`: Rego modules (an `opa_*` export) and only they
/// run as `opa` or `gatekeeper`.
fn check_execution_mode(module: &[u8], mode: ExecutionMode) -> Result<(), String> {
    match (mode, built_from_rego(module)?) {
        (ExecutionMode::Opa | ExecutionMode::Gatekeeper, false) => Err("says Rego, but the module was not built from Rego (no opa_* export)".into()),
        (ExecutionMode::KubewardenWapc, true) => Err("is kubewarden-wapc, but the module was built from Rego".into()),
        _ => Ok(()),
    }
}

/// kwctl's `BackendDetector` again: waPC modules are asked through their
/// `protocol_version` function; Rego and WASI modules have none.
fn protocol_version(module: &[u8], mode: ExecutionMode) -> Result<ProtocolVersion, String> {
    if mode != ExecutionMode::KubewardenWapc {
        return Ok(ProtocolVersion::Unknown);
    }
    let engine = WasmtimeEngineProviderBuilder::new().module_bytes(module).build().map_err(|e| format!("does not load: {e}"))?;
    // Answering protocol_version needs no host capability.
    let host = WapcHost::new(Box::new(engine), Some(Box::new(|_, _, _, _, _| Err("no host capabilities while annotating".into()))))
        .map_err(|e| format!("does not instantiate as a waPC guest: {e}"))?;
    let answer = host.call("protocol_version", &[]).map_err(|e| format!("protocol_version failed: {e}"))?;
    serde_json::from_slice(&answer)
        .map_err(|_| format!("protocol_version answered {:?}, not a known protocol version", String::from_utf8_lossy(&answer)))
}

/// policy-evaluator's `Metadata::validate` (the `validator` attributes and
/// `validate_metadata`), every problem named by its field.
fn problems(metadata: &Metadata) -> Vec<String> {
    let mut problems = Vec::new();
    if metadata.execution_mode == ExecutionMode::KubewardenWapc && metadata.protocol_version != Some(ProtocolVersion::V1) {
        problems.push("protocolVersion: Must specify a valid protocol version".to_string());
    }
    for (i, rule) in metadata.rules.iter().enumerate() {
        let field = |name: &str| format!("rules[{i}].{name}");
        for (name, values) in [("apiGroups", &rule.api_groups), ("apiVersions", &rule.api_versions), ("resources", &rule.resources)] {
            if values.is_empty() {
                problems.push(format!("{}: must not be empty", field(name)));
            }
        }
        if rule.operations.is_empty() {
            problems.push(format!("{}: must not be empty", field("operations")));
        }
        for (name, values) in [("apiGroups", &rule.api_groups), ("apiVersions", &rule.api_versions)] {
            if values.len() > 1 && values.iter().any(|v| v == "*") {
                problems.push(format!("{}: No other elements can be defined when '*' is used", field(name)));
            }
        }
        if rule.operations.len() > 1 && rule.operations.contains(&Operation::All) {
            problems.push(format!("{}: No other elements can be defined when '*' is used", field("operations")));
        }
        if let Err(problem) = check_resources(&rule.resources) {
            problems.push(format!("{}: {problem}", field("resources")));
        }
    }
    for (i, resource) in metadata.context_aware_resources.iter().enumerate() {
        for (name, value) in [("apiVersion", &resource.api_version), ("kind", &resource.kind)] {
            if value.is_empty() {
                problems.push(format!("contextAwareResources[{i}].{name}: must not be empty"));
            }
        }
    }
    if let Some(version) = &metadata.minimum_kubewarden_version
        && let Err(e) = semver::Version::parse(version)
    {
        problems.push(format!("minimumKubewardenVersion: {version:?} is not a semantic version: {e}"));
    }
    problems
}

/// policy-evaluator's `validate_resources`, itself a transposition of the
/// Kubernetes API server's check of webhook rules, quirks included.
fn check_resources(resources: &[String]) -> Result<(), String> {
    let mut resources_with_wildcard_subresources = HashSet::new();
    let mut subresources_with_wildcard_resource = HashSet::new();
    let (mut has_double_wildcard, mut has_single_wildcard, mut has_resource_without_subresource) = (false, false, false);
    for resource in resources {
        if resource.is_empty() {
            return Err("empty resource is not allowed".into());
        }
        has_double_wildcard |= resource == "*/*";
        has_single_wildcard |= resource == "*";
        let Some((res, sub)) = resource.split_once('/') else {
            has_resource_without_subresource = resource != "*";
            continue;
        };
        if resources_with_wildcard_subresources.contains(res) {
            return Err(format!("if '{resource}/*' is present, must not specify {res}"));
        }
        if subresources_with_wildcard_resource.contains(sub) {
            return Err(format!("if '*/{sub}' is present, must not specify {resource}"));
        }
        if sub == "*" {
            resources_with_wildcard_subresources.insert(res);
        }
        if res == "*" {
            subresources_with_wildcard_resource.insert(sub);
        }
    }
    if resources.len() > 1 && has_double_wildcard {
        return Err("if '*/*' is present, must not specify other resources".into());
    }
    if has_single_wildcard && has_resource_without_subresource {
        return Err("if '*' is present, must not specify other resources without subresources".into());
    }
    Ok(())
}

/// A reader (kwctl, a push, a test) never sees a half-written module.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let name = path.file_name().ok_or_else(|| format!("{}: not a file path", path.display()))?;
    let temporary = path.with_file_name(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let written = std::fs::File::create(&temporary)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
        .and_then(|()| std::fs::rename(&temporary, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        format!("{}: {e}", path.display())
    })
}
