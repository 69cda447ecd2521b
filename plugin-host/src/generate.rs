//! `kubectl wi generate`: flags to a spec, the core's artifacts to stdout or
//! to files. Every value is checked and every file written by the core's
//! rules; this module only parses, reads and writes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use serde_json::{Map, Value, json};

use crate::host::{Artifact, Core, GenerateError, GenerateRequest};
use crate::inputs;
use crate::{EXIT_INPUT, emit, flag_name, usage};

#[derive(Args)]
pub struct GenerateArgs {
    /// Application name: names the Deployment and the output files.
    #[arg(long, value_name = "APP")]
    name: Option<String>,
    /// Namespace of a ServiceAccount; pairs with --service-account (one
    /// --namespace serves every --service-account). Repeatable.
    #[arg(long, value_name = "NS")]
    namespace: Vec<String>,
    /// ServiceAccount name; one federated credential each. Repeatable.
    #[arg(long = "service-account", value_name = "SA")]
    service_account: Vec<String>,
    /// User-assigned managed identity name.
    #[arg(long = "identity-name", value_name = "ID")]
    identity_name: Option<String>,
    /// Resource group of the identity.
    #[arg(long = "resource-group", value_name = "RG")]
    resource_group: Option<String>,
    /// The cluster's OIDC issuer URL (`az aks show --query oidcIssuerProfile.issuerUrl -o tsv`).
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// Tenant ID, written to the ServiceAccount's tenant-id annotation.
    #[arg(long = "tenant-id", value_name = "GUID")]
    tenant_id: Option<String>,
    /// The identity's client ID (needed by --format yaml).
    #[arg(long = "client-id", value_name = "GUID")]
    client_id: Option<String>,
    #[arg(long = "subscription-id", value_name = "GUID")]
    subscription_id: Option<String>,
    /// Azure region of the identity [default: the region of an AKS issuer URL].
    #[arg(long, value_name = "L")]
    location: Option<String>,
    /// AKS cluster name: the az script checks (and enables) its issuer and workload identity.
    #[arg(long = "cluster-name", value_name = "C")]
    cluster_name: Option<String>,
    /// Resource group of the cluster [default: --resource-group].
    #[arg(long = "cluster-resource-group", value_name = "RG")]
    cluster_resource_group: Option<String>,
    /// Container image: with it, a Deployment per ServiceAccount.
    #[arg(long, value_name = "IMG")]
    image: Option<String>,
    /// Role to assign the identity (name or definition ID); pairs with --scope. Repeatable.
    #[arg(long, value_name = "ROLE")]
    role: Vec<String>,
    /// Resource ID the --role of the same position applies to. Repeatable.
    #[arg(long, value_name = "SCOPE")]
    scope: Vec<String>,
    /// AKS identity binding: one binding on the cluster (AKS writes the
    /// identity's one credential) and RBAC per ServiceAccount, instead of a
    /// federated credential per ServiceAccount. Needs --cluster-name.
    /// (`--identity-binding=false` turns off a spec file's `identityBinding: true`.)
    #[arg(long = "identity-binding", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    identity_binding: Option<bool>,
    /// Name of the identity binding [default: the identity name's letters and digits].
    #[arg(long = "identity-binding-name", value_name = "NAME")]
    identity_binding_name: Option<String>,
    /// `az aks show -o json` output: issuer, location, resource group, cluster name.
    #[arg(long = "from-cluster", value_name = "AKS_SHOW.json")]
    from_cluster: Option<String>,
    /// A spec file (YAML or JSON): the single-value flags' names in camelCase (`identityName`, `tenantId`...), `serviceAccounts: [{namespace, name, ficName}]` and `roles: [{role, scope}]` for the repeated ones; flags override it.
    #[arg(long, value_name = "FILE")]
    spec: Option<String>,
    /// yaml, aso, az, bicep, arm, terraform or all [default: yaml; all with -o].
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// Directory to write one file per format to (APP.yaml, APP-aso.yaml, APP.sh, APP.bicep, APP.json, APP.tf).
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Overwrite files that exist in DIR.
    #[arg(long)]
    force: bool,
}

