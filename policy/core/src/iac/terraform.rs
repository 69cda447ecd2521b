//! Terraform `.tf` files: the azurerm and azapi resources of a Workload ID
//! setup, with literals, variable defaults, locals and literal `for_each`
//! resolved (see the module above for what is never guessed).

use std::collections::BTreeMap;

use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Block, BlockLabel, Body, Structure};
use hcl_edit::template::Element;
use serde_json::Value;

use super::{Attribute, Expansion, FieldNames, Language, LineIndex, Meaning, Resolved, Resource, identity_key};
use crate::objects::Object;
use crate::source::{InputError, MAX_DEPTH, SourceFile};

const FIC: &str = "azurerm_federated_identity_credential";
const IDENTITY: &str = "azurerm_user_assigned_identity";
const CLUSTER: &str = "azurerm_kubernetes_cluster";
const ROLE_ASSIGNMENT: &str = "azurerm_role_assignment";
const AZAPI: &str = "azapi_resource";

/// azurerm's attribute names.
pub(crate) const AZURERM_FIELDS: FieldNames = FieldNames {
    name: "name",
    issuer: "issuer",
    subject: "subject",
    audiences: "audience",
    oidc_issuer_enabled: "oidc_issuer_enabled",
    workload_identity_enabled: "workload_identity_enabled",
};

/// An azapi_resource's: the ARM body's.
pub(crate) const AZAPI_FIELDS: FieldNames = FieldNames {
    name: "name",
    issuer: "body.properties.issuer",
    subject: "body.properties.subject",
    audiences: "body.properties.audiences",
    oidc_issuer_enabled: "body.properties.oidcIssuerProfile.enabled",
    workload_identity_enabled: "body.properties.securityProfile.workloadIdentity.enabled",
};

/// Instances of one `count` or `for_each` read one by one; past this, -v
/// says the rest was not read.
const MAX_INSTANCES: usize = 1000;

/// How deep expressions are followed (a variable's default naming a local
/// naming a variable...): hostile code cannot loop.
const MAX_EVALUATION_DEPTH: usize = 32;

/// Reads one `.tf` file into objects.
pub fn objects(file: &SourceFile) -> Result<Vec<Object>, InputError> {
    let fail = |line: u32, column: u32, message: String| InputError { file: file.name.clone(), line, column, message };
    let text = file.content.strip_prefix('\u{feff}').unwrap_or(&file.content);
    // The parser recurses per bracket: refuse what would exhaust the stack.
    if let Some(offset) = too_deep(text) {
        let lines = LineIndex::new(text);
        return Err(fail(lines.line(offset), 0, format!("nesting deeper than {MAX_DEPTH} levels")));
    }
    let body = hcl_edit::parser::parse_body(text).map_err(|e| {
        let at = e.location();
        fail(at.line() as u32, at.column() as u32, format!("not valid HCL: {}", e.message()))
    })?;
    let lines = LineIndex::new(text);
    let scope = Scope::new(&body);
    let mut out = Vec::new();
    for block in blocks(&body, "resource") {
        let (Some(kind), Some(label)) = (label(block, 0), label(block, 1)) else { continue };
        for resource in read_resource(&scope, &lines, &file.name, block, kind, label) {
            let fields = if kind == AZAPI { &AZAPI_FIELDS } else { &AZURERM_FIELDS };
            out.push(resource.into_object(fields));
        }
    }
    for block in blocks(&body, "module") {
        if let Some(name) = label(block, 0) {
            out.push(read_module(&scope, &lines, &file.name, block, name).into_object(&AZURERM_FIELDS));
        }
    }
    Ok(out)
}

/// The byte offset where bracket nesting passes [`MAX_DEPTH`], outside
/// strings and comments as far as a byte scan can tell.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in text.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn blocks<'a>(body: &'a Body, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    body.iter().filter_map(Structure::as_block).filter(move |b| b.ident.as_str() == ident)
}

