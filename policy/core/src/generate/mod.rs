//! Generate: every artifact of a Workload ID setup from one spec.
//!
//! The spec names the workload, its ServiceAccounts, the managed identity
//! and the cluster's issuer once; each format module writes the same facts
//! in its own language, so the federated credential subject
//! (`system:serviceaccount:<ns>:<sa>`) and issuer are typed by no one.
//! Values are checked with the lint rules' own checks and words before
//! anything is written.

mod arm;
pub(crate) mod aso;
mod az;
mod bicep;
mod kubernetes;
pub mod roles;
mod spec;
mod terraform;
pub(crate) mod text;

use crate::source::SourceFile;
use serde_json::Value;

pub(crate) use spec::{default_fic_name, hashed_fic_name};
pub use spec::{Checked, ClusterState, RoleAssignment, ServiceAccountRef, Spec, aks_issuer_region};

/// One output language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Yaml,
    Aso,
    Az,
    Bicep,
    Arm,
    Terraform,
}

impl Format {
    pub const ALL: [Format; 6] = [Format::Yaml, Format::Aso, Format::Az, Format::Bicep, Format::Arm, Format::Terraform];

    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Aso => "aso",
            Format::Az => "az",
            Format::Bicep => "bicep",
            Format::Arm => "arm",
            Format::Terraform => "terraform",
        }
    }

    /// `yaml`..`terraform`, or `all` for every format.
    pub fn parse_list(name: &str) -> Option<Vec<Format>> {
        if name == "all" {
            return Some(Format::ALL.to_vec());
        }
        Format::ALL.into_iter().find(|f| f.name() == name).map(|f| vec![f])
    }

    /// The file this format is written to with `-o DIR`.
    pub fn file_name(self, app: &str) -> String {
        match self {
            Format::Yaml => format!("{app}.yaml"),
            Format::Aso => format!("{app}-aso.yaml"),
            Format::Az => format!("{app}.sh"),
            Format::Bicep => format!("{app}.bicep"),
            Format::Arm => format!("{app}.json"),
            Format::Terraform => format!("{app}.tf"),
        }
    }
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub format: Format,
    pub file_name: String,
    pub content: String,
}

/// Everything one spec generates, with what the user should know about it
/// (a cluster feature the az script turns on, an issuer given its `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub artifacts: Vec<Artifact>,
    pub notes: Vec<String>,
}

/// A spec value generate cannot use. `field` is the spec's camelCase path
/// (`serviceAccounts[1].namespace`); faces show it as their flag. `file` and
/// `line` are set when the value came from a spec or cluster file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateError {
    pub field: String,
    pub file: String,
    pub line: u32,
    pub message: String,
}

impl std::fmt::Display for GenerateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.file.is_empty() {
            write!(f, "{}: {}", self.field, self.message)
        } else if self.line > 0 {
            write!(f, "{}:{}: {}: {}", self.file, self.line, self.field, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.field, self.message)
        }
    }
}

/// What a face hands to generate: an optional spec file (`--spec`), an
/// optional `az aks show -o json` file (`--from-cluster`), and the values
/// given directly (flags, form fields) as a spec object, which override
/// both files field by field.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub spec_file: Option<SourceFile>,
    pub cluster_file: Option<SourceFile>,
    pub overrides: Value,
    pub formats: Vec<Format>,
}

impl Request {
    /// A request as faces receive one: the overrides as JSON text (`{}` or
    /// empty for none) and the format names (`all` for every format).
    pub fn from_text(
        spec_file: Option<SourceFile>,
        cluster_file: Option<SourceFile>,
        overrides_json: &str,
        formats: &[String],
    ) -> Result<Request, Vec<GenerateError>> {
        let mut errors = Vec::new();
        let overrides = if overrides_json.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(overrides_json).unwrap_or_else(|e| {
                errors.push(GenerateError { field: "overrides".into(), file: String::new(), line: 0, message: format!("is not JSON: {e}") });
                Value::Null
            })
        };
        let mut parsed = Vec::new();
        for name in formats {
            match Format::parse_list(name) {
                Some(mut f) => parsed.append(&mut f),
                None => errors.push(GenerateError {
                    field: "format".into(),
                    file: String::new(),
                    line: 0,
                    message: format!("{name:?} is not one of yaml, aso, az, bicep, arm, terraform, all"),
                }),
            }
        }
        if parsed.is_empty() && errors.is_empty() {
            errors.push(GenerateError { field: "format".into(), file: String::new(), line: 0, message: "names no format".into() });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Request { spec_file, cluster_file, overrides, formats: parsed })
    }
}

/// Reads, merges and checks the spec, then writes each requested format.
/// Nothing is returned unless every value is usable for every format asked
/// for, so a face never writes half a setup.
pub fn generate(request: &Request) -> Result<Generated, Vec<GenerateError>> {
    let spec = resolve(request)?;
    Ok(write(&spec, &request.formats))
}

/// The merged and checked spec of a request (spec file, then cluster file
/// for what the spec file leaves out, then overrides).
pub fn resolve(request: &Request) -> Result<Checked, Vec<GenerateError>> {
    let mut merged = Spec::default();
    let mut errors = Vec::new();
    if let Some(file) = &request.spec_file {
        let (spec, mut e) = Spec::from_file(file);
        // A file that cannot be read at all says so once, without the
        // "required" errors of everything it would have given.
        if e.iter().any(|e| e.field == "spec") {
            return Err(e);
        }
        merged = spec;
        errors.append(&mut e);
    }
    if let Some(file) = &request.cluster_file {
        match ClusterState::from_file(file) {
            Ok(cluster) => merged.fill_from_cluster(cluster),
            Err(e) => return Err(vec![e]),
        }
    }
    let (overrides, mut e) = Spec::from_value(&request.overrides, None);
    errors.append(&mut e);
    merged.override_with(overrides);
    match merged.check(&request.formats) {
        Ok(checked) if errors.is_empty() => Ok(checked),
        Ok(_) => Err(errors),
        Err(more) => {
            // A field already refused as unreadable is not also "required".
            let unreadable: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
            errors.extend(more.into_iter().filter(|e| !(e.message.starts_with("is required") && unreadable.contains(&e.field))));
            Err(errors)
        }
    }
}

/// Writes `formats` for a checked spec.
pub fn write(spec: &Checked, formats: &[Format]) -> Generated {
    let mut formats = formats.to_vec();
    formats.sort();
    formats.dedup();
    let mut artifacts = Vec::with_capacity(formats.len());
    for format in formats {
        let content = match format {
            Format::Yaml => kubernetes::write(spec),
            Format::Aso => aso::write(spec),
            Format::Az => az::write(spec),
            Format::Bicep => bicep::write(spec),
            Format::Arm => arm::write(spec),
            Format::Terraform => terraform::write(spec),
        };
        artifacts.push(Artifact { format, file_name: format.file_name(&spec.name), content });
    }
    Generated { artifacts, notes: spec.notes.clone() }
}
