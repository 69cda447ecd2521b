//! `explain token`: a projected ServiceAccount token (a JWT) decoded, its
//! claims compared with federated identity credentials the way Entra
//! compares them (exactly, letter case included), each difference named
//! with the AADSTS code Entra answers it with; with a JWKS, the RS256
//! signature verified. No network: the faces hand over the files.

use base64::Engine;
use serde_json::{Value, json};

use crate::objects::{self, Role};
use crate::source::{InputError, SourceFile};
use crate::wellknown::TOKEN_EXCHANGE_AUDIENCE;

/// A ServiceAccount token is about 1 KB; anything far larger is the wrong
/// file, and is refused before it is decoded.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

pub struct Request {
    pub token: SourceFile,
    /// `az identity federated-credential list/show` JSON, or ASO
    /// FederatedIdentityCredential YAML/JSON.
    pub credentials: Vec<SourceFile>,
    /// The issuer's `openid/v1/jwks` document.
    pub jwks: Option<SourceFile>,
    /// `--now` as the user wrote it (RFC 3339), if given.
    pub now: Option<String>,
    /// The host's clock, Unix seconds: used when `now` is not given.
    pub clock: i64,
}

/// The claims Entra compares.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    pub issuer: Option<String>,
    pub subject: Option<String>,
    pub audiences: Vec<String>,
    pub issued_at: Option<i64>,
    pub not_before: Option<i64>,
    pub expires: Option<i64>,
    pub algorithm: Option<String>,
    pub key_id: Option<String>,
}

/// What `explain token` found; `text` and `json` say the same.
pub struct Report {
    pub text: String,
    pub json: Value,
    /// 0: decoded (and a credential matches, when any were given); 1: no
    /// credential matches, or the signature is bad.
    pub exit: u8,
}

struct Token {
    header: Value,
    payload: Value,
    claims: Claims,
    /// Read only to verify the signature (`jwks`; the browser's token pane
    /// is built without it).
    #[cfg_attr(not(feature = "jwks"), allow(dead_code))]
    signing_input: String,
    #[cfg_attr(not(feature = "jwks"), allow(dead_code))]
    signature: Vec<u8>,
}

fn error(file: &str, message: impl Into<String>) -> InputError {
    InputError { file: file.to_string(), line: 0, column: 0, message: message.into() }
}

fn decode(file: &SourceFile) -> Result<Token, InputError> {
    let name = &file.name;
    if file.content.len() > MAX_TOKEN_BYTES {
        return Err(error(name, format!("{} bytes is far more than a ServiceAccount token (about 1 KB; the limit is {} KiB): is this the token file?", file.content.len(), MAX_TOKEN_BYTES / 1024)));
    }
    let text = file.content.trim();
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 3 {
        return Err(error(name, format!("not a JWT: a token is three base64url parts separated by `.`, this has {}", parts.len())));
    }
    let segment = |i: usize, what: &str| -> Result<Vec<u8>, InputError> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[i].trim_end_matches('='))
            .map_err(|e| error(name, format!("not a JWT: its {what} is not base64url ({e})")))
    };
    let object = |i: usize, what: &str| -> Result<Value, InputError> {
        let bytes = segment(i, what)?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v @ Value::Object(_)) => Ok(v),
            Ok(_) => Err(error(name, format!("not a JWT: its {what} is not a JSON object"))),
            Err(e) => Err(error(name, format!("not a JWT: its {what} is not JSON ({e})"))),
        }
    };
    let header = object(0, "header")?;
    let payload = object(1, "payload")?;
    let signature = segment(2, "signature")?;
    let text_claim = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let time_claim = |key: &str| -> Result<Option<i64>, InputError> {
        match payload.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)).map(Some).ok_or_else(|| error(name, format!("claim `{key}` is {v}, not a time in seconds"))),
        }
    };
    let audiences = match payload.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    };
    let claims = Claims {
        issuer: text_claim(&payload, "iss"),
        subject: text_claim(&payload, "sub"),
        audiences,
        issued_at: time_claim("iat")?,
        not_before: time_claim("nbf")?,
        expires: time_claim("exp")?,
        algorithm: text_claim(&header, "alg"),
        key_id: text_claim(&header, "kid"),
    };
    Ok(Token { header, payload, claims, signing_input: format!("{}.{}", parts[0], parts[1]), signature })
}

