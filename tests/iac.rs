//! `kubectl wi lint` on Terraform and ARM templates, as users call it: the
//! bundled examples (`bundles/examples/iac`), the cross-check with
//! Kubernetes manifests in other files, `-v`'s report of what is not
//! checked, and bad input. tests/outside/test_iac.py reads the same `.tf`
//! files with python-hcl2 and compares.

use serde_json::Value;
use wi_conformance::run_cli;

fn lint_json(args: &[&str]) -> (Value, i32) {
    let mut all = vec!["lint"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json"]);
    let out = run_cli(&all, None);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    (report, out.status.code().unwrap_or(-1))
}

/// `file:line rule` of each finding.
fn found(report: &Value) -> Vec<String> {
    report["findings"].as_array().unwrap().iter().map(|f| format!("{}:{} {}", f["file"].as_str().unwrap(), f["line"], f["rule"].as_str().unwrap())).collect()
}

#[test]
fn the_good_infrastructure_lints_clean_with_the_kubernetes_examples() {
    let (report, code) = lint_json(&["-f", "bundles/examples/iac/good", "-f", "bundles/examples/iac/k8s", "-f", "bundles/examples/good", "-R"]);
    assert_eq!((found(&report), code), (Vec::<String>::new(), 0), "{report:#}");
}

#[test]
fn every_mistake_of_the_broken_examples_is_found_in_both_languages() {
    let (report, code) = lint_json(&["-f", "bundles/examples/iac/broken", "-f", "bundles/examples/iac/k8s", "-R"]);
    assert_eq!(code, 1);
    assert_eq!(
        found(&report),
        [
            "bundles/examples/iac/broken/azuredeploy.json:19 WI035",
            "bundles/examples/iac/broken/azuredeploy.json:28 WI033",
            "bundles/examples/iac/broken/azuredeploy.json:35 WI034",
            "bundles/examples/iac/broken/azuredeploy.json:35 WI034",
            "bundles/examples/iac/broken/main.tf:12 WI035",
            "bundles/examples/iac/broken/main.tf:35 WI034",
            "bundles/examples/iac/broken/main.tf:39 WI033",
            "bundles/examples/iac/broken/main.tf:44 WI031",
        ],
        "{report:#}"
    );
}

#[test]
fn a_workload_without_a_credential_in_the_terraform_is_wi030_naming_both_files() {
    let (report, _) = lint_json(&["-f", "bundles/examples/iac/k8s", "-f", "bundles/examples/iac/broken/main.tf"]);
    let wi030: Vec<&Value> = report["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "WI030").collect();
    assert_eq!(wi030.len(), 1, "{report:#}");
    assert_eq!(wi030[0]["file"], "bundles/examples/iac/k8s/payments.yaml");
    assert_eq!((wi030[0]["kind"].as_str(), wi030[0]["name"].as_str()), (Some("Deployment"), Some("worker")));
    let message = wi030[0]["message"].as_str().unwrap();
    assert!(message.contains("(read from bundles/examples/iac/broken/main.tf)") && message.contains("system:serviceaccount:payments:worker"), "{message}");
    // The same in text and SARIF, with the Terraform file's own location.
    let text = String::from_utf8(run_cli(&["lint", "-f", "bundles/examples/iac/broken/main.tf"], None).stdout).unwrap();
    assert!(text.starts_with("bundles/examples/iac/broken/main.tf:12: error[WI035]: "), "{text}");
    let sarif: Value = serde_json::from_slice(&run_cli(&["lint", "-f", "bundles/examples/iac/broken/main.tf", "-o", "sarif"], None).stdout).unwrap();
    let location = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "bundles/examples/iac/broken/main.tf");
    assert_eq!(location["region"]["startLine"], 12);
}

#[test]
fn verbose_lists_every_resource_and_what_is_not_checked() {
    let (report, _) = lint_json(&["-f", "bundles/examples/iac/good/main.tf", "-v"]);
    let resources = report["resources"].as_array().expect("resources with -v");
    let addresses: Vec<&str> = resources.iter().map(|r| r["address"].as_str().unwrap()).collect();
    assert_eq!(
        addresses,
        [
            "azurerm_kubernetes_cluster.aks",
            "azurerm_user_assigned_identity.payments",
            "azurerm_federated_identity_credential.api",
            "azurerm_federated_identity_credential.worker",
            "azurerm_role_assignment.secrets",
        ]
    );
    let api = &resources[2];
    assert_eq!(api["attributes"]["subject"], "system:serviceaccount:payments:api");
    assert_eq!(api["notChecked"]["issuer"]["reason"], "azurerm_kubernetes_cluster.aks.oidc_issuer_url is known only after deployment");
    assert_eq!(api["notChecked"]["issuer"]["line"], 39);
    // A variable's default is known: the identity's location.
    assert_eq!(resources[1]["attributes"]["location"], "westeurope");
    let text = String::from_utf8(run_cli(&["lint", "-f", "bundles/examples/iac/good/main.tf", "-v"], None).stdout).unwrap();
    assert!(
        text.contains("bundles/examples/iac/good/main.tf:39: not checked: azurerm_federated_identity_credential.api issuer: azurerm_kubernetes_cluster.aks.oidc_issuer_url is known only after deployment"),
        "{text}"
    );
    // Without -v, the JSON report keeps its shape.
    let (plain, _) = lint_json(&["-f", "bundles/examples/iac/good/main.tf"]);
    assert!(plain.get("resources").is_none());
}

#[test]
fn bad_terraform_is_an_input_error_with_file_and_line() {
    let dir = wi_conformance::repo_root().join("target/test-scratch/iac");
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("syntax.tf", "resource \"azurerm_user_assigned_identity\" \"a\" {\n  name = \"x\"\n  location = \n}\n", "syntax.tf:3:14: error: not valid HCL: invalid expression"),
        ("deep.tf", &format!("locals {{\n  x = {}1{}\n}}\n", "[".repeat(200), "]".repeat(200)), "deep.tf:2: error: nesting deeper than 64 levels"),
        ("unclosed.tf", "resource \"a\" \"b\" {\n", "unclosed.tf:"),
    ];
    for (name, text, want) in cases {
        std::fs::write(dir.join(name), text).unwrap();
        let path = format!("target/test-scratch/iac/{name}");
        let out = run_cli(&["lint", "-f", &path], None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(want), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: nothing on stdout");
    }
}