fn label(block: &Block, i: usize) -> Option<&str> {
    block.labels.get(i).map(|l| match l {
        BlockLabel::Ident(id) => id.as_str(),
        BlockLabel::String(s) => s.as_str(),
    })
}

/// Variables (their defaults) and locals of one file.
struct Scope<'a> {
    variables: BTreeMap<&'a str, Option<&'a Expression>>,
    locals: BTreeMap<&'a str, &'a Expression>,
}

impl<'a> Scope<'a> {
    fn new(body: &'a Body) -> Scope<'a> {
        let mut variables = BTreeMap::new();
        for block in blocks(body, "variable") {
            if let Some(name) = label(block, 0) {
                variables.insert(name, block.body.get_attribute("default").map(|a| &a.value));
            }
        }
        let mut locals = BTreeMap::new();
        for block in blocks(body, "locals") {
            for attribute in block.body.iter().filter_map(Structure::as_attribute) {
                locals.insert(attribute.key.as_str(), &attribute.value);
            }
        }
        Scope { variables, locals }
    }
}

/// `each` and `count` of one instance: `None` inside a block without them,
/// `Some(None)` when the block has them but their values are not known.
#[derive(Clone, Default)]
struct Instance {
    each: Option<Option<(Value, Value)>>,
    count: Option<Option<usize>>,
}

struct Evaluator<'a, 'b> {
    scope: &'b Scope<'a>,
    instance: Instance,
}

impl Evaluator<'_, '_> {
    fn eval(&self, expr: &Expression, depth: usize) -> Resolved {
        if depth > MAX_EVALUATION_DEPTH {
            return Resolved::Unknown("references nest too deeply to follow".into());
        }
        match expr {
            Expression::Null(_) => Resolved::known(Value::Null),
            Expression::Bool(b) => Resolved::known(Value::Bool(*b.value())),
            Expression::Number(n) => {
                let n = n.value();
                let value = n.as_u64().map(Value::from).or_else(|| n.as_i64().map(Value::from)).or_else(|| n.as_f64().map(Value::from));
                value.map_or_else(|| Resolved::Unknown("a number this reader cannot represent".into()), Resolved::known)
            }
            Expression::String(s) => Resolved::known(Value::String(s.value().clone())),
            Expression::Array(items) => Resolved::collect(items.iter().map(|e| (None, self.eval(e, depth + 1))), false),
            Expression::Object(object) => {
                let mut entries = Vec::new();
                for (key, value) in object.iter() {
                    let key = match key {
                        ObjectKey::Ident(id) => id.as_str().to_string(),
                        ObjectKey::Expression(e) => match self.eval(e, depth + 1) {
                            Resolved::Known { value: Value::String(s), .. } => s,
                            _ => return Resolved::Unknown("an object key that is not a known string".into()),
                        },
                    };
                    entries.push((Some(key), self.eval(value.expr(), depth + 1)));
                }
                Resolved::collect(entries.into_iter(), true)
            }
            Expression::StringTemplate(t) => self.template(t.iter(), depth),
            Expression::HeredocTemplate(h) => self.template(h.template.iter(), depth),
            Expression::Parenthesis(p) => self.eval(p.inner(), depth + 1),
            Expression::Variable(v) => Resolved::Unknown(format!("`{}` alone is not a value", v.as_str())),
            Expression::Traversal(t) => self.traversal(&t.expr, &t.operators, depth),
            Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                let args: Vec<&Expression> = call.args.iter().collect();
                match (name, args.as_slice()) {
                    // Conversions that keep the value as this reader holds it.
                    ("toset" | "tolist" | "tomap" | "tostring" | "jsonencode", [arg]) => self.eval(arg, depth + 1),
                    ("lower" | "upper", [arg]) => match self.eval(arg, depth + 1) {
                        Resolved::Known { value: Value::String(s), literal } => Resolved::Known {
                            value: Value::String(if name == "lower" { s.to_lowercase() } else { s.to_uppercase() }),
                            literal,
                        },
                        other => other,
                    },
                    _ => Resolved::Unknown(format!("function {name}() is not evaluated by this reader")),
                }
            }
            Expression::Conditional(_) => Resolved::Unknown("a conditional expression is not evaluated by this reader".into()),
            Expression::UnaryOp(_) | Expression::BinaryOp(_) => Resolved::Unknown("an operator expression is not evaluated by this reader".into()),
            Expression::ForExpr(_) => Resolved::Unknown("a `for` expression is not evaluated by this reader".into()),
        }
    }