/// One way a credential's field differs from the token.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub field: &'static str,
    pub kind: &'static str,
    pub aadsts: u32,
    pub message: String,
    pub fix: String,
}

fn issuer_mismatch(token: &str, credential: &str) -> Option<Mismatch> {
    if token == credential {
        return None;
    }
    let (kind, message) = if format!("{credential}/") == token {
        ("missing-trailing-slash", format!("the credential's issuer `{credential}` lacks the trailing `/` of the token's `{token}`"))
    } else if format!("{token}/") == credential {
        ("extra-trailing-slash", format!("the credential's issuer `{credential}` has a trailing `/` the token's `{token}` does not"))
    } else if token.eq_ignore_ascii_case(credential) {
        ("case", format!("the credential's issuer `{credential}` differs from the token's `{token}` only in letter case; Entra compares case-sensitively"))
    } else {
        ("different", format!("the credential's issuer `{credential}` is not the token's `{token}`"))
    };
    Some(Mismatch { field: "issuer", kind, aadsts: 700211, message, fix: format!("set the credential's issuer to `{token}` exactly") })
}

fn subject_mismatch(token: &str, credential: &str) -> Option<Mismatch> {
    if token == credential {
        return None;
    }
    if token.eq_ignore_ascii_case(credential) {
        return Some(Mismatch {
            field: "subject",
            kind: "case",
            aadsts: 7002138,
            message: format!("the credential's subject `{credential}` differs from the token's `{token}` only in letter case; Entra compares case-sensitively"),
            fix: format!("set the credential's subject to `{token}`, in this letter case"),
        });
    }
    Some(Mismatch {
        field: "subject",
        kind: "different",
        aadsts: 700213,
        message: format!("the credential's subject `{credential}` is not the token's `{token}`"),
        fix: format!("set the credential's subject to `{token}` (or run the pod as the ServiceAccount the credential names)"),
    })
}

fn audience_mismatch(token: &[String], credential: &[String]) -> Option<Mismatch> {
    if credential.iter().any(|a| token.contains(a)) {
        return None;
    }
    let case = credential.iter().any(|a| token.iter().any(|t| t.eq_ignore_ascii_case(a)));
    Some(Mismatch {
        field: "audience",
        kind: if case { "case" } else { "different" },
        aadsts: 700212,
        message: format!("the credential's audiences {credential:?} hold none of the token's {token:?}{}", if case { " (they differ only in letter case; Entra compares case-sensitively)" } else { "" }),
        fix: format!("use the audience `{TOKEN_EXCHANGE_AUDIENCE}` on both: the credential's audiences and the token the webhook projects"),
    })
}

/// The token's validity at `now`, as a mismatch (it fails every credential).
fn time_problem(claims: &Claims, now: i64) -> Option<Mismatch> {
    let fix = "read the token file again before each exchange (kubelet refreshes it); check the node's clock".to_string();
    if let Some(exp) = claims.expires {
        if now >= exp {
            return Some(Mismatch { field: "time", kind: "expired", aadsts: 700024, message: format!("the token expired at {} ({} before {})", time_text(exp), span_text(now - exp), time_text(now)), fix });
        }
    }
    if let Some(nbf) = claims.not_before {
        if now < nbf {
            return Some(Mismatch { field: "time", kind: "not-yet-valid", aadsts: 700024, message: format!("the token is not valid before {} ({} after {})", time_text(nbf), span_text(nbf - now), time_text(now)), fix });
        }
    }
    None
}

fn time_text(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).map(|t| t.to_string()).unwrap_or_else(|_| format!("{seconds} (out of range)"))
}

fn span_text(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s:02}s"),
        _ => format!("{h}h{m:02}m"),
    }
}

/// A credential read from the inputs, with where it came from.
struct Credential {
    name: String,
    at: String,
    issuer: Option<String>,
    subject: Option<String>,
    audiences: Vec<String>,
}

