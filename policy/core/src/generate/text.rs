//! Quoting for each output language. Every value written into a script or
//! template goes through one of these, so a value can never end a string
//! early, whatever it holds.

/// A bash word: `'...'`, with `'` written as `'\''`.
pub fn bash(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A Bicep string literal: `'...'` with `\`, `'` and `${` escaped.
pub fn bicep(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str(r"\\"),
            '\'' => out.push_str(r"\'"),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str(r"\$"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An HCL string literal: JSON-style escapes plus `${` and `%{`, which
/// start a template in HCL.
pub fn hcl(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    json.replace("${", "$${").replace("%{", "%%{")
}

/// An ARM template string that is a literal, never an expression: a
/// leading `[` is doubled (ARM's escape).
pub fn arm_literal(s: &str) -> String {
    if s.starts_with('[') { format!("[{s}") } else { s.to_string() }
}

/// A string inside an ARM template expression: `'...'` with `'` doubled.
pub fn arm_expr(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// An identifier for Terraform labels and Bicep symbols: letters, digits
/// and `_`, starting with a letter.
pub fn identifier(prefix: &str, s: &str) -> String {
    let body: String = s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    format!("{prefix}_{body}")
}

/// 8 hex digits of `text`'s SHA-256: what a shortened name keeps so that
/// two shortened names never meet.
pub fn short_hash(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(bash("it's"), r"'it'\''s'");
        assert_eq!(bicep(r"a'b\c${x}$y"), r"'a\'b\\c\${x}$y'");
        assert_eq!(hcl("a\"${b}%{c}"), r#""a\"$${b}%%{c}""#);
        assert_eq!(arm_literal("[x]"), "[[x]");
        assert_eq!(arm_expr("o'k"), "'o''k'");
        assert_eq!(identifier("fic", "my-ns.sa"), "fic_my_ns_sa");
    }
}
