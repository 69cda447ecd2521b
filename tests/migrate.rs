//! `kubectl wi migrate` through the built binary, against checked-in
//! expected files (tests/fixtures/migrate/expected; `WI_BLESS=1` rewrites
//! them): a recorded `kubectl get -A -o json` dump with every case the
//! command must hand to a person, the bundled example that migrates
//! cleanly, and bad input.

use std::path::{Path, PathBuf};

use serde_json::Value;
use wi_conformance::{blessing, repo_root, run_cli};

const DIR: &str = "tests/fixtures/migrate";
const ISSUER: &str = "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/0d6c4b1e-6a2f-4b7c-9e3d-5f1a2b3c4d5e/";
const FILES: [&str; 5] = ["serviceaccounts.yaml", "federated-credentials.sh", "federated-credentials-aso.yaml", "workloads.yaml", "migration-report.txt"];

fn scratch(name: &str) -> PathBuf {
    let dir = repo_root().join("target/test-scratch/migrate").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn check(expected: &Path, got: &str) {
    if blessing() {
        std::fs::create_dir_all(expected.parent().unwrap()).unwrap();
        std::fs::write(expected, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(expected).unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
    assert_eq!(got, want, "{} differs", expected.display());
}

#[test]
fn a_cluster_dump_is_planned_and_the_rest_handed_to_a_person() {
    let out_dir = scratch("dump");
    let out = run_cli(&["migrate", "-f", DIR, "--issuer", ISSUER, "-o", out_dir.to_str().unwrap()], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let expected = repo_root().join(DIR).join("expected");
    for name in FILES {
        let got = std::fs::read_to_string(out_dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        check(&expected.join(name), &got);
    }
    // Standard output is the report; each step for a person is on stderr
    // with its file and line.
    assert_eq!(String::from_utf8_lossy(&out.stdout), std::fs::read_to_string(out_dir.join("migration-report.txt")).unwrap());
    for needle in [
        "cluster-dump.json:223: needs a person: Pod shop/orphan-7c4b9-kq2lm is managed by ReplicaSet orphan-7c4b9",
        "no AzureIdentityBinding with selector \"nobody\"",
        "is a service principal (type 1)",
        "is used from namespaces analytics, platform",
        "runs as its namespace's `default` ServiceAccount",
        "ServiceAccount ops/runner already names client ID",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    let sh = out_dir.join("federated-credentials.sh");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&sh).unwrap().permissions().mode() & 0o111, 0o111, "the script is executable");
    }
    let syntax = std::process::Command::new("bash").arg("-n").arg(&sh).output().unwrap();
    assert!(syntax.status.success(), "{}", String::from_utf8_lossy(&syntax.stderr));

    // What migrate wrote passes lint: the ServiceAccounts carry the client
    // IDs, the workloads opt in, and every subject has its credential (the
    // one that exists already comes from `az identity federated-credential list`).
    let path = |name: &str| out_dir.join(name).to_string_lossy().into_owned();
    let lint = run_cli(
        &[
            "lint",
            "-f", &path("serviceaccounts.yaml"),
            "-f", &path("workloads.yaml"),
            "-f", &path("federated-credentials-aso.yaml"),
            "-f", &format!("{DIR}/az-federated-credentials.json"),
            "--issuer", ISSUER,
        ],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&lint.stdout), "0 errors, 0 warnings, 0 infos in 4 files\n");
    assert_eq!(lint.status.code(), Some(0));
}

#[test]
fn json_plan_holds_the_patches_and_every_file() {
    let out = run_cli(&["migrate", "-f", DIR, "--issuer", ISSUER, "--format", "json"], None);
    assert_eq!(out.status.code(), Some(1));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["issuer"], ISSUER);
    let credentials = plan["credentials"].as_array().unwrap();
    let existing: Vec<&str> = credentials.iter().filter(|c| c["exists"] == true).map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(existing, ["shop-web"]);
    let changed: Vec<String> = plan["changes"].as_array().unwrap().iter().map(|c| format!("{}/{}", c["at"]["kind"].as_str().unwrap(), c["at"]["name"].as_str().unwrap())).collect();
    assert_eq!(changed, ["Deployment/web", "CronJob/report", "DaemonSet/tools"]);
    let cron = &plan["changes"][1]["patch"];
    assert!(cron.as_array().unwrap().iter().any(|op| op["path"] == "/spec/jobTemplate/spec/template/spec/serviceAccountName" && op["value"] == "reporter"), "{cron}");
    assert_eq!(plan["manual"].as_array().unwrap().len(), 7);
    let names: Vec<&str> = plan["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, FILES[..4]);
}

#[test]
fn the_bundled_example_migrates_completely() {
    // The issuer comes from `az aks show` output among the inputs here.
    let out = run_cli(&["migrate", "-f", "bundles/examples/migration", "-f", "tests/fixtures/migrate/aks/aks-show.json"], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("# ==> serviceaccounts.yaml <==\n"), "{stdout}");
    assert!(stdout.contains("Needs a person (0):\n  nothing\n"), "{stdout}");
    assert!(stdout.contains("kubectl delete azureidentitybinding legacy-binding -n legacy"), "{stdout}");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("(issuer {ISSUER})")), "{stdout}");
    // --proxy-sidecar annotates the template (this one has it already: no change twice).
    let out = run_cli(&["migrate", "-f", "bundles/examples/migration", "--issuer", ISSUER, "--proxy-sidecar", "--format", "json"], None);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["changes"][0]["patch"], serde_json::json!([{"op": "remove", "path": "/spec/template/metadata/labels/aadpodidbinding"}]));
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let out_dir = scratch("bad");
    let dir = out_dir.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["migrate", "-f", DIR, "-o", dir], "--issuer: is needed"),
        (&["migrate", "-f", DIR, "--issuer", "http://example.com/", "-o", dir], "--issuer: \"http://example.com/\" is not an https:// URL"),
        (&["migrate", "-f", "tests/fixtures/migrate/missing.json", "--issuer", ISSUER, "-o", dir], "missing.json"),
        (&["migrate", "-f", "-", "--issuer", ISSUER, "-o", dir], "<stdin>:1"),
        (&["migrate", "-f", DIR, "--issuer", ISSUER, "-n", "Not_A_Namespace", "-o", dir], "namespace"),
    ];
    for (args, message) in cases {
        let out = run_cli(args, Some(b"kind: [unclosed"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0, "{args:?} wrote files");
    }
    // Existing files stop the run unless --force; nothing is half-written.
    std::fs::write(out_dir.join("workloads.yaml"), "mine\n").unwrap();
    let out = run_cli(&["migrate", "-f", DIR, "--issuer", ISSUER, "-o", dir], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists; nothing written (--force overwrites)"));
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1);
    assert_eq!(std::fs::read_to_string(out_dir.join("workloads.yaml")).unwrap(), "mine\n");
}

