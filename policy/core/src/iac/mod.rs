//! Infrastructure code as Workload ID objects: Terraform (`.tf`, read with
//! hcl-edit, which keeps byte spans) and ARM deployment templates (JSON,
//! what `az bicep build` writes). Each resource instance becomes an
//! [`Object`] whose document holds the attributes as written, so the FIC
//! rules (WI020–WI025, WI030–WI032) read a Terraform credential like an ASO
//! one and report its file and line.
//!
//! Values are resolved only where the code itself makes them known: a
//! literal, a variable's default, a local, `each.key`/`each.value` of a
//! literal `for_each`, an ARM parameter's `defaultValue`. Everything else
//! (a resource attribute known after apply, a function this reader does not
//! evaluate) is left out of the document and named under `notChecked`, so
//! no rule ever judges a guess.

// The model types are always there (rules and objects name them); the
// readers and what only they use come with feature `iac`.
#![cfg_attr(not(feature = "iac"), allow(dead_code))]

#[cfg(feature = "iac")]
pub(crate) mod arm;
#[cfg(feature = "iac")]
pub(crate) mod terraform;

use serde_json::{Map, Value};

use crate::objects::{FederatedCredential, Identity, Object, Role, UnknownFields};
use crate::source::{Document, NestedLines, escape_pointer_segment};

/// A value read from infrastructure code.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolved {
    /// Known before deployment. `literal` is false when it came through a
    /// variable default, a local or a parameter.
    Known { value: Value, literal: bool },
    /// An attribute another resource gets at deployment, as written:
    /// `azurerm_kubernetes_cluster.aks.oidc_issuer_url`.
    Computed(String),
    /// Not known to this reader, and why.
    Unknown(String),
}

impl Resolved {
    pub(crate) fn known(value: Value) -> Resolved {
        Resolved::Known { value, literal: true }
    }
    pub(crate) fn value(&self) -> Option<&Value> {
        match self {
            Resolved::Known { value, .. } => Some(value),
            _ => None,
        }
    }
    /// The same value, as reached through a variable, local or parameter.
    pub(crate) fn not_literal(self) -> Resolved {
        match self {
            Resolved::Known { value, .. } => Resolved::Known { value, literal: false },
            other => other,
        }
    }
    /// A list (keys `None`) or object of resolved members; the first member
    /// that is not known decides for the whole.
    pub(crate) fn collect(members: impl Iterator<Item = (Option<String>, Resolved)>, object: bool) -> Resolved {
        let mut literal = true;
        let (mut map, mut items) = (serde_json::Map::new(), Vec::new());
        for (key, member) in members {
            let Resolved::Known { value, literal: l } = member else { return member };
            literal &= l;
            match key {
                Some(k) => {
                    map.insert(k, value);
                }
                None => items.push(value),
            }
        }
        Resolved::Known { value: if object { Value::Object(map) } else { Value::Array(items) }, literal }
    }
}

/// How many instances one resource declaration creates, and whether the
/// deployment engine writes them one at a time.
#[derive(Debug, Clone, PartialEq)]
pub enum Expansion {
    Single,
    /// `for_each`/`count` (Terraform) or `copy` (ARM): `count` instances
    /// when known; `serial` only for an ARM copy with `mode: serial` and
    /// `batchSize: 1`.
    Instances { over: String, count: Option<usize>, serial: bool },
}

/// Where a credential's issuer comes from (WI034).
#[derive(Debug, Clone, PartialEq)]
pub enum IssuerSource {
    /// Written out in the code (a string, or a variable's default).
    Literal,
    /// A reference to another resource's attribute (the cluster's issuer).
    Reference(String),
    Unknown,
}

/// What infrastructure code says about a credential beyond its fields:
/// the deployment order (WI033) and where its issuer comes from (WI034).
#[derive(Debug, Clone, PartialEq)]
pub struct IacCredential {
    /// Where declarations are unique: a Terraform module's directory, an
    /// ARM template's file.
    pub scope: String,
    /// The declaration (`azurerm_federated_identity_credential.web`; ARM:
    /// its type and name as written); instances of one `for_each` share it.
    pub declaration: String,
    /// The declarations this one waits for, directly or through a
    /// reference (Terraform) or `dependsOn` (ARM).
    pub depends_on: Vec<String>,
    pub expansion: Expansion,
    pub issuer_source: IssuerSource,
    pub language: Language,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Terraform,
    Arm,
}

