//! Plain YAML scalars resolved the way `kubectl` resolves them.
//!
//! kubectl reads manifests with `sigs.k8s.io/yaml`, which uses go-yaml v2:
//! YAML 1.1 rules, not YAML 1.2's. `0400` is octal (256), `0x1E` hex, `1_000`
//! a thousand, `yes`/`on`/`y` booleans (as keys too). A reader that follows
//! YAML 1.2 instead sees `0400` as 400 and silently widens a secret's file
//! mode, so every plain scalar the parser infers is resolved again here from
//! its source text. The rules follow go-yaml v2's `resolve.go`: an exact
//! table of booleans and nulls, then Go's `strconv.ParseInt(s, 0, 64)` after
//! removing underscores, `ParseUint`, a decimal float pattern, and `0b`
//! binary. Timestamps stay strings, as go-yaml keeps them when the target is
//! untyped.

use serde_json::{Number, Value};

/// What a plain scalar means to kubectl.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Value(Value),
    /// `.inf`, `.nan` and friends: go-yaml reads them, but JSON (and so the
    /// API server) cannot hold them.
    NotFinite,
}

/// Resolves the text of one plain (unquoted, untagged) scalar.
pub fn resolve_plain(text: &str) -> Resolved {
    let value = |v: Value| Resolved::Value(v);
    let Some(&first) = text.as_bytes().first() else {
        return value(Value::Null);
    };
    let hint = match first {
        b'+' | b'-' | b'0'..=b'9' => Hint::Number,
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => Hint::Table,
        b'.' => Hint::Dot,
        _ => return value(Value::String(text.to_string())),
    };
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => return value(Value::Bool(true)),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return value(Value::Bool(false));
        }
        "~" | "null" | "Null" | "NULL" => return value(Value::Null),
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" => {
            return Resolved::NotFinite;
        }
        _ => {}
    }
    let number = match hint {
        Hint::Table => None,
        // Go's ParseFloat on the text as written (no underscore removal).
        Hint::Dot => go_decimal_float(text).map(Value::Number),
        Hint::Number => resolve_number(&text.replace('_', "")),
    };
    value(number.unwrap_or_else(|| Value::String(text.to_string())))
}

enum Hint {
    Number,
    Table,
    Dot,
}