    fn template<'e>(&self, elements: impl Iterator<Item = &'e Element>, depth: usize) -> Resolved {
        let mut out = String::new();
        let mut literal = true;
        for element in elements {
            match element {
                Element::Literal(s) => out.push_str(s.value()),
                Element::Interpolation(i) => match self.eval(&i.expr, depth + 1) {
                    Resolved::Known { value, literal: l } => {
                        literal &= l;
                        match value {
                            Value::String(s) => out.push_str(&s),
                            Value::Number(_) | Value::Bool(_) => out.push_str(&value.to_string()),
                            _ => return Resolved::Unknown("a list or object inside a string".into()),
                        }
                    }
                    other => return other,
                },
                Element::Directive(_) => return Resolved::Unknown("a template directive (%{...}) is not evaluated by this reader".into()),
            }
        }
        Resolved::Known { value: Value::String(out), literal }
    }

    fn traversal(&self, root: &Expression, operators: &[hcl_edit::Decorated<TraversalOperator>], depth: usize) -> Resolved {
        let Expression::Variable(root) = root else {
            return self.apply(self.eval(root, depth + 1), operators, depth);
        };
        let attr = |i: usize| match operators.get(i).map(|o| o.value()) {
            Some(TraversalOperator::GetAttr(id)) => Some(id.as_str()),
            _ => None,
        };
        match root.as_str() {
            "var" => {
                let Some(name) = attr(0) else { return Resolved::Unknown("`var` without a name".into()) };
                match self.scope.variables.get(name) {
                    Some(Some(default)) => self.apply(self.eval(default, depth + 1).not_literal(), &operators[1..], depth),
                    Some(None) => Resolved::Unknown(format!("var.{name} has no default")),
                    None => Resolved::Unknown(format!("var.{name} is not declared in this file")),
                }
            }
            "local" => {
                let Some(name) = attr(0) else { return Resolved::Unknown("`local` without a name".into()) };
                match self.scope.locals.get(name) {
                    Some(expr) => self.apply(self.eval(expr, depth + 1).not_literal(), &operators[1..], depth),
                    None => Resolved::Unknown(format!("local.{name} is not declared in this file")),
                }
            }
            "each" => match (&self.instance.each, attr(0)) {
                (Some(Some((key, _))), Some("key")) => self.apply(Resolved::known(key.clone()), &operators[1..], depth),
                (Some(Some((_, value))), Some("value")) => self.apply(Resolved::known(value.clone()), &operators[1..], depth),
                (Some(None), _) => Resolved::Unknown("the for_each collection is not known to this reader".into()),
                _ => Resolved::Unknown("`each` outside a for_each".into()),
            },
            "count" => match (&self.instance.count, attr(0)) {
                (Some(Some(i)), Some("index")) => Resolved::known(Value::from(*i)),
                (Some(None), _) => Resolved::Unknown("count is not known to this reader".into()),
                _ => Resolved::Unknown("`count` outside a counted resource".into()),
            },
            _ => Resolved::Computed(reference_text(root.as_str(), operators, self, depth)),
        }
    }

    /// Attribute and index access on a known value.
    fn apply(&self, base: Resolved, operators: &[hcl_edit::Decorated<TraversalOperator>], depth: usize) -> Resolved {
        let Resolved::Known { mut value, literal } = base else { return base };
        for op in operators {
            let next = match op.value() {
                TraversalOperator::GetAttr(id) => value.get(id.as_str()).cloned(),
                TraversalOperator::Index(e) => match self.eval(e, depth + 1) {
                    Resolved::Known { value: Value::String(k), .. } => value.get(&k).cloned(),
                    Resolved::Known { value: Value::Number(n), .. } => n.as_u64().and_then(|i| value.get(i as usize)).cloned(),
                    other => return other,
                },
                TraversalOperator::LegacyIndex(i) => value.get(*i.value() as usize).cloned(),
                _ => return Resolved::Unknown("a splat expression is not evaluated by this reader".into()),
            };
            match next {
                Some(v) => value = v,
                None => return Resolved::Unknown("an attribute or index that the value does not have".into()),
            }
        }
        Resolved::Known { value, literal }
    }
}