fn credentials(files: &[SourceFile]) -> Result<Vec<Credential>, Vec<InputError>> {
    let objects = objects::load(files, "default")?;
    let mut found = Vec::new();
    for object in &objects {
        let Role::FederatedCredential(fic) = &object.role else { continue };
        let audiences = match &fic.audiences {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            Some(Value::String(a)) => vec![a.clone()],
            _ => Vec::new(),
        };
        found.push(Credential {
            name: fic.azure_name.clone(),
            at: format!("{}:{}", object.file, object.doc.line),
            issuer: fic.issuer.clone(),
            subject: fic.subject.clone(),
            audiences,
        });
    }
    if found.is_empty() {
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        return Err(vec![error(&names.join(", "), "no federated identity credential in these files (expected `az identity federated-credential list -o json` output or ASO FederatedIdentityCredential objects)")]);
    }
    Ok(found)
}

/// Decodes the token and compares it with every credential.
pub fn explain(request: &Request) -> Result<Report, Vec<InputError>> {
    let token = decode(&request.token).map_err(|e| vec![e])?;
    let now = match &request.now {
        Some(text) => text
            .trim()
            .parse::<jiff::Timestamp>()
            .map_err(|e| vec![error("--now", format!("`{text}` is not an RFC 3339 time such as 2026-11-26T10:00:00Z ({e})"))])?
            .as_second(),
        None => request.clock,
    };
    let credentials = if request.credentials.is_empty() { Vec::new() } else { credentials(&request.credentials)? };
    let signature = match &request.jwks {
        Some(jwks) => Some(verify(&token, jwks)?),
        None => None,
    };
    let claims = &token.claims;
    let time = time_problem(claims, now);
    let mut verdicts = Vec::new();
    for credential in &credentials {
        let mut mismatches = Vec::new();
        let missing = |field: &'static str, aadsts| Mismatch { field, kind: "missing", aadsts, message: format!("the token or the credential has no {field}"), fix: format!("give the credential the token's {field}") };
        match (&claims.issuer, &credential.issuer) {
            (Some(t), Some(c)) => mismatches.extend(issuer_mismatch(t, c)),
            _ => mismatches.push(missing("issuer", 700211)),
        }
        match (&claims.subject, &credential.subject) {
            (Some(t), Some(c)) => mismatches.extend(subject_mismatch(t, c)),
            _ => mismatches.push(missing("subject", 700213)),
        }
        mismatches.extend(audience_mismatch(&claims.audiences, &credential.audiences));
        mismatches.extend(time.clone());
        verdicts.push((credential, mismatches));
    }
    let matching = verdicts.iter().filter(|(_, m)| m.is_empty()).count();
    let bad_signature = matches!(&signature, Some(Err(_)));
    let exit = if bad_signature || (!credentials.is_empty() && matching == 0) { 1 } else { 0 };
    Ok(Report { text: render_text(&request.token.name, &token, now, &time, &signature, &verdicts, matching), json: render_json(&token, now, &time, &signature, &verdicts, matching), exit })
}

type Signature = Result<String, String>;

fn mismatch_json(m: &Mismatch) -> Value {
    json!({"field": m.field, "kind": m.kind, "aadsts": format!("AADSTS{}", m.aadsts), "message": m.message, "fix": m.fix})
}

