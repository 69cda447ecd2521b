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
            "{}:{}: {}[{}]: {} ({object})\n  fix: {}\n",
            f.at.file,
            f.at.line,
            severity_name(f.severity),
            f.rule,
            f.message,
            f.fix
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

/// SARIF 2.1.0 as GitHub code scanning reads it: one run, the full rule
/// catalogue with help text, results with a file URI relative to the
/// working directory and a 1-based start line.
pub fn sarif(findings: &[Finding], rules: &[RuleDoc]) -> Value {
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let uri = f.at.file.trim_start_matches("./");
            json!({
                "ruleId": f.rule,
                "ruleIndex": rules.iter().position(|r| r.code == f.rule).unwrap_or(0),
                "level": sarif_level(f.severity),
                "message": {"text": format!("{} Fix: {}", f.message, f.fix)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": if uri == "<stdin>" { "stdin" } else { uri }},
                        "region": {"startLine": f.at.line.max(1)},
                    }
                }],
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
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
        }],
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
