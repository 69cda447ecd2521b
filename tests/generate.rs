//! `kubectl wi generate` as users call it: the contract's flags, files,
//! exit codes and messages, and the same artifacts from the native core
//! and from the component in wasmtime. The outside tools (Azure CLI,
//! kubernetes-validate, Bicep and HCL parsers) check the artifacts in
//! tests/outside.

use std::path::{Path, PathBuf};
use std::process::Output;

use wi_conformance::{repo_root, run_cli};
use wi_core::generate::{self, Format, Request};

const SPEC: &str = "bundles/examples/generate/spec.yaml";
const CLUSTER: &str = "bundles/examples/generate/aks-show.json";
const ISSUER: &str = "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/5c6d8e0a-1b2c-4d3e-8f90-a1b2c3d4e5f6/";

fn scratch(name: &str) -> PathBuf {
    let dir = repo_root().join("target/test-scratch").join(format!("generate-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn rel(path: &Path) -> String {
    path.strip_prefix(repo_root()).unwrap().display().to_string()
}

fn expect_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
}

const FILES: [&str; 6] = ["shop.yaml", "shop-aso.yaml", "shop.sh", "shop.bicep", "shop.json", "shop.tf"];

#[test]
fn every_format_is_written_and_the_manifests_lint_clean() {
    let dir = scratch("all");
    let out = run_cli(&["generate", "--spec", SPEC, "-o", &rel(&dir)], None);
    expect_exit(&out, 0);
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let mut want: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(names, want, "one file per format, no temporary files left");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(dir.join("shop.sh")).unwrap().permissions().mode() & 0o777, 0o755);
    }
    // The Kubernetes and ASO files together: every ServiceAccount has its
    // credential, nothing for any rule to report.
    let lint = run_cli(&["lint", "-f", &rel(&dir.join("shop.yaml")), "-f", &rel(&dir.join("shop-aso.yaml")), "-o", "json"], None);
    expect_exit(&lint, 0);
    let report: serde_json::Value = serde_json::from_slice(&lint.stdout).unwrap();
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
    // The ARM template names the same subjects and issuer.
    let arm: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("shop.json")).unwrap()).unwrap();
    let subjects: Vec<&str> = arm["resources"].as_array().unwrap().iter().filter_map(|r| r["properties"]["subject"].as_str()).collect();
    assert_eq!(subjects, ["system:serviceaccount:shop:web", "system:serviceaccount:shop:worker"]);
    assert_eq!(arm["parameters"]["issuer"]["defaultValue"], ISSUER);
}

#[test]
fn the_component_and_the_native_core_write_the_same_files() {
    let spec = std::fs::read_to_string(repo_root().join(SPEC)).unwrap();
    let request = Request {
        spec_file: Some(wi_core::SourceFile { name: SPEC.into(), content: spec }),
        formats: Format::ALL.to_vec(),
        ..Default::default()
    };
    let native = generate::generate(&request).unwrap();
    for artifact in native.artifacts {
        let out = run_cli(&["generate", "--spec", SPEC, "--format", artifact.format.name()], None);
        expect_exit(&out, 0);
        assert_eq!(text(&out.stdout), artifact.content, "format {}", artifact.format.name());
    }
}