/// `azurerm_kubernetes_cluster.aks.oidc_issuer_url`, with known indexes
/// written out (`azurerm_user_assigned_identity.app["web"].id`).
fn reference_text(root: &str, operators: &[hcl_edit::Decorated<TraversalOperator>], evaluator: &Evaluator, depth: usize) -> String {
    let mut out = root.to_string();
    for op in operators {
        match op.value() {
            TraversalOperator::GetAttr(id) => {
                out.push('.');
                out.push_str(id.as_str());
            }
            TraversalOperator::Index(e) => match evaluator.eval(e, depth + 1) {
                Resolved::Known { value, .. } => out.push_str(&format!("[{value}]")),
                _ => out.push_str("[?]"),
            },
            TraversalOperator::LegacyIndex(i) => out.push_str(&format!("[{}]", i.value())),
            _ => out.push_str("[*]"),
        }
    }
    out
}

/// The declarations a reference names: `azurerm_x.y` of
/// `azurerm_x.y.id`, `data.azurerm_x.y` of `data.azurerm_x.y.id`.
fn declaration_of(root: &str, operators: &[hcl_edit::Decorated<TraversalOperator>]) -> Option<String> {
    let attr = |i: usize| match operators.get(i).map(|o| o.value()) {
        Some(TraversalOperator::GetAttr(id)) => Some(id.as_str()),
        _ => None,
    };
    match root {
        "var" | "local" | "each" | "count" | "path" | "terraform" | "self" => None,
        "data" => Some(format!("data.{}.{}", attr(0)?, attr(1)?)),
        "module" => Some(format!("module.{}", attr(0)?)),
        _ => Some(format!("{root}.{}", attr(0)?)),
    }
}

/// Every declaration `expr` refers to, anywhere inside it, and through the
/// locals it names (a local holding `azurerm_x.a.id` orders as `azurerm_x.a`).
fn references<'a>(scope: &Scope<'a>, expr: &'a Expression, seen_locals: &mut Vec<&'a str>, out: &mut Vec<String>) {
    use hcl_edit::visit::{Visit, visit_traversal};
    struct Collector<'s, 'a, 'o> {
        scope: &'s Scope<'a>,
        out: &'o mut Vec<String>,
        locals: Vec<&'a str>,
    }
    impl Visit for Collector<'_, '_, '_> {
        fn visit_traversal(&mut self, node: &hcl_edit::expr::Traversal) {
            if let Expression::Variable(root) = &node.expr {
                if let Some(d) = declaration_of(root.as_str(), &node.operators) {
                    self.out.push(d);
                } else if root.as_str() == "local"
                    && let Some(TraversalOperator::GetAttr(name)) = node.operators.first().map(|o| o.value())
                    && let Some((key, _)) = self.scope.locals.get_key_value(name.as_str())
                {
                    self.locals.push(key);
                }
            }
            visit_traversal(self, node);
        }
    }
    let mut collector = Collector { scope, out, locals: Vec::new() };
    collector.visit_expr(expr);
    for name in collector.locals {
        // Each local is followed once: a cycle of locals ends here.
        if seen_locals.contains(&name) || seen_locals.len() > MAX_EVALUATION_DEPTH * 8 {
            continue;
        }
        seen_locals.push(name);
        if let Some(local) = scope.locals.get(name) {
            references(scope, local, seen_locals, out);
        }
    }
}

