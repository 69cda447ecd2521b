//! `kubectl wi audit` through the built binary: the live path against a
//! stand-in `kubectl` on PATH that records its arguments and answers from a
//! recorded cluster (tests/fixtures/audit/bin/kubectl; no API server runs
//! here), and the same objects from a saved dump (`--from-file`), against
//! checked-in expected output (`WI_BLESS=1` rewrites it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use wi_conformance::{blessing, kubectl_wi, repo_root};

const DIR: &str = "tests/fixtures/audit";

/// Runs kubectl-wi with the stand-in kubectl first on PATH (or no kubectl
/// at all), recording kubectl's calls in `calls`.
fn run(args: &[&str], stand_in: bool, calls: &Path) -> Output {
    let _ = std::fs::remove_file(calls);
    let path = if stand_in { format!("{}:/usr/bin:/bin", repo_root().join(DIR).join("bin").display()) } else { "/nonexistent".into() };
    Command::new(kubectl_wi())
        .args(args)
        .current_dir(repo_root())
        .env("PATH", path)
        .env("KUBECTL_CALLS", calls)
        .env("KUBECTL_WI_CACHE_DIR", repo_root().join("target/test-cache"))
        .stdin(Stdio::null())
        .output()
        .expect("kubectl-wi starts")
}

fn scratch(name: &str) -> PathBuf {
    let dir = repo_root().join("target/test-scratch/audit");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn check(name: &str, got: &str) {
    let expected = repo_root().join(DIR).join("expected").join(name);
    if blessing() {
        std::fs::create_dir_all(expected.parent().unwrap()).unwrap();
        std::fs::write(&expected, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&expected).unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
    assert_eq!(got, want, "{} differs", expected.display());
}

#[test]
fn a_live_cluster_is_read_through_kubectl_and_never_written() {
    let calls = scratch("live.calls");
    let identities = format!("{DIR}/az-federated-credentials.json");
    let out = run(&["audit", "-A", "--context", "prod", "--kubeconfig", "/home/me/.kube/config", "--identities", &identities], true, &calls);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    check("live.txt", &String::from_utf8_lossy(&out.stdout));
    let recorded = std::fs::read_to_string(&calls).unwrap();
    check("live.calls", &recorded);
    // Read-only: only `api-resources` and `get`, with the user's context and kubeconfig.
    for call in recorded.lines() {
        assert!(call.starts_with("--context prod --kubeconfig /home/me/.kube/config "), "{call}");
        let verb = call.split_whitespace().nth(4).unwrap_or("");
        assert!(["api-resources", "get"].contains(&verb), "audit ran kubectl {verb}: {call}");
    }

    // -n reads one namespace; the issuer given is not asked for.
    let out = run(&["audit", "-n", "shop", "--issuer", "https://example.com/issuer", "-o", "json"], true, &calls);
    assert_eq!(out.status.code(), Some(1));
    let recorded = std::fs::read_to_string(&calls).unwrap();
    assert!(recorded.lines().nth(1).unwrap().ends_with(" -o json -n shop"), "{recorded}");
    assert_eq!(recorded.lines().count(), 2, "{recorded}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["issuer"], "https://example.com/issuer");
}

#[test]
fn a_saved_dump_gives_the_same_views_and_findings() {
    let calls = scratch("dump.calls");
    let identities = format!("{DIR}/az-federated-credentials.json");
    let dump = format!("{DIR}/cluster.json");
    let issuer = serde_json::from_str::<Value>(&std::fs::read_to_string(repo_root().join(DIR).join("openid-configuration.json")).unwrap()).unwrap()["issuer"]
        .as_str()
        .unwrap()
        .to_string();
    // No kubectl needed (nor run) for a dump.
    let out = run(&["audit", "--from-file", &dump, "--identities", &identities, "--issuer", &issuer, "-o", "json"], false, &calls);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!calls.exists());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    check("dump.json", &format!("{report:#}\n"));
    let rules: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["WI032", "WI031", "WI051", "WI003", "WI030", "WI054"]);
    // The pods of the ReplicaSet of Deployment web are judged in its template, once.
    assert_eq!(report["serviceAccounts"][0]["optedInWorkloads"], 1);

    // The live text and the dump's text differ only in the source's name
    // (and so in the order of findings, which go by file name).
    let text = run(&["audit", "--from-file", &dump, "--identities", &identities, "--issuer", &issuer], false, &calls);
    let live = std::fs::read_to_string(repo_root().join(DIR).join("expected/live.txt")).unwrap().replace("<cluster>", &dump);
    let lines = |text: &str| {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    assert_eq!(lines(&String::from_utf8_lossy(&text.stdout)), lines(&live));

    let sarif = run(&["audit", "--from-file", &dump, "--identities", &identities, "--issuer", &issuer, "-o", "sarif"], false, &calls);
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), rules.len());
}

#[test]
fn no_kubectl_an_unreachable_cluster_and_bad_flags_exit_2() {
    let calls = scratch("bad.calls");
    let cases: &[(&[&str], bool, &str)] = &[
        (&["audit", "-A"], false, "kubectl is not on PATH"),
        (&["audit", "--context", "unreachable"], true, "Unable to connect to the server"),
        (&["audit", "-n", "shop", "-A"], true, "cannot be used with"),
        (&["audit", "--from-file", "tests/fixtures/audit/cluster.json", "--context", "prod"], true, "cannot be used with"),
        (&["audit", "--from-file", "tests/fixtures/audit/missing.json"], true, "missing.json"),
        (&["audit", "--from-file", "tests/fixtures/audit/api-resources.txt"], true, "api-resources.txt:1"),
        (&["audit", "--from-file", "tests/fixtures/audit/cluster.json", "--issuer", "http://insecure/"], true, "--issuer"),
    ];
    for (args, stand_in, message) in cases {
        let out = run(args, *stand_in, &calls);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// Only a workload controller takes its pods' place: a pod owned by a kind
/// lint does not read (an Argo Rollout) is judged itself.
#[test]
fn pods_of_controllers_lint_does_not_read_are_judged() {
    let calls = scratch("rollout.calls");
    let dump = scratch("rollout.yaml");
    std::fs::write(
        &dump,
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: web\n  namespace: shop\n---\n\
apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n  namespace: shop\n  labels:\n    azure.workload.identity/use: \"true\"\n  ownerReferences:\n  - apiVersion: argoproj.io/v1alpha1\n    kind: Rollout\n    name: web\n    uid: 1\n    controller: true\nspec:\n  serviceAccountName: web\n  containers:\n  - name: c\n    image: nginx\n---\n\
apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n  namespace: shop\n",
    )
    .unwrap();
    let out = run(&["audit", "--from-file", dump.to_str().unwrap(), "--issuer", "https://example.com/", "-o", "json"], false, &calls);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"WI003"), "{report:#}");
}