#[test]
fn one_format_goes_to_stdout_and_all_needs_a_directory() {
    let out = run_cli(&["generate", "--spec", SPEC], None);
    expect_exit(&out, 0);
    assert!(text(&out.stdout).contains("kind: ServiceAccount"), "yaml is the default without -o");
    let out = run_cli(&["generate", "--spec", SPEC, "--format", "all"], None);
    expect_exit(&out, 2);
    assert!(text(&out.stderr).contains("-o DIR"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let out = run_cli(&["generate", "--spec", SPEC, "--format", "helm"], None);
    expect_exit(&out, 2);
    assert!(text(&out.stderr).contains("--format: \"helm\" is not one of"), "{}", text(&out.stderr));
}

#[test]
fn existing_files_stop_the_run_unless_forced() {
    let dir = scratch("force");
    std::fs::write(dir.join("shop.tf"), "# mine\n").unwrap();
    let out = run_cli(&["generate", "--spec", SPEC, "-o", &rel(&dir)], None);
    expect_exit(&out, 2);
    assert!(text(&out.stderr).contains("shop.tf already exists; nothing written"), "{}", text(&out.stderr));
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "no other file was written");
    assert_eq!(std::fs::read_to_string(dir.join("shop.tf")).unwrap(), "# mine\n");
    let out = run_cli(&["generate", "--spec", SPEC, "-o", &rel(&dir), "--force"], None);
    expect_exit(&out, 0);
    assert!(std::fs::read_to_string(dir.join("shop.tf")).unwrap().contains("azurerm_federated_identity_credential"));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 6);
}

