//! The generator page's exports: generate, lint, mutate, the rule catalogue.

use serde_json::{Value, json};
use wasm_bindgen::prelude::wasm_bindgen;
use wi_core::generate::{self, Request};
use wi_core::SourceFile;
use wi_core::options::{LintFlags, MutateFlags};

fn generate_errors(errors: Vec<generate::GenerateError>) -> Value {
    json!({"errors": errors.into_iter().map(|e| json!({"field": e.field, "file": e.file, "line": e.line, "message": e.message})).collect::<Vec<_>>()})
}

/// `{"artifacts": [{format, fileName, content}], "notes": [...]}` or
/// `{"errors": [{field, file, line, message}]}` for one spec (the form's
/// values, camelCase as `--spec` takes them) and one format name (or `all`).
#[wasm_bindgen]
pub fn generate(spec_json: &str, format: &str) -> String {
    let request = match Request::from_text(None, None, spec_json, &[format.to_string()]) {
        Ok(r) => r,
        Err(e) => return generate_errors(e).to_string(),
    };
    match generate::generate(&request) {
        Ok(g) => json!({
            "artifacts": g.artifacts.iter().map(|a| json!({"format": a.format.name(), "fileName": a.file_name, "content": a.content})).collect::<Vec<_>>(),
            "notes": g.notes,
        })
        .to_string(),
        Err(e) => generate_errors(e).to_string(),
    }
}

fn input_errors(errors: Vec<wi_core::InputError>) -> Value {
    json!({"inputErrors": errors.into_iter().map(|e| json!({"file": e.file, "line": e.line, "column": e.column, "message": e.message})).collect::<Vec<_>>()})
}

/// The options of a JSON object of flags (lint's and mutate's flags in
/// camelCase, read by the core's `LintFlags`/`MutateFlags`), or what is
/// wrong with them as `{"optionError": {field, message}}`.
fn flags<Flags: Default, Options>(
    options: Option<String>,
    read: fn(&Value) -> Result<Flags, String>,
    check: fn(Flags) -> Result<Options, wi_core::options::OptionError>,
) -> Result<Options, String> {
    let refuse = |message: String| json!({"optionError": {"field": "", "message": message}}).to_string();
    let flags = match options.as_deref().map(str::trim) {
        None | Some("") => Flags::default(),
        Some(text) => read(&serde_json::from_str(text).map_err(|e| refuse(e.to_string()))?).map_err(refuse)?,
    };
    check(flags).map_err(|e| json!({"optionError": {"field": e.field, "message": e.message}}).to_string())
}

/// What `kubectl wi lint -o json` prints for one pasted text
/// (`{"findings": [...], "summary": {...}}`), or `{"inputErrors": [...]}`.
/// `options`: lint's flags as JSON (`{"issuer": ..., "tenantId": ...}`).
#[wasm_bindgen]
pub fn lint(name: &str, content: &str, options: Option<String>) -> String {
    let options = match flags(options, LintFlags::from_json, LintFlags::options) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let files = [SourceFile { name: name.into(), content: content.into() }];
    match wi_core::lint(&files, &options) {
        Ok(findings) => wi_core::lint_json(&findings).to_string(),
        Err(e) => input_errors(e).to_string(),
    }
}

/// The pasted objects as the webhook would mutate them, as the YAML
/// `kubectl wi mutate` prints: `{"yaml": "..."}`, `{"inputErrors": [...]}`
/// or `{"refusals": [{line, message}]}`. `options`: mutate's flags as JSON.
#[wasm_bindgen]
pub fn mutate(name: &str, content: &str, options: Option<String>) -> String {
    let options = match flags(options, MutateFlags::from_json, MutateFlags::options) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let files = [SourceFile { name: name.into(), content: content.into() }];
    match wi_core::mutate(&files, &options) {
        Ok(objects) => {
            let values: Vec<Value> = objects.into_iter().map(|o| o.object).collect();
            json!({"yaml": wi_core::render::yaml_stream(&values)}).to_string()
        }
        Err(wi_core::MutateFailure::Input(e)) => input_errors(e).to_string(),
        Err(wi_core::MutateFailure::Mutation(e)) => {
            json!({"refusals": e.into_iter().map(|e| json!({"line": e.at.line, "message": e.message})).collect::<Vec<_>>()}).to_string()
        }
    }
}

/// The rule catalogue: `[{code, name, severity, summary}]`.
#[wasm_bindgen]
pub fn rules() -> String {
    Value::Array(wi_core::RULES.iter().map(|r| json!({"code": r.code, "name": r.name, "severity": r.severity.as_str(), "summary": r.summary})).collect()).to_string()
}
