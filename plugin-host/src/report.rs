//! Output formats: compiler-style text, the JSON report scripts read, SARIF
//! 2.1.0 for code scanning, and the rule catalogue as text or Markdown.

use serde_json::{Value, json};

use crate::host::{Finding, RuleDoc, Severity};

pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

pub fn summarize(findings: &[Finding]) -> Summary {
    let mut s = Summary::default();
    for f in findings {
        match f.severity {
            Severity::Error => s.errors += 1,
            Severity::Warning => s.warnings += 1,
            Severity::Info => s.infos += 1,
        }
    }
    s
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// `file:line: error[WI003]: message` then the fix, then a summary line.
/// Names and values from the input are shown with control characters
/// escaped, so that a manifest cannot write terminal escapes or fake
/// finding lines into a terminal or a CI log.
pub fn text(findings: &[Finding], objects_note: &str) -> String {
    let mut out = String::new();
    for f in findings {
        let object = if f.at.name.is_empty() {
            f.at.kind.clone()
        } else if f.at.namespace.is_empty() {
            format!("{} {}", f.at.kind, f.at.name)
        } else {
            format!("{} {}/{}", f.at.kind, f.at.namespace, f.at.name)
        };
        out.push_str(&format!(
            "{}:{}: {}[{}]: {} ({})\n  fix: {}\n",
            printable(&f.at.file),
            f.at.line,
            severity_name(f.severity),
            f.rule,
            printable(&f.message),
            printable(&object),
            printable(&f.fix)
        ));
    }
    let s = summarize(findings);
    out.push_str(&format!(
        "{}, {}, {}{objects_note}\n",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.infos, "info")
    ));
    out
}

/// Characters that must not reach a terminal line as they are: controls
/// (line breaks, escape sequences, C1), Unicode line and paragraph
/// separators, the bidirectional marks that make a line read in another
/// order than it is written, and invisible characters (zero-width, soft
/// hyphen, byte order mark) that make two texts look alike.
pub fn is_unsafe_in_a_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{00ad}' | '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// `text` with the characters of [`is_unsafe_in_a_line`] written as Rust
/// escapes (`\n`, `\u{1b}`, `\u{202e}`).
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe_in_a_line) {
        return std::borrow::Cow::Borrowed(text);
    }
    let escaped = |c: char| if c.is_control() { c.escape_debug().to_string() } else { c.escape_unicode().to_string() };
    std::borrow::Cow::Owned(text.chars().map(|c| if is_unsafe_in_a_line(c) { escaped(c) } else { c.to_string() }).collect())
}

/// A location as the JSON outputs of audit and migrate give it.
pub fn location_json(l: &crate::host::Location) -> Value {
    json!({"file": l.file, "line": l.line, "kind": l.kind, "namespace": l.namespace, "name": l.name})
}

pub fn json(findings: &[Finding]) -> Value {
    let s = summarize(findings);
    json!({
        "findings": findings.iter().map(|f| json!({
            "rule": f.rule,
            "severity": severity_name(f.severity),
            "message": f.message,
            "fix": f.fix,
            "file": f.at.file,
            "line": f.at.line,
            "kind": f.at.kind,
            "namespace": f.at.namespace,
            "name": f.at.name,
        })).collect::<Vec<_>>(),
        "summary": {"errors": s.errors, "warnings": s.warnings, "infos": s.infos},
    })
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Characters a URI path may hold as they are (RFC 3986 `pchar` and `/`):
/// unreserved, sub-delims, `:` and `@`. Everything else is percent-encoded.
fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b)
}