/// Flags that are wrong: exit 2, the flag and the lint rule named, nothing
/// on stdout and nothing written.
#[test]
fn bad_values_name_their_flag_and_rule() {
    let dir = scratch("bad");
    let base = ["generate", "--spec", SPEC];
    let cases: &[(&[&str], &[&str])] = &[
        (&["--client-id", "not-a-guid"], &["--client-id", "[WI005]", "is not a GUID"]),
        (&["--client-id", "<CLIENT_ID>"], &["--client-id", "[WI005]", "placeholder"]),
        (&["--issuer", "http://example.com/"], &["--issuer", "[WI021]", "https://"]),
        (&["--namespace", "Shop", "--service-account", "web"], &["--namespace (pair 1)", "[WI020]"]),
        (&["--namespace", "a", "--namespace", "b", "--service-account", "web"], &["come in pairs"]),
        (&["--role", "Reader"], &["--role and --scope come in pairs"]),
        (&["--role", "Reader", "--scope", "rg-shop"], &["--scope (pair 1)", "Azure resource ID"]),
        (&["--identity-name", "x"], &["--identity-name", "3 to 128"]),
        (&["--tenant-id", "${TENANT}"], &["--tenant-id", "[WI005]"]),
        (&["--location", "west europe!"], &["--location"]),
    ];
    for (extra, needles) in cases {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        let target = rel(&dir);
        args.extend(["-o", target.as_str()]);
        let out = run_cli(&args, None);
        expect_exit(&out, 2);
        let err = text(&out.stderr);
        for needle in *needles {
            assert!(err.contains(needle), "{extra:?}: {needle:?} not in {err}");
        }
        assert!(out.stdout.is_empty(), "{extra:?}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "{extra:?} wrote files");
    }
}

#[test]
fn a_format_names_what_it_lacks() {
    let minimal = ["generate", "--name", "app", "--namespace", "app", "--service-account", "app"];
    let run = |extra: &[&str]| {
        let mut args = minimal.to_vec();
        args.extend_from_slice(extra);
        run_cli(&args, None)
    };
    let out = run(&["--format", "yaml"]);
    expect_exit(&out, 2);
    assert!(text(&out.stderr).contains("--client-id: is required for format yaml"), "{}", text(&out.stderr));
    // No location and an issuer that is not AKS's: Terraform needs --location.
    let out = run(&["--format", "terraform", "--identity-name", "id-app", "--resource-group", "rg", "--issuer", "https://issuer.example.com/"]);
    expect_exit(&out, 2);
    assert!(text(&out.stderr).contains("--location: is required for format terraform"), "{}", text(&out.stderr));
    // An AKS issuer gives the region.
    let out = run(&["--format", "terraform", "--identity-name", "id-app", "--resource-group", "rg", "--issuer", ISSUER]);
    expect_exit(&out, 0);
    assert!(text(&out.stdout).contains("location            = \"westeurope\""), "{}", text(&out.stdout));
}

#[test]
fn spec_file_errors_carry_file_and_line() {
    let dir = scratch("spec-lines");
    let spec = dir.join("spec.yaml");
    let long = "f".repeat(121);
    std::fs::write(&spec, format!("name: app\nserviceAccounts:\n  - namespace: app\n    name: web\n    ficName: {long}\nidentityName: id-app\nresourceGroup: rg\nissuer: {ISSUER}\ncolour: blue\n")).unwrap();
    let out = run_cli(&["generate", "--spec", &rel(&spec), "--format", "az"], None);
    expect_exit(&out, 2);
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{}:5: error: serviceAccounts[0].ficName: [WI023]", rel(&spec))), "{err}");
    assert!(err.contains(&format!("{}:9: error: colour: is not a spec field", rel(&spec))), "{err}");
}

#[test]
fn a_cluster_without_workload_identity_is_enabled_by_the_script() {
    let out = run_cli(&["generate", "--spec", SPEC, "--from-cluster", CLUSTER, "--format", "az"], None);
    expect_exit(&out, 0);
    assert!(text(&out.stderr).contains("az aks update --enable-oidc-issuer --enable-workload-identity"), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    let update = script.lines().find(|l| l.contains("az aks update")).expect("the script enables the features");
    assert!(!update.starts_with(' '), "enabled unconditionally: {update}");
    // Its issuer is unknown until then: the spec's stands, and the formats
    // that write the issuer without az still need one.
    let out = run_cli(&["generate", "--name", "app", "--namespace", "app", "--service-account", "app", "--identity-name", "id-app", "--from-cluster", CLUSTER, "--format", "bicep"], None);
    expect_exit(&out, 2);
    assert!(text(&out.stderr).contains("--issuer: is required for format bicep"), "{}", text(&out.stderr));
}

#[test]
fn the_cluster_file_gives_issuer_location_and_groups() {
    let dir = scratch("cluster");
    let cluster = dir.join("aks.json");
    let enabled = std::fs::read_to_string(repo_root().join(CLUSTER))
        .unwrap()
        .replace("\"enabled\": false,\n    \"issuerUrl\": null", &format!("\"enabled\": true,\n    \"issuerUrl\": \"{ISSUER}\""))
        .replace("\"workloadIdentity\": null", "\"workloadIdentity\": {\"enabled\": true}");
    std::fs::write(&cluster, enabled).unwrap();
    let out = run_cli(&["generate", "--name", "app", "--namespace", "app", "--service-account", "app", "--identity-name", "id-app", "--from-cluster", &rel(&cluster), "--format", "terraform"], None);
    expect_exit(&out, 0);
    assert!(out.stderr.is_empty(), "no note for an enabled cluster: {}", text(&out.stderr));
    let tf = text(&out.stdout);
    for needle in [format!("issuer                    = \"{ISSUER}\""), "resource_group_name = \"rg-shop\"".into(), "location            = \"westeurope\"".into()] {
        assert!(tf.contains(&needle), "{needle} not in {tf}");
    }
    // And lint reads the same file as the cluster's issuer (WI032).
    let lint = run_cli(&["lint", "-f", &rel(&cluster), "-f", "tests/fixtures/lint/WI032-fires.yaml", "-o", "json"], None);
    let report: serde_json::Value = serde_json::from_slice(&lint.stdout).unwrap();
    let rules: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"WI032"), "{report:#}");
}

#[test]
fn bicep_and_arm_refuse_what_they_cannot_express() {
    let out = run_cli(&["generate", "--spec", SPEC, "--format", "bicep", "--role", "My Custom Role", "--scope", "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-shop"], None);
    expect_exit(&out, 2);
    assert!(text(&out.stderr).contains("needs the role definition's GUID"), "{}", text(&out.stderr));
    let out = run_cli(&["generate", "--spec", SPEC, "--format", "arm", "--role", "Reader", "--scope", "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/other"], None);
    expect_exit(&out, 2);
    assert!(text(&out.stderr).contains("outside resource group \"rg-shop\""), "{}", text(&out.stderr));
    // az and Terraform take any role name at any scope.
    let out = run_cli(&["generate", "--spec", SPEC, "--format", "terraform", "--role", "My Custom Role", "--scope", "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/other"], None);
    expect_exit(&out, 0);
    assert!(text(&out.stdout).contains("role_definition_name = \"My Custom Role\""));
}

