//! ARM deployment templates (`deploymentTemplate.json`, what `az bicep
//! build` writes): identities, their federated credentials (top-level or
//! nested under the identity) and AKS clusters, with parameters' defaults,
//! variables and `copy` loops resolved where the template makes them known.

use serde_json::{Map, Value};

use super::{Attribute, Expansion, FieldNames, Language, Meaning, Resolved, Resource};
use crate::objects::Object;
use crate::source::{Document, escape_pointer_segment};

pub(crate) const IDENTITY_TYPE: &str = "microsoft.managedidentity/userassignedidentities";
pub(crate) const FIC_TYPE: &str = "microsoft.managedidentity/userassignedidentities/federatedidentitycredentials";
pub(crate) const CLUSTER_TYPE: &str = "microsoft.containerservice/managedclusters";
const DEPLOYMENT_TYPE: &str = "microsoft.resources/deployments";

pub(crate) const FIELDS: FieldNames = FieldNames {
    name: "name",
    issuer: "properties.issuer",
    subject: "properties.subject",
    audiences: "properties.audiences",
    oidc_issuer_enabled: "properties.oidcIssuerProfile.enabled",
    workload_identity_enabled: "properties.securityProfile.workloadIdentity.enabled",
};

/// How deep expressions and parameter defaults are followed.
const MAX_EVALUATION_DEPTH: usize = 32;
/// Copy loops are expanded up to this many instances (ARM allows 800).
const MAX_INSTANCES: usize = 1000;

/// A deployment template: `$schema` names `deploymentTemplate.json`, or
/// the document has both `contentVersion` and `resources`.
pub(crate) fn is_template(value: &Value) -> bool {
    let schema = value.get("$schema").and_then(Value::as_str).is_some_and(|s| s.to_ascii_lowercase().contains("deploymenttemplate.json"));
    schema || (value.get("contentVersion").is_some() && value.get("resources").is_some() && value.get("kind").is_none())
}

/// A parameters file (`deploymentParameters.json`): values for a
/// template, not resources; read as nothing.
pub(crate) fn is_parameters_file(value: &Value) -> bool {
    value.get("$schema").and_then(Value::as_str).is_some_and(|s| s.to_ascii_lowercase().contains("deploymentparameters.json"))
}

/// Nested deployments followed at most this deep.
const MAX_NESTING: usize = 8;

/// Every resource of a template, as objects.
pub(crate) fn objects(file: &str, doc: &Document) -> Vec<Object> {
    let mut out = Vec::new();
    objects_in(file, doc, "", file.to_string(), &Map::new(), 0, &mut out);
    out
}