fn body_references<'a>(scope: &Scope<'a>, body: &'a Body, seen_locals: &mut Vec<&'a str>, out: &mut Vec<String>) {
    for structure in body.iter() {
        match structure {
            Structure::Attribute(a) if a.key.as_str() != "depends_on" => references(scope, &a.value, seen_locals, out),
            Structure::Attribute(_) => {}
            Structure::Block(b) => body_references(scope, &b.body, seen_locals, out),
        }
    }
}

/// The expression at `path` inside an attribute: `body.properties.issuer`
/// follows object keys (and `jsonencode(...)`).
fn find<'e>(body: &'e Body, path: &str) -> Option<&'e Expression> {
    let mut parts = path.split('.');
    let mut expr = &body.get_attribute(parts.next()?)?.value;
    for part in parts {
        if let Expression::FuncCall(call) = expr
            && call.name.name.as_str() == "jsonencode"
            && let Some(arg) = call.args.iter().next()
        {
            expr = arg;
        }
        let Expression::Object(object) = expr else { return None };
        expr = object.iter().find_map(|(k, v)| {
            let key = match k {
                ObjectKey::Ident(id) => id.as_str(),
                ObjectKey::Expression(Expression::String(s)) => s.as_str(),
                _ => return None,
            };
            (key == part).then(|| v.expr())
        })?;
    }
    Some(expr)
}

/// What a resource type is, the attributes read from it, and the
/// attribute naming its identity (credentials).
struct Kind {
    meaning: &'static str,
    paths: &'static [&'static str],
    identity: &'static [&'static str],
}

fn kind_of(kind: &str, azapi_type: Option<&str>) -> Option<Kind> {
    let azapi = |t: &str| azapi_type.is_some_and(|a| a.split('@').next().is_some_and(|x| x.eq_ignore_ascii_case(t)));
    Some(match kind {
        FIC => Kind { meaning: "credential", paths: &["name", "issuer", "subject", "audience"], identity: &["user_assigned_identity_id", "parent_id"] },
        IDENTITY => Kind { meaning: "identity", paths: &["name", "resource_group_name", "location"], identity: &[] },
        CLUSTER => Kind { meaning: "cluster", paths: &["name", "oidc_issuer_enabled", "workload_identity_enabled"], identity: &[] },
        ROLE_ASSIGNMENT => Kind { meaning: "other", paths: &["scope", "role_definition_name", "role_definition_id", "principal_id"], identity: &[] },
        AZAPI if azapi("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials") => Kind {
            meaning: "credential",
            paths: &["type", "name", "body.properties.issuer", "body.properties.subject", "body.properties.audiences"],
            identity: &["parent_id"],
        },
        AZAPI if azapi("Microsoft.ManagedIdentity/userAssignedIdentities") => Kind { meaning: "identity", paths: &["type", "name"], identity: &[] },
        AZAPI if azapi("Microsoft.ContainerService/managedClusters") => Kind {
            meaning: "cluster",
            paths: &["type", "name", "body.properties.oidcIssuerProfile.enabled", "body.properties.securityProfile.workloadIdentity.enabled"],
            identity: &[],
        },
        // Other resources matter only for the order they impose.
        _ => Kind { meaning: "other", paths: &[], identity: &[] },
    })
}