#[test]
fn several_credentials_are_written_one_after_another() {
    let out = run_cli(&["generate", "--spec", SPEC, "--format", "terraform"], None);
    expect_exit(&out, 0);
    let tf = text(&out.stdout);
    assert_eq!(tf.matches("resource \"azurerm_federated_identity_credential\"").count(), 2);
    assert!(tf.contains("depends_on                = [azurerm_federated_identity_credential.fic_shop_web]"), "{tf}");
    let out = run_cli(&["generate", "--spec", SPEC, "--format", "bicep"], None);
    assert!(text(&out.stdout).contains("@batchSize(1)"));
}

/// Cases a hostile review found: names that meet after shortening, one
/// grant written twice, the `default` ServiceAccount.
#[test]
fn derived_names_never_collide_and_grants_are_written_once() {
    let long = "a".repeat(63);
    let out = run_cli(&["generate", "--name", &long, "--namespace", "ns", "--service-account", "sa-with-long-name", "--service-account", "other", "--client-id", "4a1e7a39-6c0b-4b2e-9d3c-8f2b5e6d7c10", "--image", "nginx:1.27"], None);
    expect_exit(&out, 0);
    let yaml = text(&out.stdout);
    let names: Vec<&str> = yaml.lines().filter_map(|l| l.strip_prefix("  name: ")).collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(names.len(), unique.len(), "{names:?}");
    assert!(names.iter().all(|n| n.len() <= 63), "{names:?}");

    // `a-b`/`c` and `a`/`b-c` both derive `a-b-c`.
    let out = run_cli(&["generate", "--name", "app", "--namespace", "a-b", "--service-account", "c", "--namespace", "a", "--service-account", "b-c", "--identity-name", "id-app", "--issuer", ISSUER, "--format", "arm"], None);
    expect_exit(&out, 0);
    let arm: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fics: Vec<&str> = arm["resources"].as_array().unwrap().iter().skip(1).map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(fics.len(), 2);
    assert_ne!(fics[0], fics[1]);

    let reader = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-shop";
    let out = run_cli(&["generate", "--spec", SPEC, "--format", "bicep", "--role", "Reader", "--scope", reader, "--role", "reader", "--scope", reader, "--role", "acdd72a7-3385-48ef-bd42-f606fba81ae7", "--scope", &reader.to_uppercase().replace("SUBSCRIPTIONS", "subscriptions")], None);
    expect_exit(&out, 0);
    assert_eq!(text(&out.stdout).matches("Microsoft.Authorization/roleAssignments@").count(), 1, "{}", text(&out.stdout));

    let out = run_cli(&["generate", "--spec", SPEC, "--namespace", "shop", "--service-account", "default"], None);
    expect_exit(&out, 2);
    assert!(text(&out.stderr).contains("[WI012]"), "{}", text(&out.stderr));
}

#[test]
fn a_helm_template_is_named_as_one() {
    let dir = scratch("helm");
    let chart = dir.join("deployment.yaml");
    std::fs::write(&chart, "{{- if .Values.enabled }}\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Release.Name }}\n{{- end }}\n").unwrap();
    let out = run_cli(&["lint", "-f", &rel(&chart)], None);
    expect_exit(&out, 2);
    assert!(text(&out.stderr).contains("render it with `helm template` first"), "{}", text(&out.stderr));
}

/// The example spec in identity-binding mode, every format, in `dir`.
fn generate_binding(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["generate", "--spec", SPEC, "--identity-binding", "-o"];
    let dir = rel(dir);
    args.push(&dir);
    args.extend_from_slice(extra);
    run_cli(&args, None)
}