fn resolve_number(plain: &str) -> Option<Value> {
    if let Some(i) = go_parse_int(plain) {
        return Some(Value::Number(i.into()));
    }
    if let Some(u) = go_parse_uint(plain) {
        return Some(Value::Number(u.into()));
    }
    if is_yaml_style_float(plain) {
        if let Some(n) = go_decimal_float(plain) {
            return Some(Value::Number(n));
        }
    }
    // go-yaml's own binary forms, for values ParseInt did not take.
    let (negative, digits) = match plain.strip_prefix("-0b") {
        Some(d) => (true, d),
        None => (false, plain.strip_prefix("0b")?),
    };
    let magnitude = u64::from_str_radix(digits, 2).ok().filter(|_| !digits.starts_with(['+', '-']))?;
    if negative {
        let i = i64::try_from(magnitude).ok()?;
        Some(Value::Number((-i).into()))
    } else {
        Some(Value::Number(magnitude.into()))
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i;
    if b.first() == Some(&b'.') {
        let n = digits(1);
        if n == 0 {
            return false;
        }
        i = 1 + n;
    } else {
        let n = digits(0);
        if n == 0 {
            return false;
        }
        i = n;
        if b.get(i) == Some(&b'.') {
            i += 1 + digits(i + 1);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return false;
        }
        i += n;
    }
    i == b.len()
}

/// A decimal float as Go's `ParseFloat` reads it; `None` for text it
/// refuses or for a value JSON cannot hold.
fn go_decimal_float(s: &str) -> Option<Number> {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    // Rust also reads `inf` and `nan`; Go's forms of those never reach here
    // (they do not start with a digit, sign-digit or dot-digit).
    if !unsigned.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    Number::from_f64(v)
}

/// Splits Go's base prefix: `0x`, `0o`, `0b`, or a leading `0` (octal).
fn go_radix(s: &str) -> (u32, &str) {
    let lower = |p: &str| s.get(..2).is_some_and(|head| head.eq_ignore_ascii_case(p));
    if lower("0x") {
        (16, &s[2..])
    } else if lower("0o") {
        (8, &s[2..])
    } else if lower("0b") {
        (2, &s[2..])
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    }
}

fn go_parse_digits(s: &str) -> Option<u64> {
    let (radix, digits) = go_radix(s);
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// `strconv.ParseInt(s, 0, 64)`.
fn go_parse_int(s: &str) -> Option<i64> {
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = go_parse_digits(rest)?;
    if negative {
        if magnitude == 1 << 63 { Some(i64::MIN) } else { i64::try_from(magnitude).ok().map(|m| -m) }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `strconv.ParseUint(s, 0, 64)`: no sign allowed.
fn go_parse_uint(s: &str) -> Option<u64> {
    if s.starts_with(['+', '-']) {
        return None;
    }
    go_parse_digits(s)
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`: how sigs.k8s.io/yaml names a
/// float map key (`2.0` -> `2`, `1e7` -> `1e+07`, `3.14159265` -> `3.1415927`).
pub fn go_format_float32_g(f: f64) -> String {
    let x = f as f32;
    if x == 0.0 {
        return if x.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // Shortest digits that read back as the same f32, and the exponent.
    let sci = format!("{x:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // With the shortest precision Go switches to %e when the exponent is
    // below -4 or at least 6.
    if !(-4..6).contains(&exponent) {
        let mut m = digits[..1].to_string();
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let (es, ev) = if exponent < 0 { ('-', -exponent) } else { ('+', exponent) };
        return format!("{sign}{m}e{es}{ev:02}");
    }
    let point = exponent + 1;
    let text = if point <= 0 {
        format!("0.{}{}", "0".repeat((-point) as usize), digits)
    } else if point as usize >= digits.len() {
        format!("{}{}", digits, "0".repeat(point as usize - digits.len()))
    } else {
        format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
    };
    format!("{sign}{text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(text: &str) -> Value {
        match resolve_plain(text) {
            Resolved::Value(v) => v,
            Resolved::NotFinite => json!("NOT FINITE"),
        }
    }

    /// Each expectation is what `kubectl label --local -f F k=v -o json`
    /// printed for the plain scalar (checked with kubectl 1.3x; the CLI tests
    /// repeat the comparison against the installed kubectl).
    #[test]
    fn numbers_as_go_yaml_v2_reads_them() {
        assert_eq!(r("0400"), json!(256));
        assert_eq!(r("0777"), json!(511));
        assert_eq!(r("0x1E"), json!(30));
        assert_eq!(r("0X1e"), json!(30));
        assert_eq!(r("1_000"), json!(1000));
        assert_eq!(r("1__0"), json!(10));
        assert_eq!(r("1_"), json!(1));
        assert_eq!(r("0x_1F"), json!(31));
        assert_eq!(r("+12"), json!(12));
        assert_eq!(r("-0"), json!(0));
        assert_eq!(r("0o17"), json!(15));
        assert_eq!(r("0b101"), json!(5));
        assert_eq!(r("-0b101"), json!(-5));
        assert_eq!(r("08"), json!(8.0));
        assert_eq!(r("1e3"), json!(1000.0));
        assert_eq!(r("1."), json!(1.0));
        assert_eq!(r(".5"), json!(0.5));
        assert_eq!(r("99999999999999999999"), json!(1e20));
        assert_eq!(r("9223372036854775808"), json!(9223372036854775808u64));
        assert_eq!(r("-9223372036854775808"), json!(i64::MIN));
        assert_eq!(r("0.0"), json!(0.0));
        assert_eq!(r("1:20"), json!("1:20"));
        assert_eq!(r("2024-01-01"), json!("2024-01-01"));
        assert_eq!(r("0x"), json!("0x"));
        assert_eq!(r("0b2"), json!("0b2"));
        assert_eq!(r("_1"), json!("_1"));
        assert_eq!(r("1.2.3"), json!("1.2.3"));
        assert_eq!(r("-"), json!("-"));
        assert_eq!(r("+-1"), json!("+-1"));
        assert_eq!(r("0x-1"), json!("0x-1"));
    }

    #[test]
    fn float_keys_are_named_as_go_prints_them() {
        for (f, want) in [(2.0, "2"), (3.14159265, "3.1415927"), (1e7, "1e+07"), (8.0, "8"), (4.9e-324, "0"), (0.5, "0.5"), (123456.0, "123456"), (1e-5, "1e-05"), (-2.5, "-2.5")] {
            assert_eq!(go_format_float32_g(f), want, "{f}");
        }
    }

    #[test]
    fn booleans_and_nulls_from_the_exact_table() {
        for t in ["y", "Y", "yes", "Yes", "YES", "on", "ON", "true", "True"] {
            assert_eq!(r(t), json!(true), "{t}");
        }
        for f in ["n", "N", "no", "NO", "off", "Off", "false", "FALSE"] {
            assert_eq!(r(f), json!(false), "{f}");
        }
        for s in ["yEs", "tRUE", "nULL", "oN", "nil", "none"] {
            assert_eq!(r(s), json!(s), "{s}");
        }
        for n in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(r(n), Value::Null, "{n:?}");
        }
        assert_eq!(resolve_plain(".inf"), Resolved::NotFinite);
        assert_eq!(resolve_plain("-.Inf"), Resolved::NotFinite);
        assert_eq!(resolve_plain(".NaN"), Resolved::NotFinite);
        assert_eq!(r(".Nan"), json!(".Nan"));
        assert_eq!(r("inf"), json!("inf"));
    }

    #[test]
    fn multibyte_text_after_a_sign_is_a_string() {
        // Found by cargo fuzz: the base prefix check sliced inside a BOM.
        for text in ["-\u{feff}apiVersion", "+é", "0é", "-0\u{feff}"] {
            assert_eq!(resolve_plain(text), Resolved::Value(Value::String(text.into())), "{text:?}");
        }
    }
}
