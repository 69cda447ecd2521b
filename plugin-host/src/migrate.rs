//! `kubectl wi migrate`: reads aad-pod-identity objects and workloads, and
//! prints (or writes with `-o DIR`) what the core plans for Workload ID.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::host::{Artifact, Core, MigrateFailure, MigrateRequest, Migration};
use crate::report::printable;
use crate::{InputArgs, emit, print_input_errors, print_option_error, read_inputs};

/// Exit status when something needs a person (the rest is still written).
const EXIT_MANUAL: u8 = 1;
const REPORT_FILE: &str = "migration-report.txt";

#[derive(Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The cluster's OIDC issuer URL (`az aks show --query oidcIssuerProfile.issuerUrl -o tsv`);
    /// taken from `az aks show -o json` output among the inputs when not given.
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// Write serviceaccounts.yaml, federated-credentials.sh,
    /// federated-credentials-aso.yaml, workloads.yaml and migration-report.txt
    /// into DIR instead of printing them.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// With -o: replace files that exist.
    #[arg(long)]
    force: bool,
    /// Annotate the migrated pods for the webhook's proxy sidecar, for
    /// applications whose Azure SDK only speaks IMDS.
    #[arg(long = "proxy-sidecar")]
    proxy_sidecar: bool,
    /// What is printed on standard output: the report as text, or the whole
    /// plan as JSON.
    #[arg(long = "format", value_enum, default_value_t = MigrateFormat::Text)]
    format: MigrateFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum MigrateFormat {
    Text,
    Json,
}

pub fn run(args: MigrateArgs) -> Result<u8> {
    let files = match read_inputs(&args.input) {
        Ok(f) => f,
        Err(code) => return Ok(code),
    };
    let request = MigrateRequest { files, issuer: args.issuer, default_namespace: args.input.namespace, proxy_sidecar: args.proxy_sidecar };
    let migration = match Core::new()?.migrate(&request)? {
        Ok(m) => m,
        Err(MigrateFailure::Input(errors)) => return Ok(print_input_errors(&errors)),
        Err(MigrateFailure::Options(e)) => return Ok(print_option_error(&e)),
    };
    let exit = if migration.manual.is_empty() { 0 } else { EXIT_MANUAL };
    let stdout = match args.format {
        MigrateFormat::Json => format!("{:#}\n", as_json(&migration)),
        MigrateFormat::Text if args.output_dir.is_some() => migration.report.clone(),
        MigrateFormat::Text => {
            // Every file under a header line that is a comment in YAML and bash.
            let mut text = String::new();
            for artifact in &migration.artifacts {
                text.push_str(&format!("# ==> {} <==\n{}\n", artifact.file_name, artifact.content));
            }
            text.push_str(&format!("# ==> {REPORT_FILE} <==\n{}", migration.report));
            text
        }
    };
    if let Some(dir) = &args.output_dir {
        let mut artifacts = migration.artifacts.clone();
        artifacts.push(Artifact { format: "migrate".into(), file_name: REPORT_FILE.into(), content: migration.report.clone() });
        let code = crate::generate::write_files(dir, &artifacts, args.force)?;
        if code != 0 {
            return Ok(code);
        }
    }
    emit(&stdout)?;
    for step in &migration.manual {
        eprintln!("{}:{}: needs a person: {}", printable(&step.at.file), step.at.line, printable(&step.message));
    }
    Ok(exit)
}

fn as_json(m: &Migration) -> Value {
    let at = crate::report::location_json;
    json!({
        "issuer": m.issuer,
        "credentials": m.credentials.iter().map(|c| json!({
            "identityId": c.identity_id, "name": c.name, "namespace": c.namespace,
            "serviceAccount": c.service_account, "subject": c.subject, "exists": c.exists,
        })).collect::<Vec<_>>(),
        "changes": m.changes.iter().map(|c| json!({
            "at": at(&c.at), "serviceAccount": c.service_account, "clientId": c.client_id,
            "patch": serde_json::from_str::<Value>(&c.patch_json).unwrap_or(Value::Null),
        })).collect::<Vec<_>>(),
        "manual": m.manual.iter().map(|s| json!({"at": at(&s.at), "message": s.message})).collect::<Vec<_>>(),
        "files": m.artifacts.iter().map(|a| json!({"name": a.file_name, "content": a.content})).collect::<Vec<_>>(),
        "report": m.report,
    })
}