/// The flags the user gave, as a spec object the core merges over the files.
fn overrides(args: &GenerateArgs) -> Result<Value, u8> {
    let mut spec = Map::new();
    let scalars = [
        ("name", &args.name),
        ("identityName", &args.identity_name),
        ("resourceGroup", &args.resource_group),
        ("issuer", &args.issuer),
        ("tenantId", &args.tenant_id),
        ("clientId", &args.client_id),
        ("subscriptionId", &args.subscription_id),
        ("location", &args.location),
        ("clusterName", &args.cluster_name),
        ("clusterResourceGroup", &args.cluster_resource_group),
        ("image", &args.image),
        ("identityBindingName", &args.identity_binding_name),
    ];
    for (key, value) in scalars {
        if let Some(v) = value {
            spec.insert(key.into(), Value::String(v.clone()));
        }
    }
    if let Some(on) = args.identity_binding {
        spec.insert("identityBinding".into(), Value::Bool(on));
    }
    let (namespaces, accounts) = (&args.namespace, &args.service_account);
    if !(namespaces.len() == accounts.len() || (namespaces.len() == 1 && !accounts.is_empty())) {
        return Err(usage(format!(
            "--namespace and --service-account come in pairs (or one --namespace for all): got {} --namespace and {} --service-account",
            namespaces.len(),
            accounts.len()
        )));
    }
    if !accounts.is_empty() {
        let pairs: Vec<Value> = accounts
            .iter()
            .enumerate()
            .map(|(i, sa)| json!({"namespace": namespaces.get(i).unwrap_or(&namespaces[0]), "name": sa}))
            .collect();
        spec.insert("serviceAccounts".into(), Value::Array(pairs));
    }
    if args.role.len() != args.scope.len() {
        return Err(usage(format!("--role and --scope come in pairs: got {} --role and {} --scope", args.role.len(), args.scope.len())));
    }
    if !args.role.is_empty() {
        let roles = args.role.iter().zip(&args.scope).map(|(role, scope)| json!({"role": role, "scope": scope})).collect();
        spec.insert("roles".into(), Value::Array(roles));
    }
    Ok(Value::Object(spec))
}

/// `clientId` -> `--client-id`; `serviceAccounts[1].namespace` ->
/// `--namespace (2nd pair)`; fields only a spec file has keep their name.
fn flag_for(field: &str) -> String {
    let (head, rest) = field.split_once('[').map_or((field, ""), |(h, r)| (h, r));
    let index = rest.split_once(']').and_then(|(i, _)| i.parse::<usize>().ok());
    let leaf = rest.split_once("].").map(|(_, l)| l);
    let pair = |flag: &str| match index {
        Some(i) => format!("{flag} (pair {})", i + 1),
        None => flag.to_string(),
    };
    match (head, leaf) {
        ("serviceAccounts", Some("namespace")) => pair("--namespace"),
        ("serviceAccounts", Some("name")) => pair("--service-account"),
        ("serviceAccounts", None) => "--namespace/--service-account".into(),
        ("roles", Some("role")) => pair("--role"),
        ("roles", Some("scope")) => pair("--scope"),
        ("fromCluster", _) => "--from-cluster".into(),
        ("spec", _) => "--spec".into(),
        ("format", _) => "--format".into(),
        ("roles", None) | (_, Some(_)) => field.to_string(),
        _ => flag_name(head),
    }
}

/// At most this many errors are printed; a spec with thousands of bad
/// entries says how many more there are.
const MAX_ERRORS_SHOWN: usize = 50;

fn print_errors(errors: &[GenerateError]) -> u8 {
    if errors.len() > MAX_ERRORS_SHOWN {
        eprintln!("kubectl wi: error: {} problems; the first {MAX_ERRORS_SHOWN}:", errors.len());
    }
    for e in errors.iter().take(MAX_ERRORS_SHOWN) {
        if e.file.is_empty() {
            eprintln!("kubectl wi: error: {}: {}", flag_for(&e.field), e.message);
        } else if e.line > 0 {
            eprintln!("{}:{}: error: {}: {}", e.file, e.line, e.field, e.message);
        } else {
            eprintln!("{}: error: {}: {}", e.file, e.field, e.message);
        }
    }
    EXIT_INPUT
}

