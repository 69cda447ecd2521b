//! wi-core: checks and fixes the Kubernetes and Azure manifests that wire a
//! pod to a Microsoft Entra Workload ID.
//!
//! Pure: no file, clock, environment or network access. Faces (the wasmtime
//! component behind `kubectl wi`, the Kubewarden policy, the browser page, the
//! Extism plugin) hand it text and options and render what it returns.

pub mod admission;
#[cfg(feature = "yaml")]
pub mod audit;
pub mod consumers;
#[cfg(feature = "explain")]
pub mod explain;
#[cfg(feature = "generate")]
pub mod generate;
#[cfg(feature = "generate")]
pub mod migrate;
pub mod mutation;
pub mod iac;
pub mod objects;
pub mod options;
pub mod patch;
pub mod rbac;
#[cfg(feature = "yaml")]
pub mod render;
pub mod rules;
pub mod source;
pub mod wellknown;
#[cfg(feature = "yaml")]
pub mod yaml11;

use serde_json::Value;

pub use mutation::{MutateOptions, mutate_pod, parse_kubernetes_version};
pub use objects::{Object, Role};
pub use rules::{ALL as RULES, LintOptions, Rule, Severity};
pub use source::{InputError, SourceFile};
pub use wellknown::Layout;

/// What every located result says about the object it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Location {
    /// Where `object` starts.
    pub fn of_object(object: &Object) -> Self {
        Location { file: object.file.clone(), line: object.doc.line, kind: object.kind.clone(), namespace: object.namespace.clone(), name: object.name.clone() }
    }

    #[cfg_attr(not(feature = "yaml"), allow(dead_code))]
    fn of(object: &Object, pointer: &str) -> Self {
        Location {
            file: object.file.clone(),
            line: object.doc.line_of(pointer),
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
        }
    }
}

/// A rule's finding, located in the input files.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub fix: String,
    pub at: Location,
}

/// Lints every object of every file together (a pod in one file and its
/// ServiceAccount in another are checked against each other). Findings come
/// sorted by file name, line and rule.
#[cfg(feature = "yaml")]
pub fn lint(files: &[SourceFile], options: &LintOptions) -> Result<Vec<Finding>, Vec<InputError>> {
    let objects = objects::load(files, &options.default_namespace)?;
    Ok(lint_objects(&objects, options))
}

/// [`lint`], and the objects it read with where each starts: what rule
/// plugins are given, from the same single parse.
#[cfg(feature = "yaml")]
pub fn lint_and_load(files: &[SourceFile], options: &LintOptions) -> Result<(Vec<Finding>, Vec<Object>), Vec<InputError>> {
    let objects = objects::load(files, &options.default_namespace)?;
    Ok((lint_objects(&objects, options), objects))
}

/// [`lint`] over objects already loaded.
#[cfg(feature = "yaml")]
pub(crate) fn lint_objects(objects: &[Object], options: &LintOptions) -> Vec<Finding> {
    let mut findings: Vec<Finding> = rules::run(objects, options)
        .into_iter()
        .map(|f| Finding {
            rule: f.rule,
            severity: f.severity,
            message: f.message,
            fix: f.fix,
            at: Location::of(&objects[f.object], &f.pointer),
        })
        .collect();
    // By file name, so the report does not depend on argument order.
    findings.sort_by(|a, b| (&a.at.file, a.at.line, a.rule, &a.message).cmp(&(&b.at.file, b.at.line, b.rule, &b.message)));
    findings.dedup();
    findings
}

/// The report `kubectl wi lint -o json` prints: every finding with its
/// location, and the counts by severity. Faces that answer in JSON (the
/// Extism plugin, the browser page) return exactly this.
pub fn lint_json(findings: &[Finding]) -> Value {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    serde_json::json!({
        "findings": findings.iter().map(|f| serde_json::json!({
            "rule": f.rule,
            "severity": f.severity.as_str(),
            "message": f.message,
            "fix": f.fix,
            "file": f.at.file,
            "line": f.at.line,
            "kind": f.at.kind,
            "namespace": f.at.namespace,
            "name": f.at.name,
        })).collect::<Vec<_>>(),
        "summary": {"errors": count(Severity::Error), "warnings": count(Severity::Warning), "infos": count(Severity::Info)},
    })
}

/// An input object after mutation, with the RFC 6902 patch that produced it
/// from the original (empty when the webhook would not touch it).
#[derive(Debug, Clone)]
pub struct MutatedObject {
    pub at: Location,
    pub object: Value,
    pub patch: Vec<patch::Operation>,
    /// What the mutation could not give the object that the webhook would
    /// have (such as a tenant ID); the object is still printed.
    pub warnings: Vec<String>,
}

/// The webhook's refusal of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct MutationError {
    pub at: Location,
    pub message: String,
}

#[derive(Debug, Clone)]
pub enum MutateFailure {
    Input(Vec<InputError>),
    Mutation(Vec<MutationError>),
}