/// The resources of the template at `base` (the document itself, or a
/// nested deployment's `properties/template`), with `overrides` for the
/// parameters the outer deployment passes.
fn objects_in(file: &str, doc: &Document, base: &str, scope: String, overrides: &Map<String, Value>, nesting: usize, out: &mut Vec<Object>) {
    let Some(value) = doc.value.pointer(base) else { return };
    let template = Template { parameters: value.get("parameters"), variables: value.get("variables"), overrides };
    let mut declared = Vec::new();
    match value.get("resources") {
        Some(Value::Array(items)) => {
            for (i, r) in items.iter().enumerate() {
                declared.push(Declared { pointer: format!("{base}/resources/{i}"), value: r, symbol: None, parent: None });
            }
        }
        // languageVersion 2.0: resources by symbolic name.
        Some(Value::Object(map)) => {
            for (symbol, r) in map {
                declared.push(Declared { pointer: format!("{base}/resources/{}", escape_pointer_segment(symbol)), value: r, symbol: Some(symbol.clone()), parent: None });
            }
        }
        _ => {}
    }
    // `"condition": false`: not deployed.
    declared.retain(|d| d.value.get("condition").is_none_or(|c| template.eval_value(c, None, 0).value() != Some(&Value::Bool(false))));
    // Child resources nested under their parent (`resources` inside one).
    let mut i = 0;
    while i < declared.len() {
        if let Some(Value::Array(children)) = declared[i].value.get("resources") {
            let parent = Some(i);
            let base = declared[i].pointer.clone();
            for (j, child) in children.iter().enumerate() {
                declared.push(Declared { pointer: format!("{base}/resources/{j}"), value: child, symbol: None, parent });
            }
        }
        i += 1;
    }
    let ids: Vec<Option<(String, String)>> = (0..declared.len()).map(|i| template.full_id(&declared, i, None)).collect();
    let names = Names::new(&declared, &ids);
    for (i, d) in declared.iter().enumerate() {
        let Some((kind, _)) = &ids[i] else { continue };
        let declaration = declaration_name(&declared, &ids, i);
        let depends_on = template.depends_on(&declared, &ids, &names, i);
        let (copy_count, serial) = template.copy(d.value);
        let expansion = match (d.value.get("copy"), copy_count) {
            (None, _) => Expansion::Single,
            (Some(_), count) => Expansion::Instances { over: "copy".into(), count, serial },
        };
        let instances: Vec<Option<usize>> = match (&expansion, copy_count) {
            (Expansion::Single, _) => vec![None],
            (_, Some(n)) => (0..n.min(MAX_INSTANCES)).map(Some).collect(),
            (_, None) => vec![None],
        };
        for copy_index in instances {
            let full = template.full_id(&declared, i, copy_index);
            // Only a name known throughout (no expression left as written).
            let name = full.as_ref().map(|(_, n)| n.clone()).filter(|n| !n.split('/').any(|part| part.starts_with('[')));
            let line = doc.line_of(&d.pointer);
            let eval = |v: &Value| template.eval_value(v, copy_index, 0);
            let mut attributes = Vec::new();
            // The name as Azure sees it: the credential's own segment.
            let own_name = name.as_deref().map(|n| n.rsplit('/').next().unwrap_or(n).to_string());
            let name_value = match (&own_name, d.value.get("name")) {
                (Some(n), _) => Resolved::known(Value::String(n.clone())),
                (None, Some(v)) => eval(v),
                (None, None) => Resolved::Unknown("the resource has no name".into()),
            };
            attributes.push(Attribute { path: "name".into(), value: name_value, line: doc.line_of(&format!("{}/name", d.pointer)) });
            // What -v says about the loop when its instances are not all read.
            if let Some(count) = d.value.pointer("/copy/count") {
                let at = doc.line_of(&format!("{}/copy/count", d.pointer));
                match copy_count {
                    None => attributes.push(Attribute { path: "copy.count".into(), value: template.eval_value(count, None, 0), line: at }),
                    Some(n) if n > MAX_INSTANCES => attributes.push(Attribute {
                        path: "instances".into(),
                        value: Resolved::Unknown(format!("only the first {MAX_INSTANCES} of {n} instances are read")),
                        line: at,
                    }),
                    Some(_) => {}
                }
            }
            let paths: &[&str] = match kind.as_str() {
                FIC_TYPE => &["properties.issuer", "properties.subject", "properties.audiences"],
                CLUSTER_TYPE => &["properties.oidcIssuerProfile.enabled", "properties.securityProfile.workloadIdentity.enabled"],
                _ => &[],
            };
            for path in paths {
                let pointer = format!("{}/{}", d.pointer, path.replace('.', "/"));
                let Some(v) = d.value.pointer(&format!("/{}", path.replace('.', "/"))) else { continue };
                attributes.push(Attribute { path: path.to_string(), value: eval(v), line: doc.line_of(&pointer) });
            }
            let meaning = match kind.as_str() {
                FIC_TYPE => {
                    // `identity/credential`: the identity is the first segment.
                    let identity = name.as_deref().and_then(|n| n.split('/').next()).map(str::to_ascii_lowercase);
                    Meaning::Credential { identity }
                }
                IDENTITY_TYPE => Meaning::Identity,
                CLUSTER_TYPE => Meaning::Cluster {
                    issuer_reference: format!(
                        "[reference(resourceId('Microsoft.ContainerService/managedClusters', '{}'), '<api-version>').oidcIssuerProfile.issuerURL]",
                        name.as_deref().unwrap_or("<cluster>")
                    ),
                },
                _ => Meaning::Other,
            };
            let address = match (&name, copy_index) {
                (Some(n), _) => format!("{}/{n}", d.value.get("type").and_then(Value::as_str).unwrap_or(kind)),
                (None, Some(c)) => format!("{declaration}[{c}]"),
                (None, None) => declaration.clone(),
            };
            let resource = Resource {
                file: file.to_string(),
                line,
                kind: d.value.get("type").and_then(Value::as_str).unwrap_or(kind).to_string(),
                address,
                scope: scope.clone(),
                declaration: declaration.clone(),
                attributes,
                depends_on: depends_on.clone(),
                expansion: expansion.clone(),
                meaning,
                language: Language::Arm,
            };
            out.push(resource.into_object(&FIELDS));
        }
        // A nested deployment with its template inline (how Bicep modules
        // compile): read as a template of its own, with the parameters
        // passed to it where they are known.
        if kind == DEPLOYMENT_TYPE && nesting < MAX_NESTING && d.value.pointer("/properties/template").is_some_and(Value::is_object) {
            let mut passed = Map::new();
            if let Some(Value::Object(parameters)) = d.value.pointer("/properties/parameters") {
                for (name, p) in parameters {
                    if let Some(Resolved::Known { value, .. }) = p.get("value").map(|v| template.eval_value(v, None, 0)) {
                        passed.insert(name.clone(), value);
                    }
                }
            }
            let inner_scope = format!("{scope}#{declaration}");
            objects_in(file, doc, &format!("{}/properties/template", d.pointer), inner_scope, &passed, nesting + 1, out);
        }
    }
}