/// What a block waits for: its explicit `depends_on`, then every
/// reference in its body.
fn block_depends_on(scope: &Scope, block: &Block, declaration: &str) -> Vec<String> {
    let mut depends_on = Vec::new();
    if let Some(Expression::Array(items)) = block.body.get_attribute("depends_on").map(|a| &a.value) {
        for item in items.iter() {
            if let Expression::Traversal(t) = item
                && let Expression::Variable(root) = &t.expr
                && let Some(d) = declaration_of(root.as_str(), &t.operators)
            {
                depends_on.push(d);
            }
        }
    }
    body_references(scope, &block.body, &mut Vec::new(), &mut depends_on);
    depends_on.sort();
    depends_on.dedup();
    depends_on.retain(|d| d != declaration);
    depends_on
}

/// A `module` call: its source is not read, which -v says; it stays in
/// the deployment graph, as resources may wait for it.
fn read_module(scope: &Scope, lines: &LineIndex, file: &str, block: &Block, name: &str) -> Resource {
    let declaration = format!("module.{name}");
    let line = block.span().map_or(0, |s| lines.line(s.start));
    let source_line = block.body.get_attribute("source").and_then(|a| a.span()).map_or(line, |s| lines.line(s.start));
    Resource {
        file: file.to_string(),
        line,
        kind: "module".into(),
        address: declaration.clone(),
        scope: file.rsplit_once('/').map_or("", |(dir, _)| dir).to_string(),
        depends_on: block_depends_on(scope, block, &declaration),
        declaration,
        attributes: vec![Attribute {
            path: "source".into(),
            value: Resolved::Unknown("module sources are not followed: lint the module's own directory too".into()),
            line: source_line,
        }],
        expansion: Expansion::Single,
        meaning: Meaning::Other,
        language: Language::Terraform,
    }
}