/// Mutates every opted-in pod and pod template as the webhook would, looking
/// ServiceAccounts up in the inputs; every other object comes back unchanged.
/// Any refusal fails the whole run, so no caller prints a half-mutated set.
#[cfg(feature = "yaml")]
pub fn mutate(files: &[SourceFile], options: &MutateOptions) -> Result<Vec<MutatedObject>, MutateFailure> {
    let objects = objects::load(files, &options.default_namespace).map_err(MutateFailure::Input)?;
    // The annotation rules run over the same inventory the mutation looks
    // ServiceAccounts up in.
    let lint_options = LintOptions {
        layout: options.layout,
        tenant_id: options.tenant_id.clone(),
        authority_host: options.authority_host.clone(),
        default_namespace: options.default_namespace.clone(),
        ..Default::default()
    };
    let cx = rules::Context { inventory: objects::Inventory::new(&objects), options: &lint_options };
    let inventory = &cx.inventory;
    let mut out = Vec::with_capacity(objects.len());
    let mut errors = Vec::new();
    let mut opted_in: Vec<Option<objects::PodView>> = vec![None; objects.len()];
    for pod in inventory.pods().filter(|p| p.opted_in()) {
        opted_in[pod.index] = Some(pod);
    }
    // Bound the work (every container is cloned, patched and printed): a
    // pod with more containers than this is refused, not mutated.
    let too_many: Vec<InputError> = opted_in
        .iter()
        .flatten()
        .filter_map(|pod| {
            let count = ["initContainers", "containers"].iter().filter_map(|f| pod.spec.get(*f).and_then(Value::as_array)).map(Vec::len).sum::<usize>();
            (count > MAX_CONTAINERS_MUTATED).then(|| {
                let at = Location::of(pod.object, pod.template);
                InputError {
                    file: at.file,
                    line: at.line,
                    column: 0,
                    message: format!("{} {}/{} has {count} containers; mutate handles at most {MAX_CONTAINERS_MUTATED} per pod", at.kind, at.namespace, at.name),
                }
            })
        })
        .collect();
    if !too_many.is_empty() {
        return Err(MutateFailure::Input(too_many));
    }
    let mut refused = vec![false; objects.len()];
    for (index, (object, pod)) in objects.iter().zip(&opted_in).enumerate() {
        let mut value = object.doc.value.clone();
        let mut warnings = Vec::new();
        if let Some(pod) = pod {
            let sa_name = pod.service_account().to_string();
            let sa = inventory.service_account(&object.namespace, &sa_name).map(|(_, o)| &o.doc.value);
            let Some(target) = value.pointer_mut(pod.template) else { continue };
            match mutate_pod(target, sa, &sa_name, options) {
                Ok(w) => warnings = w,
                Err(message) => {
                    refused[index] = true;
                    errors.push(MutationError {
                        at: Location::of(object, pod.template),
                        message,
                    });
                    continue;
                }
            }
        }
        let ops = patch::diff(&object.doc.value, &value);
        let at = Location::of(object, "");
        let object_name = format!("{} {}/{}", at.kind, at.namespace, at.name);
        out.push(MutatedObject {
            at,
            object: value,
            patch: ops,
            warnings: warnings.into_iter().map(|w| format!("{object_name}: {w}")).collect(),
        });
    }
    let annotation_errors = annotation_errors(&objects, &cx, &opted_in, &refused);
    if !annotation_errors.is_empty() {
        return Err(MutateFailure::Input(annotation_errors));
    }
    if errors.is_empty() { Ok(out) } else { Err(MutateFailure::Mutation(errors)) }
}

/// Most containers (init containers included) `mutate` injects into in one
/// pod; far beyond any real pod, and low enough that a hostile file cannot
/// make the mutation and its patch take gigabytes.
pub const MAX_CONTAINERS_MUTATED: usize = 1_000;

/// Rules about the annotations mutation reads. What lint calls an error in
/// them (a non-string expiration, a client ID that is not a GUID), mutate
/// refuses rather than inject, unless the webhook's own refusal already
/// covers the pod.
#[cfg(feature = "yaml")]
const ANNOTATION_RULES: &[&str] = &["WI005", "WI006", "WI009"];

#[cfg(feature = "yaml")]
fn annotation_errors(objects: &[Object], cx: &rules::Context, opted_in: &[Option<objects::PodView>], refused: &[bool]) -> Vec<InputError> {
    let inventory = &cx.inventory;
    let mut findings = Vec::new();
    for code in ANNOTATION_RULES {
        if let Some(rule) = rules::find(code) {
            (rule.check)(cx, &mut findings);
        }
    }
    // Objects whose annotations mutation reads: opted-in pods and their
    // ServiceAccounts.
    let mut read = vec![false; objects.len()];
    // A pod the webhook refuses, and the ServiceAccount it reads for it.
    let mut refused_here = refused.to_vec();
    for pod in opted_in.iter().flatten() {
        read[pod.index] = true;
        if let Some((i, _)) = inventory.service_account(&pod.object.namespace, pod.service_account()) {
            read[i] = true;
            refused_here[i] |= refused[pod.index];
        }
    }
    findings
        .into_iter()
        // The webhook's own refusal of a pod stands (exit 1), unless the
        // annotation is not even a string: the API server refuses that
        // before any webhook sees it.
        .filter(|f| {
            let not_a_string = objects[f.object].doc.value.pointer(&f.pointer).is_some_and(|v| !v.is_string());
            f.severity == Severity::Error && read[f.object] && (!refused_here[f.object] || not_a_string)
        })
        .map(|f| {
            let at = Location::of(&objects[f.object], &f.pointer);
            InputError {
                file: at.file,
                line: at.line,
                column: 0,
                message: format!("[{}] {} ({} {}/{}); fix: {}", f.rule, f.message, at.kind, at.namespace, at.name, f.fix),
            }
        })
        .collect()
}