struct Declared<'a> {
    pointer: String,
    value: &'a Value,
    symbol: Option<String>,
    parent: Option<usize>,
}

struct Template<'a> {
    parameters: Option<&'a Value>,
    variables: Option<&'a Value>,
    /// Parameter values an outer deployment passes to a nested one.
    overrides: &'a Map<String, Value>,
}

/// How a declaration is named for `dependsOn` and messages: its type and
/// name as written.
fn declaration_name(declared: &[Declared], ids: &[Option<(String, String)>], i: usize) -> String {
    let copy = declared[i].value.pointer("/copy/name").and_then(Value::as_str);
    match (&declared[i].symbol, copy, &ids[i]) {
        (Some(symbol), _, _) => symbol.clone(),
        // A loop is named by its copy name: its instances share it.
        (None, Some(copy), _) => copy.to_string(),
        // As a `dependsOn` entry takes it: `[resourceId('Type', 'a', 'b')]`.
        (None, None, Some((_, name))) if !name.contains('[') => {
            let names: Vec<String> = name.split('/').map(|n| format!("'{}'", n.replace('\'', "''"))).collect();
            format!("[resourceId('{}', {})]", display_type(declared, i), names.join(", "))
        }
        (None, None, Some((kind, name))) => format!("{kind}/{name}"),
        (None, None, None) => declared[i].pointer.clone(),
    }
}

/// A declaration's full type as written (`Microsoft.ManagedIdentity/
/// userAssignedIdentities/federatedIdentityCredentials` for a child nested
/// as `federatedIdentityCredentials`).
fn display_type(declared: &[Declared], i: usize) -> String {
    let own = declared[i].value.get("type").and_then(Value::as_str).unwrap_or_default();
    match declared[i].parent {
        Some(p) if !own.contains('/') => format!("{}/{own}", display_type(declared, p)),
        _ => own.to_string(),
    }
}