fn render_json(token: &Token, now: i64, time: &Option<Mismatch>, signature: &Option<Signature>, verdicts: &[(&Credential, Vec<Mismatch>)], matching: usize) -> Value {
    let c = &token.claims;
    json!({
        "token": {
            "issuer": c.issuer, "subject": c.subject, "audiences": c.audiences,
            "issuedAt": c.issued_at.map(time_text), "notBefore": c.not_before.map(time_text), "expires": c.expires.map(time_text),
            "algorithm": c.algorithm, "keyId": c.key_id,
            "header": token.header, "claims": token.payload,
        },
        "now": time_text(now),
        "valid": time.is_none(),
        "time": time.as_ref().map(mismatch_json),
        "signature": match signature {
            None => json!({"checked": false}),
            Some(Ok(how)) => json!({"checked": true, "valid": true, "message": how}),
            Some(Err(why)) => json!({"checked": true, "valid": false, "message": why, "aadsts": "AADSTS700027"}),
        },
        "credentials": verdicts.iter().map(|(c, m)| json!({
            "name": c.name, "at": c.at, "issuer": c.issuer, "subject": c.subject, "audiences": c.audiences,
            "matches": m.is_empty(), "mismatches": m.iter().map(mismatch_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "matching": matching,
    })
}

fn render_text(name: &str, token: &Token, now: i64, time: &Option<Mismatch>, signature: &Option<Signature>, verdicts: &[(&Credential, Vec<Mismatch>)], matching: usize) -> String {
    let c = &token.claims;
    let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
    let at = |v: Option<i64>| v.map(time_text).unwrap_or_else(|| "(none)".into());
    let mut out = format!("token {name}\n");
    out.push_str(&format!("  issuer:     {}\n", or_none(&c.issuer)));
    out.push_str(&format!("  subject:    {}\n", or_none(&c.subject)));
    out.push_str(&format!("  audience:   {}\n", if c.audiences.is_empty() { "(none)".into() } else { c.audiences.join(", ") }));
    out.push_str(&format!("  issued:     {}\n", at(c.issued_at)));
    out.push_str(&format!("  not before: {}\n", at(c.not_before)));
    out.push_str(&format!("  expires:    {}\n", at(c.expires)));
    out.push_str(&format!("  key:        {} ({})\n", or_none(&c.key_id), or_none(&c.algorithm)));
    out.push_str(&format!("  at {}:     {}\n", time_text(now), match time {
        None => "valid".to_string(),
        Some(m) => format!("{} [AADSTS{}]", m.message, m.aadsts),
    }));
    out.push_str(&format!("  signature:  {}\n", match signature {
        None => "not checked (give --jwks with the issuer's openid/v1/jwks)".to_string(),
        Some(Ok(how)) => how.clone(),
        Some(Err(why)) => format!("BAD: {why} [AADSTS700027]"),
    }));
    if verdicts.is_empty() {
        return out;
    }
    out.push('\n');
    for (credential, mismatches) in verdicts {
        if mismatches.is_empty() {
            out.push_str(&format!("{} ({}): matches\n", credential.name, credential.at));
            continue;
        }
        out.push_str(&format!("{} ({}): does not match\n", credential.name, credential.at));
        for m in mismatches {
            out.push_str(&format!("  {} [AADSTS{}]: {}\n    fix: {}\n", m.field, m.aadsts, m.message, m.fix));
        }
    }
    out.push_str(&if matching == 0 {
        format!("\nnone of the {} federated credentials matches: the token exchange fails\n", verdicts.len())
    } else {
        format!("\n{matching} of {} federated credentials match\n", verdicts.len())
    });
    out
}

#[cfg(feature = "jwks")]
fn verify(token: &Token, jwks: &SourceFile) -> Result<Signature, Vec<InputError>> {
    use rsa::pkcs1v15::{Signature as RsaSignature, VerifyingKey};
    use rsa::signature::Verifier;
    use rsa::{BigUint, RsaPublicKey};
    let document: Value = serde_json::from_str(&jwks.content).map_err(|e| vec![error(&jwks.name, format!("not a JWKS document: {e}"))])?;
    let Some(keys) = document.get("keys").and_then(Value::as_array) else {
        return Err(vec![error(&jwks.name, "not a JWKS document: no `keys` list (expected the issuer's openid/v1/jwks)")]);
    };
    if token.claims.algorithm.as_deref() != Some("RS256") {
        return Ok(Err(format!("the token is signed with {:?}; Entra accepts RS256 only", token.claims.algorithm)));
    }
    let b64 = |v: Option<&Value>| v.and_then(Value::as_str).and_then(|s| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok());
    let kid = token.claims.key_id.as_deref();
    // How messages name the key: its id quoted, or that the token names none.
    let key_name = kid.map_or_else(|| "(the token names no key id)".to_string(), |k| format!("{k:?}"));
    let candidates: Vec<&Value> = keys.iter().filter(|k| k.get("kty").and_then(Value::as_str) == Some("RSA") && (kid.is_none() || k.get("kid").and_then(Value::as_str) == kid)).collect();
    if candidates.is_empty() {
        return Ok(Err(format!("no RSA key with id {key_name} in {} ({} keys): keys rotated since the token was issued?", jwks.name, keys.len())));
    }
    let signature = RsaSignature::try_from(token.signature.as_slice()).map_err(|e| vec![error(&jwks.name, format!("signature is malformed: {e}"))])?;
    for key in candidates {
        let (Some(n), Some(e)) = (b64(key.get("n")), b64(key.get("e"))) else { continue };
        let Ok(public) = RsaPublicKey::new(BigUint::from_bytes_be(&n), BigUint::from_bytes_be(&e)) else { continue };
        if VerifyingKey::<sha2::Sha256>::new(public).verify(token.signing_input.as_bytes(), &signature).is_ok() {
            return Ok(Ok(format!("verified with key {} of {}", key.get("kid").and_then(Value::as_str).unwrap_or("(no id)"), jwks.name)));
        }
    }
    Ok(Err(format!("does not verify with key {key_name} of {}", jwks.name)))
}

#[cfg(not(feature = "jwks"))]
fn verify(_token: &Token, jwks: &SourceFile) -> Result<Signature, Vec<InputError>> {
    Err(vec![error(&jwks.name, "this build cannot verify signatures (built without the `jwks` feature)")])
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/explain/");

    fn file(name: &str) -> SourceFile {
        SourceFile { name: name.into(), content: std::fs::read_to_string(format!("{FIXTURES}{name}")).unwrap() }
    }

    fn run(token: &str, credentials: &[&str], jwks: Option<&str>, now: &str) -> Report {
        explain(&Request {
            token: file(token),
            credentials: credentials.iter().map(|c| file(c)).collect(),
            jwks: jwks.map(file),
            now: Some(now.into()),
            clock: 0,
        })
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    const DURING: &str = "2026-11-18T11:30:00Z";

    #[test]
    fn a_matching_credential_and_its_near_misses_are_named() {
        let report = run("shop-web.jwt", &["federated-credentials.json"], Some("jwks.json"), DURING);
        assert_eq!(report.exit, 0, "{}", report.text);
        let credentials = report.json["credentials"].as_array().unwrap();
        assert_eq!(credentials[0]["matches"], true);
        assert_eq!(credentials[1]["mismatches"][0]["kind"], "missing-trailing-slash");
        assert_eq!(credentials[1]["mismatches"][0]["aadsts"], "AADSTS700211");
        assert_eq!(credentials[2]["mismatches"][0]["aadsts"], "AADSTS700213");
        assert_eq!(report.json["signature"]["valid"], true, "{}", report.text);
    }

    #[test]
    fn subject_in_other_case_says_case_and_7002138() {
        let report = run("shop-worker-case.jwt", &["federated-credentials.json"], None, DURING);
        assert_eq!(report.exit, 1);
        assert!(report.text.contains("only in letter case") && report.text.contains("AADSTS7002138"), "{}", report.text);
    }

    #[test]
    fn expired_tampered_and_wrong_audience_fail() {
        let expired = run("shop-web.jwt", &["federated-credentials.json"], None, "2027-01-01T00:00:00Z");
        assert_eq!((expired.exit, expired.json["time"]["kind"].as_str()), (1, Some("expired")));
        let early = run("shop-web.jwt", &[], None, "2026-01-01T00:00:00Z");
        assert_eq!((early.exit, early.json["time"]["kind"].as_str()), (0, Some("not-yet-valid")));
        let tampered = run("shop-web-tampered.jwt", &["federated-credentials.json"], Some("jwks.json"), DURING);
        assert_eq!((tampered.exit, tampered.json["signature"]["valid"].as_bool()), (1, Some(false)), "{}", tampered.text);
        let wrong = run("shop-web.jwt", &["federated-credentials-wrong.json"], None, DURING);
        assert_eq!(wrong.exit, 1);
        assert!(wrong.text.contains("AADSTS700212") && wrong.text.contains("none of the 2"), "{}", wrong.text);
    }

    #[test]
    fn bad_tokens_are_input_errors() {
        let bad = |content: &str| {
            explain(&Request { token: SourceFile { name: "t".into(), content: content.into() }, credentials: vec![], jwks: None, now: None, clock: 0 })
                .err()
                .map(|e| e[0].message.clone())
        };
        assert!(bad("not a token").unwrap().contains("three base64url parts"));
        assert!(bad("a.b!.c").unwrap().contains("not base64url"));
        assert!(bad(&"A".repeat(10 * 1024 * 1024)).unwrap().contains("far more than a ServiceAccount token"));
        assert!(bad("e30.W10.").unwrap().contains("payload is not a JSON object"));
        let now = explain(&Request { token: file("shop-web.jwt"), credentials: vec![], jwks: None, now: Some("yesterday".into()), clock: 0 });
        assert!(now.err().unwrap()[0].file == "--now");
    }
}