/// An AKS cluster defined in infrastructure code (WI034, WI035). `None`
/// when the setting is not known to this reader.
#[derive(Debug, Clone, PartialEq)]
pub struct IacCluster {
    pub oidc_issuer_enabled: Option<bool>,
    pub oidc_issuer_pointer: String,
    pub workload_identity_enabled: Option<bool>,
    pub workload_identity_pointer: String,
    pub language: Language,
    /// How a credential refers to this cluster's issuer: `azurerm_kubernetes_cluster.aks.oidc_issuer_url`.
    pub issuer_reference: String,
}

/// What one resource instance is, in Workload ID terms.
pub(crate) enum Meaning {
    Credential { identity: Option<String> },
    Identity,
    Cluster { issuer_reference: String },
    Other,
}

/// One attribute: where it is written (`audience`,
/// `body.properties.subject`), its value, its line.
pub(crate) struct Attribute {
    pub path: String,
    pub value: Resolved,
    pub line: u32,
}

/// One resource instance, as a reader found it.
pub(crate) struct Resource {
    pub file: String,
    pub line: u32,
    /// `azurerm_federated_identity_credential`, or the ARM type.
    pub kind: String,
    /// `azurerm_federated_identity_credential.web["a"]`, or the ARM name.
    pub address: String,
    pub scope: String,
    pub declaration: String,
    pub attributes: Vec<Attribute>,
    pub depends_on: Vec<String>,
    pub expansion: Expansion,
    pub meaning: Meaning,
    pub language: Language,
}

/// The attribute names each kind of field is read from.
pub(crate) struct FieldNames {
    pub name: &'static str,
    pub issuer: &'static str,
    pub subject: &'static str,
    pub audiences: &'static str,
    pub oidc_issuer_enabled: &'static str,
    pub workload_identity_enabled: &'static str,
}