impl Template<'_> {
    /// Lower-cased full type and the full name (`identity/credential`) of
    /// declaration `i`; the name's unknown parts stay as written.
    fn full_id(&self, declared: &[Declared], i: usize, copy_index: Option<usize>) -> Option<(String, String)> {
        let d = &declared[i];
        let own_type = d.value.get("type").and_then(Value::as_str)?;
        let raw_name = d.value.get("name")?;
        let name = match self.eval_value(raw_name, copy_index, 0) {
            Resolved::Known { value: Value::String(s), .. } => s,
            _ => raw_name.as_str().unwrap_or("?").to_string(),
        };
        match d.parent {
            Some(p) if !own_type.contains('/') => {
                let (parent_type, parent_name) = self.full_id(declared, p, None)?;
                Some((format!("{parent_type}/{}", own_type.to_ascii_lowercase()), format!("{parent_name}/{name}")))
            }
            _ => Some((own_type.to_ascii_lowercase(), name)),
        }
    }

    /// The copy loop's instance count (when known) and whether it is
    /// serial one at a time.
    fn copy(&self, resource: &Value) -> (Option<usize>, bool) {
        let Some(copy) = resource.get("copy") else { return (None, false) };
        let count = copy.get("count").and_then(|c| self.eval_value(c, None, 0).value().and_then(Value::as_u64)).map(|n| n as usize);
        let serial = copy.get("mode").and_then(Value::as_str).is_some_and(|m| m.eq_ignore_ascii_case("serial"))
            && copy.get("batchSize").and_then(|b| self.eval_value(b, None, 0).value().and_then(Value::as_u64)) == Some(1);
        (count, serial)
    }

    /// The declarations `i` waits for: its `dependsOn` entries and its
    /// parent.
    fn depends_on(&self, declared: &[Declared], ids: &[Option<(String, String)>], index: &Names, i: usize) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(p) = declared[i].parent {
            out.push(declaration_name(declared, ids, p));
        }
        let entries = declared[i].value.get("dependsOn").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for entry in entries.iter().filter_map(Value::as_str) {
            let found: &[usize] = match self.reference_target(entry) {
                Target::Id(kind, name) => index.by_id.get(&(kind, name.to_ascii_lowercase())).map_or(&[], Vec::as_slice),
                Target::Name(name) => index.by_name.get(&name.to_ascii_lowercase()).map_or(&[], Vec::as_slice),
                Target::Unknown => &[],
            };
            out.extend(found.iter().filter(|j| **j != i).map(|j| declaration_name(declared, ids, *j)));
        }
        out.sort();
        out.dedup();
        out
    }

    /// A `dependsOn` entry: `[resourceId('type', 'a', 'b')]` or a plain or
    /// symbolic name.
    fn reference_target(&self, entry: &str) -> Target {
        let Some(expr) = entry.strip_prefix('[').and_then(|e| e.strip_suffix(']')).filter(|_| !entry.starts_with("[[")) else {
            return Target::Name(entry.to_string());
        };
        match Parser::new(expr).parse() {
            Some(Expr::Call(name, args)) if name.eq_ignore_ascii_case("resourceId") => {
                let values: Vec<Option<String>> = args.iter().map(|a| self.eval(a, None, 0).value().and_then(Value::as_str).map(str::to_string)).collect();
                // resourceId([subscriptionId,] [resourceGroup,] type, name...):
                // the type is the first argument holding a `/`.
                let Some(t) = values.iter().position(|v| v.as_deref().is_some_and(|s| s.contains('/'))) else { return Target::Unknown };
                let names: Option<Vec<String>> = values[t + 1..].iter().cloned().collect();
                match (&values[t], names) {
                    (Some(kind), Some(names)) => Target::Id(kind.to_ascii_lowercase(), names.join("/")),
                    _ => Target::Unknown,
                }
            }
            Some(e) => match self.eval(&e, None, 0) {
                Resolved::Known { value: Value::String(s), .. } => Target::Name(s),
                _ => Target::Unknown,
            },
            None => Target::Unknown,
        }
    }

    /// A template value: a string `[expression]` is evaluated, `[[` is a
    /// literal `[`; lists and objects member by member.
    fn eval_value(&self, v: &Value, copy_index: Option<usize>, depth: usize) -> Resolved {
        if depth > MAX_EVALUATION_DEPTH {
            return Resolved::Unknown("expressions nest too deeply to follow".into());
        }
        match v {
            Value::String(s) if s.starts_with("[[") => Resolved::known(Value::String(s[1..].to_string())),
            Value::String(s) if s.starts_with('[') && s.ends_with(']') => match Parser::new(&s[1..s.len() - 1]).parse() {
                Some(e) => self.eval(&e, copy_index, depth + 1),
                None => Resolved::Unknown(format!("the expression {s} is not read by this reader")),
            },
            Value::Array(items) => Resolved::collect(items.iter().map(|item| (None, self.eval_value(item, copy_index, depth + 1))), false),
            Value::Object(map) => Resolved::collect(map.iter().map(|(k, item)| (Some(k.clone()), self.eval_value(item, copy_index, depth + 1))), true),
            other => Resolved::known(other.clone()),
        }
    }

    fn eval(&self, e: &Expr, copy_index: Option<usize>, depth: usize) -> Resolved {
        if depth > MAX_EVALUATION_DEPTH {
            return Resolved::Unknown("expressions nest too deeply to follow".into());
        }
        match e {
            Expr::String(s) => Resolved::known(Value::String(s.clone())),
            Expr::Number(n) => Resolved::known(Value::from(*n)),
            Expr::Bool(b) => Resolved::known(Value::Bool(*b)),
            Expr::Member(base, key) => match self.eval(base, copy_index, depth + 1) {
                Resolved::Known { value, literal } => match value.get(key.as_str()) {
                    Some(v) => Resolved::Known { value: v.clone(), literal },
                    None => Resolved::Unknown(format!("the value has no property {key}")),
                },
                Resolved::Computed(text) => Resolved::Computed(format!("{text}.{key}")),
                other => other,
            },
            Expr::Index(base, index) => match (self.eval(base, copy_index, depth + 1), self.eval(index, copy_index, depth + 1)) {
                (Resolved::Known { value, literal }, Resolved::Known { value: i, .. }) => {
                    let item = match &i {
                        Value::Number(n) => n.as_u64().and_then(|n| value.get(n as usize)),
                        Value::String(k) => value.get(k.as_str()),
                        _ => None,
                    };
                    item.map_or_else(|| Resolved::Unknown("an index the value does not have".into()), |v| Resolved::Known { value: v.clone(), literal })
                }
                (Resolved::Known { .. }, other) | (other, _) => other,
            },
            Expr::Call(name, args) => {
                let lower = name.to_ascii_lowercase();
                let arg = |i: usize| args.get(i).map(|a| self.eval(a, copy_index, depth + 1));
                let string_arg = |i: usize| arg(i).and_then(|r| r.value().and_then(Value::as_str).map(str::to_string));
                match lower.as_str() {
                    "parameters" => {
                        let Some(name) = string_arg(0) else { return Resolved::Unknown("parameters() of an unknown name".into()) };
                        if let Some(passed) = self.overrides.get(&name) {
                            return Resolved::Known { value: passed.clone(), literal: false };
                        }
                        match self.parameters.and_then(|p| p.get(&name)).and_then(|p| p.get("defaultValue")) {
                            Some(default) => self.eval_value(default, copy_index, depth + 1).not_literal(),
                            None => Resolved::Unknown(format!("parameter {name} has no defaultValue")),
                        }
                    }
                    "variables" => {
                        let Some(name) = string_arg(0) else { return Resolved::Unknown("variables() of an unknown name".into()) };
                        match self.variables.and_then(|v| v.get(&name)) {
                            Some(value) => self.eval_value(value, copy_index, depth + 1).not_literal(),
                            None => Resolved::Unknown(format!("variable {name} is not declared")),
                        }
                    }
                    "concat" | "format" | "tolower" | "toupper" | "string" => {
                        let mut parts = Vec::new();
                        let mut literal = true;
                        for a in args {
                            match self.eval(a, copy_index, depth + 1) {
                                Resolved::Known { value, literal: l } => {
                                    literal &= l;
                                    parts.push(value);
                                }
                                other => return other,
                            }
                        }
                        let text = |v: &Value| match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        let value = match lower.as_str() {
                            "concat" if parts.iter().all(Value::is_array) => Value::Array(parts.iter().flat_map(|p| p.as_array().cloned().unwrap_or_default()).collect()),
                            "concat" => Value::String(parts.iter().map(text).collect()),
                            "format" => match parts.split_first() {
                                Some((Value::String(fmt), rest)) => Value::String(format_arm(fmt, &rest.iter().map(text).collect::<Vec<_>>())),
                                _ => return Resolved::Unknown("format() without a format string".into()),
                            },
                            "tolower" => Value::String(parts.first().map(text).unwrap_or_default().to_lowercase()),
                            "toupper" => Value::String(parts.first().map(text).unwrap_or_default().to_uppercase()),
                            _ => Value::String(parts.first().map(text).unwrap_or_default()),
                        };
                        Resolved::Known { value, literal }
                    }
                    "length" => match arg(0) {
                        Some(Resolved::Known { value, literal }) => {
                            let n = match &value {
                                Value::Array(a) => a.len(),
                                Value::Object(o) => o.len(),
                                Value::String(s) => s.chars().count(),
                                _ => return Resolved::Unknown("length() of a value that has none".into()),
                            };
                            Resolved::Known { value: Value::from(n), literal }
                        }
                        Some(other) => other,
                        None => Resolved::Unknown("length() without an argument".into()),
                    },
                    "copyindex" => match copy_index {
                        Some(i) => {
                            let offset = arg(0).and_then(|r| r.value().and_then(Value::as_u64)).unwrap_or(0);
                            Resolved::known(Value::from(i as u64 + offset))
                        }
                        None => Resolved::Unknown("copyIndex() of a loop whose count is not known".into()),
                    },
                    "reference" | "resourceid" | "subscription" | "resourcegroup" | "list" | "listkeys" => Resolved::Computed(format!("{name}(...)")),
                    _ => Resolved::Unknown(format!("function {name}() is not evaluated by this reader")),
                }
            }
        }
    }
}