/// What a hostile review found: names that could never exist (one with a
/// newline would have ended a line of the script), an identity that
/// aad-pod-identity serves in its own namespace only, and a class that
/// still asks NMI for the token.
#[test]
fn names_namespaced_identities_and_pod_identity_classes() {
    let identity = |annotations: &str| {
        format!(
            "apiVersion: aadpodidentity.k8s.io/v1\nkind: AzureIdentity\nmetadata:\n  name: id\n  namespace: platform\n{annotations}spec:\n  type: 0\n  clientID: 11111111-1111-4111-8111-111111111111\n  resourceID: /subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id\n---\napiVersion: aadpodidentity.k8s.io/v1\nkind: AzureIdentityBinding\nmetadata:\n  name: b\n  namespace: platform\nspec:\n  azureIdentity: id\n  selector: s\n---\n"
        )
    };
    let pod = |namespace: &str, sa: &str, extra: &str| {
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: {namespace}\n  labels:\n    aadpodidbinding: s\nspec:\n  serviceAccountName: {sa}\n  containers:\n  - name: c\n    image: nginx\n{extra}---\n")
    };
    let run = |text: String| run_cli(&["migrate", "-f", "-", "--issuer", ISSUER, "--format", "json"], Some(text.as_bytes()));

    let out = run(identity("") + &pod("platform", "\"sa\\ntouch /tmp/pwned #\"", ""));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("<stdin>:28: error: Pod platform/p: ServiceAccount \"sa\\ntouch /tmp/pwned #\" is not a valid Kubernetes name"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());

    // Cross-namespace use: served by default, not when the identity says namespaced.
    let out = run(identity("") + &pod("apps", "web", ""));
    assert_eq!(out.status.code(), Some(0));
    let out = run(identity("  annotations:\n    aadpodidentity.k8s.io/Behavior: namespaced\n") + &pod("apps", "web", ""));
    assert_eq!(out.status.code(), Some(1));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["credentials"], serde_json::json!([]));
    assert!(plan["manual"][0]["message"].as_str().unwrap().contains("no AzureIdentityBinding with selector \"s\""));

    let class = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata:\n  name: kv\n  namespace: platform\nspec:\n  provider: azure\n  parameters:\n    usePodIdentity: \"true\"\n    keyvaultName: kv\n    tenantID: 72f988bf-86f1-41af-91ab-2d7cd011db47\n---\n";
    let volume = "  volumes:\n  - name: kv\n    csi:\n      driver: secrets-store.csi.k8s.io\n      volumeAttributes:\n        secretProviderClass: kv\n";
    let out = run(identity("") + class + &pod("platform", "web", volume));
    assert_eq!(out.status.code(), Some(1));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(plan["manual"][0]["message"].as_str().unwrap().contains("mounts SecretProviderClass kv with `usePodIdentity: \"true\"`"), "{plan:#}");
    assert_eq!(plan["changes"], serde_json::json!([]));
}
