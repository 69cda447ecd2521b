//! `kubectl wi audit`: reads a live cluster through the user's own kubectl
//! and kubeconfig (only `get` and `api-resources`: it never writes), or saved
//! dumps, and prints the core's inventory views and findings.

use std::process::{Command, Stdio};

use anyhow::Result;
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::host::{AuditReport, Core, LintFailure, LintOptions, SourceFile};
use crate::report::{self, printable};
use crate::{VersionArgs, WebhookArgs, emit, merge_allowed, parse_allowed, print_input_errors, print_option_error, read_paths, usage};

/// What audit asks kubectl for. The first group always exists; the rest
/// (aad-pod-identity, Secrets Store CSI, external-secrets, Azure Service
/// Operator) only when the cluster serves them.
const ALWAYS: [&str; 9] = ["serviceaccounts", "pods", "deployments.apps", "statefulsets.apps", "daemonsets.apps", "replicasets.apps", "replicationcontrollers", "jobs.batch", "cronjobs.batch"];
const WHEN_SERVED: [&str; 7] = [
    "azureidentities.aadpodidentity.k8s.io",
    "azureidentitybindings.aadpodidentity.k8s.io",
    "azurepodidentityexceptions.aadpodidentity.k8s.io",
    "secretproviderclasses.secrets-store.csi.x-k8s.io",
    "secretstores.external-secrets.io",
    "clustersecretstores.external-secrets.io",
    "federatedidentitycredentials.managedidentity.azure.com",
];
/// The name findings give the live cluster's objects.
const CLUSTER_SOURCE: &str = "<cluster>";

#[derive(Args)]
pub struct AuditArgs {
    /// The kubeconfig context to read (kubectl's --context).
    #[arg(long, value_name = "CONTEXT")]
    context: Option<String>,
    /// The kubeconfig file (kubectl's --kubeconfig).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<String>,
    /// Read this namespace only (default: kubectl's current namespace).
    #[arg(short = 'n', long = "namespace", value_name = "NS", conflicts_with = "all_namespaces")]
    namespace: Option<String>,
    /// Read every namespace.
    #[arg(short = 'A', long = "all-namespaces")]
    all_namespaces: bool,
    /// Azure's side: `az identity list`, `az identity federated-credential
    /// list` or `az aks show` JSON; repeatable.
    #[arg(long = "identities", value_name = "AZ_JSON")]
    identities: Vec<String>,
    /// Saved `kubectl get -o json` output to audit instead of a live
    /// cluster; repeatable.
    #[arg(long = "from-file", value_name = "DUMP", conflicts_with_all = ["context", "kubeconfig", "namespace", "all_namespaces"])]
    from_file: Vec<String>,
    /// The cluster's OIDC issuer URL [default: the API server's
    /// /.well-known/openid-configuration, or `az aks show` among --identities].
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    #[command(flatten)]
    webhook: WebhookArgs,
    /// Client IDs a namespace may use (WI040), as for lint.
    #[arg(long = "allowed-client-ids", value_name = "NS=GUIDS", value_parser = parse_allowed)]
    allowed_client_ids: Vec<(String, Vec<String>)>,
    #[arg(short = 'o', long = "output", value_enum, default_value_t = AuditFormat::Text)]
    output: AuditFormat,
    #[command(flatten)]
    versions: VersionArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum AuditFormat {
    Text,
    Json,
    Sarif,
}

pub fn run(args: AuditArgs) -> Result<u8> {
    let read = |paths: &[String]| read_paths(paths, false);
    let mut files = Vec::new();
    let mut issuer = args.issuer.clone();
    if args.from_file.is_empty() {
        let kubectl = Kubectl { context: args.context.clone(), kubeconfig: args.kubeconfig.clone() };
        match kubectl.read(args.namespace.as_deref(), args.all_namespaces) {
            Ok(text) => files.push(SourceFile { name: CLUSTER_SOURCE.into(), content: text }),
            Err(message) => return Ok(usage(message)),
        }
        if issuer.is_none() {
            issuer = kubectl.issuer();
        }
    } else {
        match read(&args.from_file) {
            Ok(f) => files.extend(f),
            Err(code) => return Ok(code),
        }
    }
    if !args.identities.is_empty() {
        match read(&args.identities) {
            Ok(f) => files.extend(f),
            Err(code) => return Ok(code),
        }
    }
    let options = LintOptions {
        issuer,
        layout: args.webhook.layout.into(),
        tenant_id: args.webhook.tenant_id,
        authority_host: args.webhook.authority_host,
        default_namespace: args.namespace.clone().unwrap_or_else(|| "default".into()),
        allowed_client_ids: merge_allowed(args.allowed_client_ids),
        webhook_version: args.versions.webhook_version,
        kubernetes_version: args.versions.kubernetes_version,
        keda_namespace: Some(args.versions.keda_namespace),
    };
    let mut core = Core::new()?;
    let audit = match core.audit(&files, &options)? {
        Ok(a) => a,
        Err(LintFailure::Input(errors)) => return Ok(print_input_errors(&errors)),
        Err(LintFailure::Options(e)) => return Ok(print_option_error(&e)),
    };
    let text = match args.output {
        AuditFormat::Text => text(&audit),
        AuditFormat::Json => format!("{:#}\n", as_json(&audit)),
        AuditFormat::Sarif => format!("{:#}\n", report::sarif(&audit.findings, &core.rules()?, &[])),
    };
    emit(&text)?;
    Ok(if report::summarize(&audit.findings).errors > 0 { 1 } else { 0 })
}

/// The user's kubectl with their kubeconfig and context.
struct Kubectl {
    context: Option<String>,
    kubeconfig: Option<String>,
}

impl Kubectl {
    fn command(&self) -> Command {
        let mut command = Command::new("kubectl");
        if let Some(context) = &self.context {
            command.arg("--context").arg(context);
        }
        if let Some(kubeconfig) = &self.kubeconfig {
            command.arg("--kubeconfig").arg(kubeconfig);
        }
        command.stdin(Stdio::null());
        command
    }