fn percent_encode_path(path: &str, out: &mut String) {
    for &b in path.as_bytes() {
        if is_path_char(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// A file name as a SARIF `artifactLocation` (2.1.0 §3.4): its `uri` must be
/// a valid URI reference. Relative names stay relative (GitHub resolves them
/// against the checkout) with a leading `./` dropped and anything outside
/// RFC 3986 path characters percent-encoded; a `:` in the first segment too,
/// where it would read as a scheme. Absolute names become `file:///` URIs.
/// Standard input has no URI; it gets the relative reference `stdin` and a
/// description saying what it is.
pub fn sarif_artifact_location(file: &str) -> Value {
    if file == crate::inputs::STDIN_NAME {
        return json!({"uri": "stdin", "description": {"text": "standard input"}});
    }
    let mut uri = String::new();
    if file.starts_with('/') {
        uri.push_str("file://");
        percent_encode_path(file, &mut uri);
    } else {
        let mut relative = file;
        while let Some(rest) = relative.strip_prefix("./") {
            relative = rest.trim_start_matches('/');
        }
        let (first, rest) = relative.split_at(relative.find('/').unwrap_or(relative.len()));
        percent_encode_path(first, &mut uri);
        uri = uri.replace(':', "%3A");
        percent_encode_path(rest, &mut uri);
    }
    json!({"uri": uri})
}

/// SARIF 2.1.0 as GitHub code scanning reads it: one run, the full rule
/// catalogue with help text, results with a file URI relative to the
/// working directory (see [`sarif_artifact_location`]) and a 1-based start
/// line. `failures` (rule plugins that failed) become tool execution
/// notifications of an unsuccessful invocation.
pub fn sarif(findings: &[Finding], rules: &[RuleDoc], failures: &[String]) -> Value {
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule,
                "ruleIndex": rules.iter().position(|r| r.code == f.rule).unwrap_or(0),
                "level": sarif_level(f.severity),
                "message": {"text": sarif_text(&f.message, &f.fix)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": sarif_artifact_location(&f.at.file),
                        "region": {"startLine": f.at.line.max(1)},
                    }
                }],
            })
        })
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "kubectl-wi",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/wi-policy/wi-policy",
            "rules": rules.iter().map(|r| json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.summary},
                "help": {"text": r.documentation, "markdown": r.documentation},
                "defaultConfiguration": {"level": sarif_level(r.severity)},
            })).collect::<Vec<_>>(),
        }},
        "results": results,
    });
    if !failures.is_empty() {
        run["invocations"] = json!([{
            "executionSuccessful": false,
            "toolExecutionNotifications": failures.iter().map(|f| json!({"level": "error", "message": {"text": f}})).collect::<Vec<_>>(),
        }]);
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

pub fn rules_text(rules: &[RuleDoc]) -> String {
    rules
        .iter()
        .map(|r| format!("{}  {:<8} {:<32} {}\n", r.code, severity_name(r.severity), r.name, r.summary))
        .collect()
}

pub fn explain(rule: &RuleDoc) -> String {
    format!(
        "{} {} ({})\n{}\n\n{}",
        rule.code,
        rule.name,
        severity_name(rule.severity),
        rule.summary,
        rule.documentation.trim_end()
    ) + "\n"
}

/// The README's rule section: a table, then every rule's documentation.
pub fn rules_markdown(rules: &[RuleDoc]) -> String {
    let mut out = String::from("| Code | Severity | Name | What it catches |\n|---|---|---|---|\n");
    for r in rules {
        out.push_str(&format!("| [{}](#{}) | {} | `{}` | {} |\n", r.code, r.code.to_lowercase(), severity_name(r.severity), r.name, r.summary.replace('|', "\\|")));
    }
    for r in rules {
        out.push_str(&format!("\n### {}\n\n**{}** ({}): {}\n\n", r.code, r.name, severity_name(r.severity), r.summary));
        // Demote the rule's own sections under the rule heading.
        for line in r.documentation.trim_end().lines() {
            if let Some(h) = line.strip_prefix("## ") {
                out.push_str(&format!("#### {h}\n"));
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(file: &str) -> String {
        sarif_artifact_location(file)["uri"].as_str().unwrap().to_string()
    }

    #[test]
    fn artifact_uris_are_uri_references() {
        assert_eq!(uri("bundles/examples/good/app.yaml"), "bundles/examples/good/app.yaml");
        assert_eq!(uri("./k8s/app.yaml"), "k8s/app.yaml");
        assert_eq!(uri("k8s/my app#1 100%.yaml"), "k8s/my%20app%231%20100%25.yaml");
        assert_eq!(uri("../x/a?b[1].yaml"), "../x/a%3Fb%5B1%5D.yaml");
        assert_eq!(uri("café.yaml"), "caf%C3%A9.yaml");
        // A colon before the first slash would make `a` a scheme.
        assert_eq!(uri("a:b/c:d.yaml"), "a%3Ab/c:d.yaml");
        assert_eq!(uri("/tmp/my app/x.yaml"), "file:///tmp/my%20app/x.yaml");
        assert_eq!(uri("<stdin>"), "stdin");
    }
}

/// A finding's message and fix as one SARIF text: a sentence break between
/// them unless the message ends one.
fn sarif_text(message: &str, fix: &str) -> String {
    let stop = if message.ends_with(['.', '!', '?']) { "" } else { "." };
    format!("{message}{stop} Fix: {fix}")
}
