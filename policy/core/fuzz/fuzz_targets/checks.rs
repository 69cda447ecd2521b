//! What must hold for any input, shared by the fuzz targets and the corpus
//! replay in `policy/core/tests/fuzz_corpus.rs`. Each check panics on a
//! broken invariant, which is how a fuzzer (and a test) sees a failure.

use serde_json::Value;
use wi_core::admission::{ServiceAccountLookup, Settings};
use wi_core::{LintOptions, MutateOptions, SourceFile};

/// Any bytes as a manifest file: the quick YAML reader reads what granit
/// reads wherever it reads at all; lint and mutate never panic, every
/// finding's line exists in the file, and mutating the mutated objects
/// again changes nothing.
pub fn read_manifests(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(difference) = wi_core::source::check_quick_reader(text) {
        panic!("the quick YAML reader and granit disagree: {difference}");
    }
    let file = SourceFile { name: "fuzz.yaml".into(), content: text.to_string() };
    // YAML ends a line at LF, CRLF or a lone CR (as editors do); JSON
    // counts LF only, which is never more.
    let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count() as u32;
    let lint_options = LintOptions { default_namespace: "default".into(), ..Default::default() };
    if let Ok(findings) = wi_core::lint(std::slice::from_ref(&file), &lint_options) {
        for f in &findings {
            assert!(f.at.line <= lines, "finding {} at line {} of a {lines}-line file", f.rule, f.at.line);
        }
    }
    let mutate_options = MutateOptions { default_namespace: "default".into(), ..Default::default() };
    if let Ok(mutated) = wi_core::mutate(std::slice::from_ref(&file), &mutate_options) {
        let again: Vec<Value> = mutated.iter().map(|m| m.object.clone()).collect();
        let text = serde_json::to_string(&Value::Array(again.clone())).expect("values serialize");
        let file = SourceFile { name: "again.json".into(), content: text };
        if let Ok(twice) = wi_core::mutate(std::slice::from_ref(&file), &mutate_options) {
            let twice: Vec<Value> = twice.into_iter().map(|m| m.object).collect();
            assert_eq!(twice, again, "mutation is not idempotent");
        }
    }
}

/// Any bytes as a Kubewarden validation request: settings are checked and
/// the request reviewed without panicking, whatever the lookup answered.
pub fn admission_request(data: &[u8]) {
    let Ok(request) = serde_json::from_slice::<Value>(data) else { return };
    let settings = request.get("settings").map(Value::to_string).unwrap_or_default();
    let Ok(policy) = Settings::from_json(settings.as_bytes()).and_then(Settings::validate) else { return };
    let Some(admission) = request.get("request").filter(|r| r.is_object()) else { return };
    let _ = wi_core::admission::service_account_to_look_up(admission);
    for lookup in [ServiceAccountLookup::NotNeeded, ServiceAccountLookup::NotFound] {
        let _ = policy.review(admission, lookup);
    }
}
