//! The core as an Extism plugin. Every export takes JSON and returns JSON;
//! each answer is the object `kubectl wi` prints for the same input (`lint`
//! as `lint -o json`, `mutate` as `mutate -o json`, `rules` as `rules -o
//! json`), and bad input is a plugin error carrying the lines the CLI prints
//! on stderr, with the CLI's exit status as the error's return code.
//! Only translation lives here.

use extism_pdk::{Error, FnResult, WithReturnCode, plugin_fn, warn};
use serde::Deserialize;
use serde_json::{Value, json};
use wi_core::options::{LintFlags, MutateFlags, OptionError};
use wi_core::{InputError, SourceFile};

/// The CLI's exit statuses, as the plugin's error codes.
const EXIT_FINDINGS: i32 = 1;
const EXIT_INPUT: i32 = 2;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    path: String,
    content: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ExplainRequest {
    /// `WI003`, `AADSTS70021` (or `70021`), or `token`.
    topic: String,
    #[serde(default)]
    token: Option<File>,
    #[serde(default)]
    credentials: Vec<File>,
    #[serde(default)]
    jwks: Option<File>,
    #[serde(default)]
    now: Option<String>,
    /// The host's clock (Unix seconds) when `now` is not given: the
    /// plugin has no clock of its own.
    #[serde(default)]
    clock: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenerateRequest {
    /// The spec `kubectl wi generate --spec` reads (camelCase fields).
    spec: Value,
    /// `yaml`, `aso`, `az`, `bicep`, `arm`, `terraform` or `all`.
    #[serde(default = "all")]
    format: String,
}

fn all() -> String {
    "all".into()
}

fn fail<T>(message: impl Into<String>, code: i32) -> FnResult<T> {
    Err(WithReturnCode::new(Error::msg(message.into()), code))
}

/// Input that is not the JSON an export takes.
fn refuse<T>(e: serde_json::Error) -> FnResult<T> {
    fail(format!("kubectl wi: error: the plugin's input: {e}"), EXIT_INPUT)
}

fn parse<T: serde::de::DeserializeOwned>(input: &str) -> FnResult<T> {
    serde_json::from_str(input).or_else(refuse)
}

/// As the CLI reads each file once however often it is named, a path
/// given twice counts once (the first content).
fn files(files: Vec<File>) -> Vec<SourceFile> {
    let mut seen = std::collections::HashSet::new();
    files.into_iter().filter(|f| seen.insert(f.path.clone())).map(|f| SourceFile { name: f.path, content: f.content }).collect()
}

/// `PATH[:LINE[:COL]]: error: MESSAGE`, as the CLI prints input errors.
fn input_errors<T>(errors: Vec<InputError>) -> FnResult<T> {
    let lines: Vec<String> = errors
        .iter()
        .map(|e| match (e.line, e.column) {
            (0, _) => format!("{}: error: {}", e.file, e.message),
            (line, 0) => format!("{}:{line}: error: {}", e.file, e.message),
            (line, column) => format!("{}:{line}:{column}: error: {}", e.file, e.message),
        })
        .collect();
    fail(lines.join("\n"), EXIT_INPUT)
}

/// `kubectl wi: error: --tenant-id: ...`: the option named as the CLI's flag.
fn option_error<T>(e: OptionError) -> FnResult<T> {
    let key = e.field.split('.').next().unwrap_or(&e.field);
    let mut flag = String::from("--");
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            flag.push('-');
        }
        flag.push(c.to_ascii_lowercase());
    }
    match e.field.split_once('.') {
        Some((_, entry)) => fail(format!("kubectl wi: error: {flag}: {entry}: {}", e.message), EXIT_INPUT),
        None => fail(format!("kubectl wi: error: {flag}: {}", e.message), EXIT_INPUT),
    }
}

/// `lint`'s and `mutate`'s input: `files`, and the command's flags read by
/// `read_flags` (the core's `LintFlags::from_json` or `MutateFlags::from_json`).
fn request<Flags>(input: &str, read_flags: fn(&Value) -> Result<Flags, String>) -> FnResult<(Vec<SourceFile>, Flags)> {
    let mut value: Value = serde_json::from_str(input).or_else(refuse)?;
    let Some(fields) = value.as_object_mut() else {
        return fail("kubectl wi: error: the plugin's input: expected an object with `files`", EXIT_INPUT);
    };
    let Some(listed) = fields.remove("files") else {
        return fail("kubectl wi: error: the plugin's input: missing field `files`", EXIT_INPUT);
    };
    let listed: Vec<File> = serde_json::from_value(listed).or_else(refuse)?;
    match read_flags(&value) {
        Ok(flags) => Ok((files(listed), flags)),
        Err(e) => fail(format!("kubectl wi: error: the plugin's input: {e}"), EXIT_INPUT),
    }
}

#[plugin_fn]
pub fn lint(input: String) -> FnResult<String> {
    let (files, flags) = request(&input, LintFlags::from_json)?;
    let options = match flags.options() {
        Ok(o) => o,
        Err(e) => return option_error(e),
    };
    match wi_core::lint(&files, &options) {
        Ok(findings) => Ok(wi_core::lint_json(&findings).to_string()),
        Err(errors) => input_errors(errors),
    }
}