/// The instances of one `resource` block of a kind this reader knows.
fn read_resource(scope: &Scope, lines: &LineIndex, file: &str, block: &Block, kind: &str, label: &str) -> Vec<Resource> {
    let plain = Evaluator { scope, instance: Instance::default() };
    let azapi_type = block.body.get_attribute("type").and_then(|a| plain.eval(&a.value, 0).value().and_then(Value::as_str).map(str::to_string));
    let Some(spec) = kind_of(kind, azapi_type.as_deref()) else { return Vec::new() };
    let declaration = format!("{kind}.{label}");
    let line = block.span().map_or(0, |s| lines.line(s.start));
    // A module is a directory: its files share one namespace of addresses.
    let module = file.rsplit_once('/').map_or("", |(dir, _)| dir).to_string();

    let depends_on = block_depends_on(scope, block, &declaration);

    // Instances: one per for_each key or count index, when known.
    let mut instances: Vec<(String, Instance)> = Vec::new();
    let mut expansion = Expansion::Single;
    // What -v says about the instances when they are not all read.
    let mut instance_notes: Vec<Attribute> = Vec::new();
    let note = |path: &str, expr: &Expression, value: Resolved| Attribute { path: path.to_string(), value, line: expr.span().map_or(line, |s| lines.line(s.start)) };
    if let Some(for_each) = block.body.get_attribute("for_each") {
        let collection = plain.eval(&for_each.value, 0);
        let pairs: Option<Vec<(Value, Value)>> = match collection.value() {
            Some(Value::Object(map)) => Some(map.iter().map(|(k, v)| (Value::String(k.clone()), v.clone())).collect()),
            Some(Value::Array(items)) => {
                // A set: one instance per distinct value, in Terraform's
                // (lexical) order.
                let mut keys: Vec<(Value, Value)> = items.iter().map(|v| (v.clone(), v.clone())).collect();
                keys.sort_by_key(|(k, _)| k.to_string());
                keys.dedup();
                Some(keys)
            }
            _ => None,
        };
        expansion = Expansion::Instances { over: "for_each".into(), count: pairs.as_ref().map(Vec::len), serial: false };
        if let Resolved::Computed(_) | Resolved::Unknown(_) = &collection {
            instance_notes.push(note("for_each", &for_each.value, collection.clone()));
        }
        if pairs.as_ref().is_some_and(|p| p.len() > MAX_INSTANCES) {
            let n = pairs.as_ref().map_or(0, Vec::len);
            instance_notes.push(note("instances", &for_each.value, Resolved::Unknown(format!("only the first {MAX_INSTANCES} of {n} instances are read"))));
        }
        match pairs {
            Some(pairs) => {
                for (key, value) in pairs.into_iter().take(MAX_INSTANCES) {
                    let shown = match &key {
                        Value::String(s) => format!("[{}]", Value::String(s.clone())),
                        other => format!("[{other}]"),
                    };
                    instances.push((format!("{declaration}{shown}"), Instance { each: Some(Some((key, value))), count: None }));
                }
            }
            None => instances.push((format!("{declaration}[each]"), Instance { each: Some(None), count: None })),
        }
    } else if let Some(count) = block.body.get_attribute("count") {
        let counted = plain.eval(&count.value, 0);
        let n = counted.value().and_then(Value::as_u64).map(|n| n as usize);
        expansion = Expansion::Instances { over: "count".into(), count: n, serial: false };
        if n.is_none() {
            instance_notes.push(note("count", &count.value, counted.clone()));
        } else if n.is_some_and(|n| n > MAX_INSTANCES) {
            instance_notes.push(note("instances", &count.value, Resolved::Unknown(format!("only the first {MAX_INSTANCES} of {} instances are read", n.unwrap_or(0)))));
        }
        match n {
            // Thousands of instances are not written out one by one: the
            // first MAX_INSTANCES say it all, and -v says the rest is not read.
            Some(n) => {
                for i in 0..n.min(MAX_INSTANCES) {
                    instances.push((format!("{declaration}[{i}]"), Instance { each: None, count: Some(Some(i)) }));
                }
            }
            None => instances.push((format!("{declaration}[count]"), Instance { each: None, count: Some(None) })),
        }
    } else {
        instances.push((declaration.clone(), Instance::default()));
    }

    let mut out = Vec::new();
    for (address, instance) in instances {
        let evaluator = Evaluator { scope, instance };
        let mut attributes = Vec::new();
        for path in spec.paths.iter().chain(spec.identity) {
            let Some(expr) = find(&block.body, path) else { continue };
            let at = expr.span().map_or(line, |s| lines.line(s.start));
            attributes.push(Attribute { path: path.to_string(), value: evaluator.eval(expr, 0), line: at });
        }
        attributes.extend(instance_notes.iter().map(|a| Attribute { path: a.path.clone(), value: a.value.clone(), line: a.line }));
        let meaning = match spec.meaning {
            "credential" => {
                let identity = spec.identity.iter().find_map(|path| {
                    attributes.iter().find(|a| a.path == *path).and_then(|a| match &a.value {
                        // `azurerm_user_assigned_identity.app.id`: the identity's address.
                        Resolved::Computed(r) => Some(identity_key(Language::Terraform, &module, r.strip_suffix(".id").unwrap_or(r), None)),
                        Resolved::Known { value: Value::String(id), .. } => crate::objects::identity_name_from_arm_id(id),
                        // `var.identity_id` without a default: credentials
                        // naming the same expression share its identity.
                        Resolved::Unknown(_) => find(&block.body, path).map(|e| identity_key(Language::Terraform, &module, e.to_string().trim(), None)),
                        _ => None,
                    })
                });
                Meaning::Credential { identity }
            }
            "identity" => Meaning::Identity,
            "cluster" => Meaning::Cluster {
                issuer_reference: if kind == AZAPI { format!("{address}.output.properties.oidcIssuerProfile.issuerURL") } else { format!("{address}.oidc_issuer_url") },
            },
            _ => Meaning::Other,
        };
        out.push(Resource {
            file: file.to_string(),
            line,
            kind: kind.to_string(),
            address,
            scope: module.clone(),
            declaration: declaration.clone(),
            attributes,
            depends_on: depends_on.clone(),
            expansion: expansion.clone(),
            meaning,
            language: Language::Terraform,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::Role;

    fn read(text: &str) -> Vec<Object> {
        objects(&SourceFile { name: "main.tf".into(), content: text.into() }).unwrap()
    }

    #[test]
    fn literal_for_each_gives_one_credential_per_key_with_lines() {
        let objects = read(
            r#"variable "issuer" {
  default = "https://example.com/"
}
locals {
  sas = { web = "shop", worker = "jobs" }
}
resource "azurerm_user_assigned_identity" "app" {
  name = "id-app"
}
resource "azurerm_federated_identity_credential" "fic" {
  for_each                  = local.sas
  name                      = "fic-${each.key}"
  user_assigned_identity_id = azurerm_user_assigned_identity.app.id
  issuer                    = var.issuer
  subject                   = "system:serviceaccount:${each.value}:${each.key}"
  audience                  = ["api://AzureADTokenExchange"]
}
"#,
        );
        let fics: Vec<_> = objects
            .iter()
            .filter_map(|o| match &o.role {
                Role::FederatedCredential(f) => Some((o, f)),
                _ => None,
            })
            .collect();
        assert_eq!(fics.len(), 2);
        let (o, f) = fics[0];
        assert_eq!(o.name, "fic[\"web\"]");
        assert_eq!(o.doc.value["address"], "azurerm_federated_identity_credential.fic[\"web\"]");
        assert_eq!(f.subject.as_deref(), Some("system:serviceaccount:shop:web"));
        assert_eq!(f.issuer.as_deref(), Some("https://example.com/"));
        assert_eq!(f.identity.as_deref(), Some("azurerm_user_assigned_identity.app"), "main.tf has no directory");
        assert_eq!(o.doc.line_of(&f.subject_pointer), 15);
        assert_eq!(o.doc.line, 10);
        let iac = f.iac.as_ref().unwrap();
        assert_eq!(iac.depends_on, ["azurerm_user_assigned_identity.app"]);
        assert_eq!(iac.expansion, Expansion::Instances { over: "for_each".into(), count: Some(2), serial: false });
    }

    #[test]
    fn what_is_not_known_is_named_not_guessed() {
        let objects = read(
            r#"resource "azurerm_federated_identity_credential" "fic" {
  name     = "web"
  parent_id = azurerm_user_assigned_identity.app.id
  issuer   = azurerm_kubernetes_cluster.aks.oidc_issuer_url
  subject  = var.subject
  audience = ["api://AzureADTokenExchange"]
}
"#,
        );
        let Role::FederatedCredential(f) = &objects[0].role else { panic!() };
        assert_eq!(f.issuer, None);
        assert_eq!(f.subject, None);
        let not_checked = &objects[0].doc.value["notChecked"];
        assert_eq!(not_checked["subject"]["reason"], "var.subject is not declared in this file");
        assert_eq!(not_checked["subject"]["line"], 5);
        assert_eq!(not_checked["issuer"]["reason"], "azurerm_kubernetes_cluster.aks.oidc_issuer_url is known only after deployment");
        assert_eq!(objects[0].doc.line_of("/notChecked/subject"), 5);
    }

    #[test]
    fn hostile_nesting_and_bad_syntax_are_errors_with_lines() {
        let deep = format!("locals {{\n  x = {}1{}\n}}\n", "[".repeat(100), "]".repeat(100));
        let e = objects(&SourceFile { name: "d.tf".into(), content: deep }).unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (2, "nesting deeper than 64 levels"));
        let e = objects(&SourceFile { name: "b.tf".into(), content: "resource \"a\" {\n  x = \n}\n".into() }).unwrap_err();
        assert!(e.message.starts_with("not valid HCL"), "{e}");
        assert!(e.line >= 2, "{e}");
    }
}