    /// Runs kubectl; its standard output, or an error with what it said.
    fn run(&self, args: &[&str]) -> Result<String, String> {
        let output = self.command().args(args).output().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "kubectl is not on PATH: audit reads the cluster through your kubectl (or give --from-file DUMP)".to_string(),
            _ => format!("cannot run kubectl: {e}"),
        })?;
        let stdout = String::from_utf8(output.stdout).map_err(|_| format!("`kubectl {}` printed something that is not UTF-8", args.join(" ")))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(format!("`kubectl {}` failed ({}): {}", args.join(" "), output.status, printable(stderr.trim())));
        }
        Ok(stdout)
    }

    /// Every object audit reads, as one `kind: List` JSON text.
    fn read(&self, namespace: Option<&str>, all: bool) -> Result<String, String> {
        let served = self.run(&["api-resources", "-o", "name"])?;
        let served: Vec<&str> = served.lines().map(str::trim).collect();
        let mut kinds: Vec<&str> = ALWAYS.to_vec();
        kinds.extend(WHEN_SERVED.iter().filter(|k| served.contains(k)));
        let list = kinds.join(",");
        let mut args = vec!["get", list.as_str(), "-o", "json"];
        match (namespace, all) {
            (Some(ns), _) => args.extend(["-n", ns]),
            (None, true) => args.push("--all-namespaces"),
            (None, false) => {}
        }
        self.run(&args)
    }

    /// The issuer the API server announces (ServiceAccount issuer discovery).
    fn issuer(&self) -> Option<String> {
        let text = self.run(&["get", "--raw", "/.well-known/openid-configuration"]).ok()?;
        serde_json::from_str::<Value>(&text).ok()?.get("issuer")?.as_str().map(str::to_string)
    }
}

fn location(at: &crate::host::Location) -> String {
    format!("{}:{}", printable(&at.file), at.line)
}

fn text(audit: &AuditReport) -> String {
    let mut s = String::new();
    let issuer = audit.issuer.as_deref().map(printable).unwrap_or_else(|| "unknown (give --issuer)".into());
    s.push_str(&format!("Workload ID audit of {} objects; cluster issuer {issuer}\n\n", audit.objects));
    s.push_str(&format!("ServiceAccounts with Workload ID annotations ({}):\n", audit.service_accounts.len()));
    for sa in &audit.service_accounts {
        s.push_str(&format!(
            "  {}/{}  client-id: {}  tenant-id: {}  opted-in workloads: {}  ({})\n",
            printable(&sa.at.namespace),
            printable(&sa.at.name),
            sa.client_id.as_deref().map(printable).unwrap_or_else(|| "n/a".into()),
            sa.tenant_id.as_deref().map(printable).unwrap_or_else(|| "n/a".into()),
            sa.workloads,
            location(&sa.at)
        ));
    }
    let (ours, others): (Vec<_>, Vec<_>) = audit.credentials.iter().partition(|c| c.this_cluster);
    s.push_str(&format!("\nFederated credentials with this cluster's issuer ({} of {}):\n", ours.len(), audit.credentials.len()));
    for c in &ours {
        let found = if c.service_account_found { "" } else { "  [ServiceAccount not in the cluster]" };
        s.push_str(&format!("  {}: {}  subject {}{found}  ({})\n", printable(&c.identity), printable(&c.name), printable(&c.subject), location(&c.at)));
    }
    if !others.is_empty() {
        s.push_str(&format!("  and {} with another issuer (other clusters, or stale: see WI032)\n", others.len()));
    }
    s.push_str(&format!("\naad-pod-identity leftovers ({}):\n", audit.leftovers.len()));
    for l in &audit.leftovers {
        s.push_str(&format!("  {} {}/{}: {}  ({})\n", printable(&l.at.kind), printable(&l.at.namespace), printable(&l.at.name), printable(&l.what), location(&l.at)));
    }
    s.push_str("\nFindings:\n");
    s.push_str(&report::text(&audit.findings, &format!(" in {} objects", audit.objects)));
    s
}

fn as_json(audit: &AuditReport) -> Value {
    let at = report::location_json;
    let mut findings = report::json(&audit.findings);
    let views = json!({
        "issuer": audit.issuer,
        "objects": audit.objects,
        "serviceAccounts": audit.service_accounts.iter().map(|s| json!({
            "at": at(&s.at), "clientId": s.client_id, "tenantId": s.tenant_id, "optedInWorkloads": s.workloads,
        })).collect::<Vec<_>>(),
        "federatedCredentials": audit.credentials.iter().map(|c| json!({
            "at": at(&c.at), "identity": c.identity, "name": c.name, "issuer": c.issuer, "subject": c.subject,
            "thisCluster": c.this_cluster, "serviceAccountFound": c.service_account_found,
        })).collect::<Vec<_>>(),
        "aadPodIdentityLeftovers": audit.leftovers.iter().map(|l| json!({"at": at(&l.at), "what": l.what})).collect::<Vec<_>>(),
    });
    // The lint JSON's fields (findings, summary) plus the views.
    if let (Some(out), Value::Object(views)) = (findings.as_object_mut(), views) {
        out.extend(views);
    }
    findings
}