#[plugin_fn]
pub fn mutate(input: String) -> FnResult<String> {
    let (files, flags) = request(&input, MutateFlags::from_json)?;
    let options = match flags.options() {
        Ok(o) => o,
        Err(e) => return option_error(e),
    };
    match wi_core::mutate(&files, &options) {
        Ok(objects) => {
            for warning in objects.iter().flat_map(|o| &o.warnings) {
                warn!("kubectl wi: warning: {warning}");
            }
            let items: Vec<Value> = objects.into_iter().map(|o| o.object).collect();
            Ok(json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string())
        }
        Err(wi_core::MutateFailure::Input(errors)) => input_errors(errors),
        Err(wi_core::MutateFailure::Mutation(errors)) => {
            let lines: Vec<String> = errors
                .iter()
                .map(|e| format!("{}:{}: error: {} {}/{}: the webhook would refuse this pod: {}", e.at.file, e.at.line, e.at.kind, e.at.namespace, e.at.name, e.message))
                .collect();
            fail(lines.join("\n"), EXIT_FINDINGS)
        }
    }
}

fn rule_json(r: &wi_core::Rule) -> Value {
    json!({"code": r.code, "name": r.name, "severity": r.severity.as_str(), "summary": r.summary, "documentation": r.doc})
}

#[plugin_fn]
pub fn rules(_input: Vec<u8>) -> FnResult<String> {
    Ok(Value::Array(wi_core::RULES.iter().map(rule_json).collect()).to_string())
}

/// `{"topic": "WI003"}` gives the rule; `{"topic": "AADSTS70021"}` gives
/// `{"code", "text"}` as `kubectl wi explain` prints it; `{"topic":
/// "token", "token": {path, content}, "credentials": [...], "jwks": ...,
/// "now": ...}` gives `{"exit", "text", "report"}`: the exit status, the
/// text and the `-o json` report of `kubectl wi explain token`.
#[plugin_fn]
pub fn explain(input: String) -> FnResult<String> {
    let request: ExplainRequest = parse(&input)?;
    let topic = request.topic.trim();
    let token_fields = request.token.is_some() || !request.credentials.is_empty() || request.jwks.is_some() || request.now.is_some();
    if topic != "token" && token_fields {
        return fail("kubectl wi: error: a file, --fic, --jwks and --now go with `explain token` only", EXIT_INPUT);
    }
    if topic == "token" {
        // The plugin has no clock: the host gives the time to judge at.
        if request.now.is_none() && request.clock.is_none() {
            return fail("kubectl wi: error: `explain token` needs `now` (RFC 3339) or `clock` (the host's Unix seconds): the plugin has no clock", EXIT_INPUT);
        }
        let Some(token) = request.token else {
            return fail("kubectl wi: error: `explain token` needs the token file (or `-` for standard input)", EXIT_INPUT);
        };
        let request = wi_core::explain::token::Request {
            token: SourceFile { name: token.path, content: token.content },
            credentials: files(request.credentials),
            jwks: request.jwks.map(|f| SourceFile { name: f.path, content: f.content }),
            now: request.now,
            clock: request.clock.unwrap_or(0),
        };
        return match wi_core::explain::token::explain(&request) {
            Ok(report) => Ok(json!({"exit": report.exit, "text": report.text, "report": report.json}).to_string()),
            Err(errors) => input_errors(errors),
        };
    }
    // As the CLI tells the topics apart: `AADSTS…` or digits is an Entra
    // code, anything else a rule.
    let aadsts = topic.len() > 6 && topic[..6].eq_ignore_ascii_case("AADSTS") || !topic.is_empty() && topic.bytes().all(|b| b.is_ascii_digit());
    if aadsts {
        return match wi_core::explain::aadsts::find(topic) {
            Ok(entry) => Ok(json!({"code": entry.code, "text": wi_core::explain::aadsts::render(entry)}).to_string()),
            Err(message) => fail(format!("kubectl wi: error: {message}"), EXIT_INPUT),
        };
    }
    match wi_core::rules::find(topic) {
        Some(rule) => Ok(rule_json(rule).to_string()),
        None => fail(
            format!("kubectl wi: error: no rule {topic:?}; `kubectl wi rules` lists them (or explain an AADSTS code, or `token FILE`)"),
            EXIT_INPUT,
        ),
    }
}

/// `{"spec": {...}, "format": "yaml"}` gives `{"artifacts": [{format,
/// fileName, content}], "notes": [...]}`, the files `kubectl wi generate`
/// writes.
#[plugin_fn]
pub fn generate(input: String) -> FnResult<String> {
    use wi_core::generate::{self, Request};
    let request: GenerateRequest = parse(&input)?;
    let errors = |errors: Vec<generate::GenerateError>| -> FnResult<String> {
        let lines: Vec<String> = errors.iter().map(|e| format!("kubectl wi: error: {}: {}", e.field, e.message)).collect();
        fail(lines.join("\n"), EXIT_INPUT)
    };
    let request = match Request::from_text(None, None, &request.spec.to_string(), &[request.format]) {
        Ok(r) => r,
        Err(e) => return errors(e),
    };
    match generate::generate(&request) {
        Ok(g) => Ok(json!({
            "artifacts": g.artifacts.iter().map(|a| json!({"format": a.format.name(), "fileName": a.file_name, "content": a.content})).collect::<Vec<_>>(),
            "notes": g.notes,
        })
        .to_string()),
        Err(e) => errors(e),
    }
}