impl Resource {
    fn attribute(&self, path: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.path == path)
    }

    /// The document of this instance: `{address, type, attributes:
    /// {path: value}, notChecked: {path: why}}`, with each attribute's line.
    fn document(&self) -> Document {
        let mut attributes = Map::new();
        let mut attribute_lines = Vec::new();
        let mut not_checked = Map::new();
        let mut not_checked_lines = Vec::new();
        for a in &self.attributes {
            match &a.value {
                Resolved::Known { value, .. } => {
                    attributes.insert(a.path.clone(), value.clone());
                    attribute_lines.push(lines_of(value, a.line));
                }
                Resolved::Computed(_) | Resolved::Unknown(_) => {
                    let reason = match &a.value {
                        Resolved::Computed(reference) => format!("{reference} is known only after deployment"),
                        Resolved::Unknown(why) => why.clone(),
                        Resolved::Known { .. } => unreachable!(),
                    };
                    // The line is in the value too: `lint -v` shows it.
                    let mut entry = Map::new();
                    entry.insert("line".into(), Value::from(a.line));
                    entry.insert("reason".into(), Value::String(reason));
                    not_checked.insert(a.path.clone(), Value::Object(entry));
                    let leaf = NestedLines::new(a.line, a.line, Vec::new());
                    not_checked_lines.push(NestedLines::new(a.line, a.line, vec![leaf.clone(), leaf]));
                }
            }
        }
        let mut value = Map::new();
        value.insert("address".into(), Value::String(self.address.clone()));
        value.insert("type".into(), Value::String(self.kind.clone()));
        // The deployment graph, for WI033: every resource's, as resources
        // of other kinds (a `time_sleep`) can order two credentials.
        value.insert("scope".into(), Value::String(self.scope.clone()));
        value.insert("declaration".into(), Value::String(self.declaration.clone()));
        value.insert("dependsOn".into(), Value::Array(self.depends_on.iter().cloned().map(Value::String).collect()));
        value.insert("attributes".into(), Value::Object(attributes));
        let leaf = || NestedLines::new(self.line, self.line, Vec::new());
        let depends_lines = self.depends_on.iter().map(|_| leaf()).collect();
        let mut children = vec![leaf(), leaf(), leaf(), leaf(), NestedLines::new(self.line, self.line, depends_lines), NestedLines::new(self.line, self.line, attribute_lines)];
        if !not_checked.is_empty() {
            value.insert("notChecked".into(), Value::Object(not_checked));
            children.push(NestedLines::new(self.line, self.line, not_checked_lines));
        }
        Document { value: Value::Object(value), lines: NestedLines::new(self.line, 0, children).into(), line: self.line }
    }

    /// The object the rules read.
    pub(crate) fn into_object(self, fields: &FieldNames) -> Object {
        let doc = self.document();
        let pointer = |path: &str| format!("/attributes/{}", escape_pointer_segment(path));
        let known_str = |path: &str| self.attribute(path).and_then(|a| a.value.value()).and_then(Value::as_str).map(str::to_string);
        let known_bool = |path: &str| match self.attribute(path).map(|a| &a.value) {
            // Absent: the providers' default, off.
            None => Some(false),
            Some(Resolved::Known { value, .. }) => value.as_bool(),
            Some(_) => None,
        };
        let name = known_str(fields.name);
        let unknown = |path: &str| self.attribute(path).is_some_and(|a| a.value.value().is_none());
        let role = match &self.meaning {
            Meaning::Credential { identity } => {
                let issuer_source = match self.attribute(fields.issuer).map(|a| &a.value) {
                    Some(Resolved::Known { .. }) => IssuerSource::Literal,
                    Some(Resolved::Computed(reference)) => IssuerSource::Reference(reference.clone()),
                    _ => IssuerSource::Unknown,
                };
                Role::FederatedCredential(Box::new(FederatedCredential {
                    azure_name: name.clone().unwrap_or_default(),
                    name_pointer: pointer(fields.name),
                    identity: identity.clone(),
                    issuer: known_str(fields.issuer),
                    issuer_pointer: pointer(fields.issuer),
                    subject: known_str(fields.subject),
                    subject_pointer: pointer(fields.subject),
                    audiences: self.attribute(fields.audiences).and_then(|a| a.value.value()).cloned(),
                    audiences_pointer: pointer(fields.audiences),
                    unknown: UnknownFields {
                        name: unknown(fields.name),
                        issuer: unknown(fields.issuer),
                        subject: unknown(fields.subject),
                        audiences: unknown(fields.audiences),
                    },
                    iac: Some(Box::new(IacCredential {
                        scope: self.scope.clone(),
                        declaration: self.declaration.clone(),
                        depends_on: self.depends_on.clone(),
                        expansion: self.expansion.clone(),
                        issuer_source,
                        language: self.language,
                    })),
                }))
            }
            Meaning::Identity => Role::Identity(Identity {
                key: identity_key(self.language, &self.scope, &self.address, name.as_deref()),
                azure_name: name.as_deref().unwrap_or(&self.address).to_ascii_lowercase(),
                client_id: None,
            }),
            Meaning::Cluster { issuer_reference } => Role::IacCluster(Box::new(IacCluster {
                oidc_issuer_enabled: known_bool(fields.oidc_issuer_enabled),
                oidc_issuer_pointer: pointer(fields.oidc_issuer_enabled),
                workload_identity_enabled: known_bool(fields.workload_identity_enabled),
                workload_identity_pointer: pointer(fields.workload_identity_enabled),
                language: self.language,
                issuer_reference: issuer_reference.clone(),
            })),
            Meaning::Other => Role::Other,
        };
        // Shown after the kind: `web["a"]` of `azurerm_federated_identity_credential.web["a"]`.
        let name = [".", "/"].iter().find_map(|sep| self.address.strip_prefix(&format!("{}{sep}", self.kind))).unwrap_or(&self.address).to_string();
        Object { file: self.file, doc, kind: self.kind, namespace: String::new(), name, role }
    }
}

/// How credentials name their identity: Terraform by the identity's
/// address in its module (`infra/azurerm_user_assigned_identity.app`), ARM
/// by its resource name lower-cased, as `az` output does.
pub(crate) fn identity_key(language: Language, scope: &str, address: &str, name: Option<&str>) -> String {
    match language {
        // Modules in other directories may reuse an address.
        Language::Terraform if scope.is_empty() => address.to_string(),
        Language::Terraform => format!("{scope}/{address}"),
        Language::Arm => name.unwrap_or(address).to_ascii_lowercase(),
    }
}

/// Every value under `value` on `line`: attributes span lines rarely
/// matter below the attribute itself.
fn lines_of(value: &Value, line: u32) -> NestedLines {
    let children = match value {
        Value::Array(items) => items.iter().map(|v| lines_of(v, line)).collect(),
        Value::Object(map) => map.values().map(|v| lines_of(v, line)).collect(),
        _ => Vec::new(),
    };
    NestedLines::new(line, line, children)
}

/// 1-based line numbers of byte offsets in a text.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }
    pub(crate) fn line(&self, offset: usize) -> u32 {
        self.starts.partition_point(|s| *s <= offset) as u32
    }
}