#[test]
fn identity_binding_writes_a_binding_and_rbac_instead_of_credentials() {
    let dir = scratch("binding");
    let out = generate_binding(&dir, &[]);
    expect_exit(&out, 0);
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    // The binding's name comes from the identity's, and a note says so.
    assert!(text(&out.stderr).contains("identity binding name \"idshop\" derived from identity \"id-shop\""), "{}", text(&out.stderr));

    // ARM: the binding on the cluster, pointing at the identity; no credentials.
    let arm: serde_json::Value = serde_json::from_str(&read("shop.json")).unwrap();
    let resources = arm["resources"].as_array().unwrap();
    let types: Vec<&str> = resources.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert!(!types.iter().any(|t| t.ends_with("federatedIdentityCredentials")), "{types:?}");
    let binding = resources.iter().find(|r| r["type"] == "Microsoft.ContainerService/managedClusters/identityBindings").expect("binding");
    assert_eq!(binding["name"], "aks-shop/idshop", "the identity name without its `-`: the binding name pattern has no `-`");
    assert_eq!(binding["properties"]["managedIdentity"]["resourceId"], "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-shop')]");
    assert!(arm["parameters"].get("issuer").is_none());

    // The az script creates the binding, never a credential.
    let script = read("shop.sh");
    assert!(script.contains("az aks identity-binding create --resource-group \"$CLUSTER_RESOURCE_GROUP\" --cluster-name \"$CLUSTER_NAME\" --name \"$BINDING_NAME\""), "{script}");
    assert!(!script.contains("federated-credential"), "{script}");
    for (file, needle) in [("shop.bicep", "identityBindings@2026-04-01"), ("shop.tf", "azapi_resource"), ("shop-aso.yaml", "kind: IdentityBinding")] {
        assert!(read(file).contains(needle), "{file} lacks {needle}");
        assert!(!read(file).to_lowercase().contains("federatedidentitycredential") && !read(file).contains("federated_identity_credential"), "{file}");
    }

    // The Kubernetes side: pods opt in to the binding, RBAC grants each
    // ServiceAccount the identity, and lint agrees.
    let yaml = read("shop.yaml");
    assert_eq!(yaml.matches("azure.workload.identity/use-identity-binding: \"true\"").count(), 2, "{yaml}");
    let lint = run_cli(&["lint", "-f", &rel(&dir.join("shop.yaml")), "-o", "json"], None);
    expect_exit(&lint, 0);
    let report: serde_json::Value = serde_json::from_slice(&lint.stdout).unwrap();
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");

    // Without the worker's subject in the ClusterRoleBinding, lint's WI030
    // sees the missing grant: generate writes exactly what lint checks.
    let cut = yaml.replacen("- kind: ServiceAccount\n  name: worker\n  namespace: shop\n", "", 1);
    assert_ne!(cut, yaml, "the binding's worker subject is written as expected");
    std::fs::write(dir.join("cut.yaml"), cut).unwrap();
    let lint = run_cli(&["lint", "-f", &rel(&dir.join("cut.yaml")), "-o", "json"], None);
    let report: serde_json::Value = serde_json::from_slice(&lint.stdout).unwrap();
    let codes: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(codes, ["WI030"], "{report:#}");
}

