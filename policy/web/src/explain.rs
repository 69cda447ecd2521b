//! The token pane's exports: `explain token` and `explain AADSTS`.

use serde_json::json;
use wasm_bindgen::prelude::wasm_bindgen;
use wi_core::SourceFile;

/// `kubectl wi explain token token --fic credentials [--now NOW]` for a
/// pasted JWT and pasted credentials (`az identity federated-credential
/// list` JSON or ASO YAML; empty for none), the sources named `token` and
/// `credentials`, judged at `now` (RFC 3339; empty: `clock_seconds`, the
/// page's clock): `{"text", "report", "exit"}` as the CLI prints and exits,
/// or `{"errors": [{file, line, column, message}]}` (the CLI's exit 2).
#[wasm_bindgen(js_name = explainToken)]
pub fn explain_token(token: &str, credentials: &str, now: &str, clock_seconds: f64) -> String {
    let request = wi_core::explain::token::Request {
        token: SourceFile { name: "token".into(), content: token.into() },
        credentials: if credentials.trim().is_empty() {
            Vec::new()
        } else {
            vec![SourceFile { name: "credentials".into(), content: credentials.into() }]
        },
        jwks: None,
        // Only an empty field means "now": spaces are a bad time, as `--now " "` is.
        now: (!now.is_empty()).then(|| now.to_string()),
        clock: clock_seconds as i64,
    };
    match wi_core::explain::token::explain(&request) {
        Ok(report) => json!({"text": report.text, "report": report.json, "exit": report.exit}),
        Err(errors) => json!({"errors": errors.into_iter().map(|e| json!({"file": e.file, "line": e.line, "column": e.column, "message": e.message})).collect::<Vec<_>>()}),
    }
    .to_string()
}

/// `kubectl wi explain AADSTS70021` (or the bare number): `{"code", "text"}`,
/// or `{"error"}` for a code the knowledge base does not hold.
#[wasm_bindgen(js_name = explainAadsts)]
pub fn explain_aadsts(code: &str) -> String {
    match wi_core::explain::aadsts::find(code) {
        Ok(entry) => json!({"code": entry.code, "text": wi_core::explain::aadsts::render(entry)}),
        Err(message) => json!({"error": message}),
    }
    .to_string()
}