pub fn run(args: GenerateArgs) -> Result<u8> {
    let overrides = match overrides(&args) {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    if args.spec.as_deref() == Some("-") && args.from_cluster.as_deref() == Some("-") {
        return Ok(usage("--spec and --from-cluster cannot both read standard input"));
    }
    let read = |arg: &Option<String>, flag: &str| -> Result<Option<crate::host::SourceFile>, u8> {
        arg.as_deref()
            .map(|path| {
                if path.is_empty() {
                    return Err(usage(format!("{flag}: the path is empty")));
                }
                inputs::read_one(path).map(|f| crate::host::SourceFile { name: f.name, content: f.content }).map_err(|e| {
                    eprintln!("{e}");
                    EXIT_INPUT
                })
            })
            .transpose()
    };
    let spec = match read(&args.spec, "--spec") {
        Ok(f) => f,
        Err(code) => return Ok(code),
    };
    let cluster = match read(&args.from_cluster, "--from-cluster") {
        Ok(f) => f,
        Err(code) => return Ok(code),
    };
    let format = args.format.clone().unwrap_or_else(|| if args.output_dir.is_some() { "all".into() } else { "yaml".into() });
    if format == "all" && args.output_dir.is_none() {
        return Ok(usage("--format all writes several files: give -o DIR"));
    }
    let request = GenerateRequest { spec, cluster, overrides_json: overrides.to_string(), formats: vec![format] };
    let generated = match Core::new()?.generate(&request)? {
        Ok(g) => g,
        Err(errors) => return Ok(print_errors(&errors)),
    };
    for note in &generated.notes {
        eprintln!("kubectl wi: note: {note}");
    }
    match &args.output_dir {
        None => {
            let text: String = generated.artifacts.iter().map(|a| a.content.as_str()).collect();
            emit(&text)?;
            Ok(0)
        }
        Some(dir) => write_files(dir, &generated.artifacts, args.force),
    }
}

/// Writes every artifact into `dir`, or none: existing files stop the run
/// unless `force`, and each file is written to a temporary name first and
/// renamed into place only when all of them were written.
pub(crate) fn write_files(dir: &Path, artifacts: &[Artifact], force: bool) -> Result<u8> {
    if let Err(e) = fs::create_dir_all(dir) {
        return Ok(usage(format!("-o {}: cannot create the directory: {e}", dir.display())));
    }
    let targets: Vec<PathBuf> = artifacts.iter().map(|a| dir.join(&a.file_name)).collect();
    let mut blocked = Vec::new();
    for target in &targets {
        match fs::symlink_metadata(target) {
            Ok(meta) if meta.is_dir() => return Ok(usage(format!("{} is a directory", target.display()))),
            Ok(_) if !force => blocked.push(target.display().to_string()),
            _ => {}
        }
    }
    if !blocked.is_empty() {
        return Ok(usage(format!("{} already exist{}; nothing written (--force overwrites)", blocked.join(", "), if blocked.len() == 1 { "s" } else { "" })));
    }
    let mut staged: Vec<(PathBuf, &PathBuf)> = Vec::new();
    let cleanup = |staged: &[(PathBuf, &PathBuf)]| {
        for (tmp, _) in staged {
            let _ = fs::remove_file(tmp);
        }
    };
    for (artifact, target) in artifacts.iter().zip(&targets) {
        let tmp = dir.join(format!(".{}.kubectl-wi-{}.tmp", artifact.file_name, std::process::id()));
        let written = (|| -> std::io::Result<()> {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(artifact.content.as_bytes())?;
            file.sync_all()?;
            #[cfg(unix)]
            if artifact.file_name.ends_with(".sh") {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))?;
            }
            Ok(())
        })();
        staged.push((tmp, target));
        if let Err(e) = written {
            cleanup(&staged);
            return Ok(usage(format!("{}: cannot write: {e}; nothing written", target.display())));
        }
    }
    // Existing files step aside first: if any cannot be moved (or a new
    // file cannot take its place), everything goes back as it was.
    let mut set_aside: Vec<(PathBuf, &PathBuf)> = Vec::new();
    let restore = |set_aside: &[(PathBuf, &PathBuf)]| {
        for (backup, target) in set_aside {
            let _ = fs::rename(backup, target);
        }
    };
    for target in &targets {
        if fs::symlink_metadata(target).is_ok() {
            let backup = dir.join(format!(".{}.kubectl-wi-{}.old", target.file_name().unwrap_or_default().to_string_lossy(), std::process::id()));
            if let Err(e) = fs::rename(target, &backup) {
                restore(&set_aside);
                cleanup(&staged);
                return Ok(usage(format!("{}: cannot replace: {e}; nothing written", target.display())));
            }
            set_aside.push((backup, target));
        }
    }
    for (placed, (tmp, target)) in staged.iter().enumerate() {
        if let Err(e) = fs::rename(tmp, target) {
            for (_, done) in &staged[..placed] {
                let _ = fs::remove_file(done);
            }
            restore(&set_aside);
            cleanup(&staged[placed..]);
            return Ok(usage(format!("{}: cannot write: {e}; nothing written", target.display())));
        }
    }
    for (backup, _) in &set_aside {
        let _ = fs::remove_file(backup);
    }
    for target in &targets {
        eprintln!("wrote {}", target.display());
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::flag_for;

    #[test]
    fn fields_are_named_as_flags() {
        assert_eq!(flag_for("clientId"), "--client-id");
        assert_eq!(flag_for("serviceAccounts[1].namespace"), "--namespace (pair 2)");
        assert_eq!(flag_for("serviceAccounts[0].name"), "--service-account (pair 1)");
        assert_eq!(flag_for("roles[0].scope"), "--scope (pair 1)");
        assert_eq!(flag_for("serviceAccounts[0].ficName"), "serviceAccounts[0].ficName");
        assert_eq!(flag_for("fromCluster"), "--from-cluster");
    }
}