#[test]
fn identity_binding_values_are_checked() {
    let dir = scratch("binding-bad");
    let out = generate_binding(&dir, &["--identity-binding-name", "shop-ib"]);
    expect_exit(&out, 2);
    assert!(text(&out.stderr).contains("--identity-binding-name: \"shop-ib\" contains '-'"), "{}", text(&out.stderr));
    let out = generate_binding(&dir, &["--identity-binding-name", &"a".repeat(64)]);
    expect_exit(&out, 2);
    assert!(text(&out.stderr).contains("is 64 characters long; an identity binding name has 1 to 63"), "{}", text(&out.stderr));
    // Bicep and ARM deploy the binding beside the identity.
    let out = generate_binding(&dir, &["--cluster-resource-group", "rg-aks", "--format", "bicep"]);
    expect_exit(&out, 2);
    assert!(text(&out.stderr).contains("--cluster-resource-group: \"rg-aks\" is not resource group \"rg-shop\""), "{}", text(&out.stderr));
    // ... while az and terraform address the cluster's own group.
    let out = run_cli(&["generate", "--spec", SPEC, "--identity-binding", "--cluster-resource-group", "rg-aks", "--format", "terraform"], None);
    expect_exit(&out, 0);
    assert!(text(&out.stdout).contains("resource_group_name = \"rg-aks\""), "{}", text(&out.stdout));
    // A binding belongs to a cluster: without its name, every Azure format says so.
    let out = run_cli(
        &["generate", "--name", "a", "--namespace", "a", "--service-account", "b", "--identity-name", "id-a", "--resource-group", "rg", "--location", "westeurope", "--identity-binding", "--format", "az"],
        None,
    );
    expect_exit(&out, 2);
    assert!(text(&out.stderr).contains("--cluster-name: is required for format az (an identity binding belongs to the cluster)"), "{}", text(&out.stderr));
    // A name over 63 or with leading digits keeps a hash of the identity's
    // name: two identities never share a derived binding name.
    let long = "team-shared-workload-identity-for-the-payments-processing-service-in-eastus2";
    let names: Vec<String> = ["-prod", "-dev"]
        .iter()
        .map(|env| {
            let out = run_cli(&["generate", "--spec", SPEC, "--identity-binding", "--identity-name", &format!("{long}{env}"), "--format", "az"], None);
            expect_exit(&out, 0);
            text(&out.stdout).lines().find_map(|l| l.strip_prefix("BINDING_NAME=")).unwrap().to_string()
        })
        .collect();
    assert_ne!(names[0], names[1]);
    assert!(names.iter().all(|n| n.trim_matches('\'').len() <= 63), "{names:?}");
    // `--identity-binding=false` turns a spec's binding off.
    std::fs::write(dir.join("binding.yaml"), std::fs::read_to_string(repo_root().join(SPEC)).unwrap() + "identityBinding: true\n").unwrap();
    let out = run_cli(&["generate", "--spec", &rel(&dir.join("binding.yaml")), "--identity-binding=false", "--format", "arm"], None);
    expect_exit(&out, 0);
    assert!(text(&out.stdout).contains("federatedIdentityCredentials") && !text(&out.stdout).contains("identityBindings"));
    // The 20-credential limit is what bindings lift.
    let mut args: Vec<String> = ["generate", "--spec", SPEC, "--identity-binding", "--format", "yaml", "--namespace", "shop"].map(String::from).to_vec();
    for i in 0..25 {
        args.extend(["--service-account".to_string(), format!("sa{i}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_cli(&args, None);
    expect_exit(&out, 0);
    assert_eq!(text(&out.stdout).matches("kind: ServiceAccount\n  name: sa").count(), 25);
}

#[test]
fn identity_binding_is_the_same_from_the_component_and_the_native_core() {
    let spec = std::fs::read_to_string(repo_root().join(SPEC)).unwrap();
    let request = Request {
        spec_file: Some(wi_core::SourceFile { name: SPEC.into(), content: spec }),
        overrides: serde_json::json!({"identityBinding": true}),
        formats: Format::ALL.to_vec(),
        ..Default::default()
    };
    let native = generate::generate(&request).unwrap();
    for artifact in native.artifacts {
        let out = run_cli(&["generate", "--spec", SPEC, "--identity-binding", "--format", artifact.format.name()], None);
        expect_exit(&out, 0);
        assert_eq!(text(&out.stdout), artifact.content, "format {}", artifact.format.name());
    }
}