/// The declarations a `dependsOn` entry can name, indexed once per
/// template: by full type and name, and by a plain name (the full name, its
/// last segment, a symbolic name, a copy loop's name), all lower-cased.
#[derive(Default)]
struct Names {
    by_id: std::collections::HashMap<(String, String), Vec<usize>>,
    by_name: std::collections::HashMap<String, Vec<usize>>,
}

impl Names {
    fn new(declared: &[Declared], ids: &[Option<(String, String)>]) -> Names {
        let mut names = Names::default();
        for (j, id) in ids.iter().enumerate() {
            let mut plain: Vec<String> = Vec::new();
            if let Some((kind, name)) = id {
                let name = name.to_ascii_lowercase();
                names.by_id.entry((kind.clone(), name.clone())).or_default().push(j);
                if let Some(last) = name.rsplit('/').next() {
                    plain.push(last.to_string());
                }
                plain.push(name);
            }
            plain.extend(declared[j].symbol.iter().map(|s| s.to_ascii_lowercase()));
            plain.extend(declared[j].value.pointer("/copy/name").and_then(Value::as_str).map(str::to_ascii_lowercase));
            plain.sort();
            plain.dedup();
            for p in plain {
                names.by_name.entry(p).or_default().push(j);
            }
        }
        names
    }
}

