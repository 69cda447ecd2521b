//! wi-core: checks and fixes the Kubernetes and Azure manifests that wire a
//! pod to a Microsoft Entra Workload ID.
//!
//! Pure: no file, clock, environment or network access. Faces (the wasmtime
//! component behind `kubectl wi`, the Kubewarden policy, the browser page, the
//! Extism plugin) hand it text and options and render what it returns.

pub mod admission;
pub mod mutation;
pub mod objects;
pub mod patch;
pub mod rules;
pub mod source;
pub mod wellknown;

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
/// sorted by file, line and rule, in the order the files were given.
#[cfg(feature = "yaml")]
pub fn lint(files: &[SourceFile], options: &LintOptions) -> Result<Vec<Finding>, Vec<InputError>> {
    let objects = objects::load(files, &options.default_namespace)?;
    let file_order = |name: &str| files.iter().position(|f| f.name == name).unwrap_or(usize::MAX);
    let mut findings: Vec<Finding> = rules::run(&objects, options)
        .into_iter()
        .map(|f| Finding {
            rule: f.rule,
            severity: f.severity,
            message: f.message,
            fix: f.fix,
            at: Location::of(&objects[f.object], &f.pointer),
        })
        .collect();
    findings.sort_by(|a, b| {
        (file_order(&a.at.file), a.at.line, a.rule, &a.message).cmp(&(file_order(&b.at.file), b.at.line, b.rule, &b.message))
    });
    findings.dedup();
    Ok(findings)
}

/// An input object after mutation, with the RFC 6902 patch that produced it
/// from the original (empty when the webhook would not touch it).
#[derive(Debug, Clone)]
pub struct MutatedObject {
    pub at: Location,
    pub object: Value,
    pub patch: Vec<patch::Operation>,
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
    let inventory = objects::Inventory::new(&objects);
    let mut out = Vec::with_capacity(objects.len());
    let mut errors = Vec::new();
    let mut opted_in: Vec<Option<objects::PodView>> = vec![None; objects.len()];
    for pod in inventory.pods().filter(|p| p.opted_in()) {
        opted_in[pod.index] = Some(pod);
    }
    for (object, pod) in objects.iter().zip(opted_in) {
        let mut value = object.doc.value.clone();
        if let Some(pod) = pod {
            let sa_name = pod.service_account().to_string();
            let sa = inventory.service_account(&object.namespace, &sa_name).map(|(_, o)| &o.doc.value);
            let target = value.pointer_mut(pod.template).expect("pod view points at an existing template");
            if let Err(message) = mutate_pod(target, sa, &sa_name, options) {
                errors.push(MutationError {
                    at: Location::of(object, pod.template),
                    message,
                });
                continue;
            }
        }
        let ops = patch::diff(&object.doc.value, &value);
        out.push(MutatedObject {
            at: Location::of(object, ""),
            object: value,
            patch: ops,
        });
    }
    if errors.is_empty() { Ok(out) } else { Err(MutateFailure::Mutation(errors)) }
}
