//! `kubectl wi explain token` and `explain AADSTS…` through the built
//! binary, against checked-in expected output (tests/fixtures/explain), and
//! the round trip with `generate`: a token whose claims match the
//! generated credentials passes; one whose namespace differs in letter case
//! fails and says "case".

use serde_json::Value;
use wi_conformance::{repo_root, run_cli};

const DIR: &str = "tests/fixtures/explain";
const DURING: &str = "2026-11-18T11:30:00Z";

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn expected(name: &str) -> String {
    std::fs::read_to_string(repo_root().join(DIR).join(name)).unwrap_or_else(|e| panic!("{DIR}/{name}: {e}"))
}

#[test]
fn token_reports_match_their_expected_output() {
    let f = |name: &str| format!("{DIR}/{name}");
    let out = run_cli(&["explain", "token", &f("shop-web.jwt"), "--fic", &f("federated-credentials.json"), "--jwks", &f("jwks.json"), "--now", DURING], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), expected("shop-web.expected"));

    let out = run_cli(&["explain", "token", &f("shop-web.jwt"), "--fic", &f("federated-credentials-wrong.json"), "--now", "2027-01-01T00:00:00Z"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), expected("shop-web-wrong-expired.expected"));

    let out = run_cli(&["explain", "token", &f("shop-web-tampered.jwt"), "--jwks", &f("jwks.json"), "--now", DURING, "-o", "json"], None);
    assert_eq!(out.status.code(), Some(1));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: Value = serde_json::from_str(&expected("shop-web-tampered.expected.json")).unwrap();
    assert_eq!(got, want);
    assert_eq!(got["signature"]["valid"], false);

    // The token from standard input.
    let token = std::fs::read(repo_root().join(DIR).join("shop-web.jwt")).unwrap();
    let out = run_cli(&["explain", "token", "-", "--fic", &f("federated-credentials.json"), "--now", DURING], Some(&token));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn bad_tokens_and_flags_exit_2_with_the_file_named() {
    let cases: &[(&[&str], Option<&[u8]>, &str)] = &[
        (&["explain", "token", "-"], Some(b"not.a.jwt!"), "<stdin>: error: not a JWT"),
        (&["explain", "token", "-"], Some(&[b'A'; 10 * 1024 * 1024]), "far more than a ServiceAccount token"),
        (&["explain", "token"], None, "needs the token file"),
        (&["explain", "token", "tests/fixtures/explain/shop-web.jwt", "--now", "soon"], None, "--now: error"),
        (&["explain", "token", "tests/fixtures/explain/shop-web.jwt", "--fic", "tests/fixtures/explain/jwks.json"], None, "jwks.json:1: error"),
        (&["explain", "token", "tests/fixtures/explain/shop-web.jwt", "--fic", "tests/fixtures/lint/WI001-clean.yaml"], None, "no federated identity credential"),
        (&["explain", "token", "tests/fixtures/explain/shop-web.jwt", "--jwks", "tests/fixtures/explain/federated-credentials.json"], None, "not a JWKS document"),
        (&["explain", "WI003", "extra-file"], None, "go with `explain token` only"),
        (&["explain", "AADSTS99999"], None, "https://login.microsoftonline.com/error?code=99999"),
    ];
    for (args, stdin, message) in cases {
        let out = run_cli(args, *stdin);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn aadsts_codes_are_explained_with_sources() {
    for code in ["70021", "AADSTS700211", "aadsts700212", "700213", "7002138", "700024", "700016", "50034", "90002", "700027"] {
        let out = run_cli(&["explain", code], None);
        assert_eq!(out.status.code(), Some(0), "{code}");
        let text = stdout(&out);
        for section in ["## Cause", "## Confirm", "## Fix", "## Sources", "https://"] {
            assert!(text.contains(section), "{code}: {text}");
        }
    }
    assert!(stdout(&run_cli(&["explain", "7002138"], None)).contains("case"));
}

#[test]
fn round_trip_with_generate() {
    let dir = repo_root().join("target/test-scratch/explain-generate");
    let _ = std::fs::remove_dir_all(&dir);
    let out_dir = dir.display().to_string();
    let out = run_cli(&["generate", "--spec", "bundles/examples/generate/spec.yaml", "-o", &out_dir], None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let aso = dir.join("shop-aso.yaml").display().to_string();
    let out = run_cli(&["explain", "token", "tests/fixtures/explain/shop-web.jwt", "--fic", &aso, "--now", DURING], None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = run_cli(&["explain", "token", "tests/fixtures/explain/shop-worker-case.jwt", "--fic", &aso, "--now", DURING], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("case") && stdout(&out).contains("AADSTS7002138"), "{}", stdout(&out));
}

#[test]
fn lint_names_a_subject_that_differs_only_in_case() {
    let out = run_cli(&["lint", "-f", "tests/fixtures/lint/WI030-fires-case.yaml", "-o", "json"], None);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let wi030 = report["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "WI030").expect("WI030 fires");
    let message = wi030["message"].as_str().unwrap();
    assert!(message.contains("letter case") && message.contains("AADSTS7002138"), "{message}");
}

#[test]
fn a_credential_file_named_twice_is_read_once() {
    let f = |name: &str| format!("{DIR}/{name}");
    let out = run_cli(&["explain", "token", &f("shop-web.jwt"), "--fic", &f("federated-credentials.json"), "--fic", &f("federated-credentials.json"), "--now", DURING], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("1 of 3 federated credentials match"), "{}", stdout(&out));
}