enum Target {
    Id(String, String),
    Name(String),
    Unknown,
}

/// `format('{0}/{1}', a, b)`, as ARM's `format` (composite formatting
/// without format specifiers).
fn format_arm(fmt: &str, args: &[String]) -> String {
    let mut out = String::new();
    let mut rest = fmt;
    while let Some(open) = rest.find(['{', '}']) {
        out.push_str(&rest[..open]);
        // `{{` and `}}` stand for one brace.
        if rest[open..].starts_with("{{") || rest[open..].starts_with("}}") {
            out.push_str(&rest[open..open + 1]);
            rest = &rest[open + 2..];
            continue;
        }
        if rest[open..].starts_with('}') {
            out.push('}');
            rest = &rest[open + 1..];
            continue;
        }
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| after[..close].split(':').next().and_then(|n| n.trim().parse::<usize>().ok()).map(|n| (close, n))) {
            Some((close, n)) => {
                out.push_str(args.get(n).map_or("", String::as_str));
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// An ARM template expression.
#[derive(Debug, Clone)]
enum Expr {
    String(String),
    Number(i64),
    Bool(bool),
    Call(String, Vec<Expr>),
    Member(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
}

/// A small recursive-descent parser for the expression language: function
/// calls, `'strings'` (`''` escapes a quote), integers, `.property` and
/// `[index]`. Nesting is bounded.
struct Parser<'a> {
    text: &'a [u8],
    at: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser { text: text.as_bytes(), at: 0, depth: 0 }
    }

    fn parse(mut self) -> Option<Expr> {
        let e = self.expr()?;
        self.skip_space();
        (self.at == self.text.len()).then_some(e)
    }

    fn skip_space(&mut self) {
        while self.text.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn expr(&mut self) -> Option<Expr> {
        self.depth += 1;
        if self.depth > MAX_EVALUATION_DEPTH {
            return None;
        }
        self.skip_space();
        let mut e = self.primary()?;
        loop {
            self.skip_space();
            match self.text.get(self.at) {
                Some(b'.') => {
                    self.at += 1;
                    let name = self.identifier()?;
                    e = Expr::Member(Box::new(e), name);
                }
                Some(b'[') => {
                    self.at += 1;
                    let index = self.expr()?;
                    self.skip_space();
                    (self.text.get(self.at) == Some(&b']')).then_some(())?;
                    self.at += 1;
                    e = Expr::Index(Box::new(e), Box::new(index));
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Some(e)
    }

    fn identifier(&mut self) -> Option<String> {
        let start = self.at;
        while self.text.get(self.at).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
            self.at += 1;
        }
        (self.at > start).then(|| String::from_utf8_lossy(&self.text[start..self.at]).into_owned())
    }

    fn primary(&mut self) -> Option<Expr> {
        match *self.text.get(self.at)? {
            b'\'' => {
                self.at += 1;
                let mut out = Vec::new();
                loop {
                    match *self.text.get(self.at)? {
                        b'\'' if self.text.get(self.at + 1) == Some(&b'\'') => {
                            out.push(b'\'');
                            self.at += 2;
                        }
                        b'\'' => {
                            self.at += 1;
                            break;
                        }
                        c => {
                            out.push(c);
                            self.at += 1;
                        }
                    }
                }
                Some(Expr::String(String::from_utf8(out).ok()?))
            }
            c if c.is_ascii_digit() || c == b'-' => {
                let start = self.at;
                self.at += 1;
                while self.text.get(self.at).is_some_and(u8::is_ascii_digit) {
                    self.at += 1;
                }
                std::str::from_utf8(&self.text[start..self.at]).ok()?.parse().ok().map(Expr::Number)
            }
            _ => {
                let name = self.identifier()?;
                self.skip_space();
                if self.text.get(self.at) != Some(&b'(') {
                    return match name.as_str() {
                        "true" => Some(Expr::Bool(true)),
                        "false" => Some(Expr::Bool(false)),
                        _ => None,
                    };
                }
                self.at += 1;
                let mut args = Vec::new();
                loop {
                    self.skip_space();
                    if self.text.get(self.at) == Some(&b')') {
                        self.at += 1;
                        break;
                    }
                    args.push(self.expr()?);
                    self.skip_space();
                    match self.text.get(self.at)? {
                        b',' => self.at += 1,
                        b')' => {
                            self.at += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                Some(Expr::Call(name, args))
            }
        }
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::Role;
    use crate::source::{SourceFile, parse_documents};

    fn read(text: &str) -> Vec<Object> {
        let docs = parse_documents(&SourceFile { name: "t.json".into(), content: text.into() }).unwrap();
        assert!(is_template(&docs[0].value));
        objects("t.json", &docs[0])
    }

    #[test]
    fn credentials_with_parameters_copy_loops_and_lines() {
        let objects = read(
            r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": { "identityName": { "type": "string", "defaultValue": "id-app" }, "sas": { "type": "array", "defaultValue": ["web", "worker"] } },
  "resources": [
    { "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31", "name": "[parameters('identityName')]", "location": "westeurope" },
    {
      "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
      "apiVersion": "2023-01-31",
      "name": "[format('{0}/{1}', parameters('identityName'), parameters('sas')[copyIndex()])]",
      "copy": { "name": "fics", "count": "[length(parameters('sas'))]" },
      "dependsOn": ["[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('identityName'))]"],
      "properties": {
        "issuer": "https://example.com/",
        "subject": "[concat('system:serviceaccount:app:', parameters('sas')[copyIndex()])]",
        "audiences": ["api://AzureADTokenExchange"]
      }
    }
  ]
}"#,
        );
        let fics: Vec<_> = objects.iter().filter(|o| matches!(o.role, Role::FederatedCredential(_))).collect();
        // length() of the parameter's default: two instances, named.
        assert_eq!(fics.len(), 2);
        let Role::FederatedCredential(f) = &fics[1].role else { unreachable!() };
        assert_eq!((f.azure_name.as_str(), f.identity.as_deref()), ("worker", Some("id-app")));
        assert_eq!(f.subject.as_deref(), Some("system:serviceaccount:app:worker"));
        let iac = f.iac.as_ref().unwrap();
        assert_eq!(iac.expansion, Expansion::Instances { over: "copy".into(), count: Some(2), serial: false });
        assert_eq!(iac.depends_on, ["[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-app')]"]);
        assert_eq!(iac.declaration, "fics");
        assert_eq!(fics[0].doc.line_of(&f.issuer_pointer), 14);
    }

    #[test]
    fn nested_credentials_belong_to_their_identity() {
        let objects = read(
            r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    { "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31", "name": "id-app",
      "resources": [
        { "type": "federatedIdentityCredentials", "apiVersion": "2023-01-31", "name": "web", "dependsOn": ["id-app"],
          "properties": { "issuer": "https://example.com/", "subject": "system:serviceaccount:app:web", "audiences": ["api://AzureADTokenExchange"] } }
      ] }
  ]
}"#,
        );
        let Role::FederatedCredential(f) = &objects[1].role else { panic!("{:?}", objects[1].role) };
        assert_eq!((f.azure_name.as_str(), f.identity.as_deref()), ("web", Some("id-app")));
        assert_eq!(f.subject.as_deref(), Some("system:serviceaccount:app:web"));
    }

    #[test]
    fn expressions() {
        assert_eq!(format_arm("{0}/{1}", &["a".into(), "b".into()]), "a/b");
        assert_eq!(format_arm("x:{{0}}:{0}", &["p".into()]), "x:{0}:p");
        assert!(Parser::new("concat('a', 'b''c')").parse().is_some());
        assert!(Parser::new("concat('a'").parse().is_none());
        assert!(Parser::new(&"f(".repeat(100)).parse().is_none());
    }
}
