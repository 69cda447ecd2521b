//! `kubectl wi`: lints and mutates Workload ID manifests. Argument parsing,
//! file reading and output formats live here; every Workload ID decision is
//! made by the wi-core component, run in wasmtime (see `host`).

mod audit;
mod generate;
mod host;
mod iac;
mod inputs;
mod migrate;
mod plugins;
mod report;

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::Value;

use host::{Core, Layout, LintFailure, LintOptions, MutateFailure, MutateOptions, OptionError};
use report::printable;

/// Exit codes are a contract: 0 clean, 1 error findings (or refused
/// mutation), 2 usage or input error.
const EXIT_FINDINGS: u8 = 1;
pub(crate) const EXIT_INPUT: u8 = 2;

#[derive(Parser)]
#[command(name = "kubectl wi", bin_name = "kubectl wi", version, about = "Check and fix the manifests that wire pods to Microsoft Entra Workload ID")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Report every Workload ID mistake in the manifests (exit 1 on errors).
    Lint(LintArgs),
    /// Print the manifests with opted-in pods mutated exactly as the
    /// azure-workload-identity webhook would.
    Mutate(MutateArgs),
    /// Write every artifact of a Workload ID setup (Kubernetes YAML, ASO,
    /// az script, Bicep, ARM, Terraform) from one spec.
    Generate(Box<generate::GenerateArgs>),
    /// Plan the move from aad-pod-identity: ServiceAccounts, federated
    /// credentials (az and ASO), workload changes, and what needs a person
    /// (exit 1).
    Migrate(migrate::MigrateArgs),
    /// Inventory and lint a live cluster through your kubectl (read-only),
    /// or saved `kubectl get -o json` dumps (exit 1 on errors).
    Audit(Box<audit::AuditArgs>),
    /// List the rule catalogue, with the rules of rule plugins.
    Rules {
        #[arg(short = 'o', long = "output", value_enum, default_value_t = RulesFormat::Text)]
        output: RulesFormat,
        /// A rule plugin whose rules to list too; repeatable. Those of the
        /// plugin directory are listed too.
        #[arg(long = "plugin", value_name = "PATH.wasm")]
        plugins: Vec<String>,
        /// Leave out the plugins of the plugin directory.
        #[arg(long = "no-plugin-dir")]
        no_plugin_dir: bool,
    },
    /// Explain a rule (WI003), an Entra error (AADSTS70021 or 70021), or a
    /// projected token: `explain token FILE|- [--fic FILE]... [--jwks FILE]`.
    Explain(ExplainArgs),
    /// Compile the core once and store it in the cache (run by `make install`).
    Precompile,
}

#[derive(Args)]
struct ExplainArgs {
    /// A rule code (WI003), an AADSTS code (AADSTS70021 or 70021), or `token`.
    topic: String,
    /// With `token`: the token file (a JWT), or `-` for standard input.
    file: Option<String>,
    /// Federated credentials to compare the token with: `az identity
    /// federated-credential list|show -o json` output or ASO
    /// FederatedIdentityCredential YAML/JSON; repeatable.
    #[arg(long = "fic", value_name = "FILE")]
    fic: Vec<String>,
    /// The issuer's keys (`<issuer>openid/v1/jwks`), to verify the token's
    /// RS256 signature offline.
    #[arg(long = "jwks", value_name = "FILE")]
    jwks: Option<String>,
    /// Judge the token's validity at this time (RFC 3339) instead of now.
    #[arg(long = "now", value_name = "RFC3339")]
    now: Option<String>,
    /// Output format of `explain token`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ExplainFormat::Text)]
    output: ExplainFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExplainFormat {
    Text,
    Json,
}

#[derive(Args)]
pub(crate) struct InputArgs {
    /// File or directory to read; repeatable; `-` reads standard input.
    #[arg(short = 'f', long = "filename", required_unless_present = "paths", value_name = "PATH")]
    files: Vec<String>,
    /// More files or directories, read as `-f` reads them (for pre-commit
    /// and xargs, which append file names).
    #[arg(value_name = "PATH")]
    paths: Vec<String>,
    /// Read directories recursively.
    #[arg(short = 'R', long = "recursive")]
    recursive: bool,
    /// Namespace of objects that do not set metadata.namespace.
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    namespace: String,
}

#[derive(Args)]
pub(crate) struct WebhookArgs {
    /// Webhook token layout: classic (v1.0-v1.5) or v1.6.
    #[arg(long, value_enum, default_value_t = LayoutArg::Classic)]
    pub(crate) layout: LayoutArg,
    /// The webhook's cluster tenant ID (used when a ServiceAccount has no tenant-id annotation).
    #[arg(long = "tenant-id", value_name = "GUID")]
    pub(crate) tenant_id: Option<String>,
    /// AZURE_AUTHORITY_HOST to inject [default: https://login.microsoftonline.com/].
    #[arg(long = "authority-host", value_name = "URL")]
    pub(crate) authority_host: Option<String>,
}

#[derive(Args)]
struct LintArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    webhook: WebhookArgs,
    #[arg(short = 'o', long = "output", value_enum, default_value_t = LintFormat::Text)]
    output: LintFormat,
    /// The cluster's OIDC issuer URL; federated credentials must use exactly this.
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// Client IDs a namespace may use (WI040): NAMESPACE=GUID[,GUID...]; `*=...`
    /// for every other namespace. Repeatable.
    #[arg(long = "allowed-client-ids", value_name = "NS=GUIDS", value_parser = parse_allowed)]
    allowed_client_ids: Vec<(String, Vec<String>)>,
    /// A rule plugin (a wasm component of the rule-plugin world, or a core
    /// module built with wit-bindgen) to run in a sandbox; repeatable.
    /// Plugins in ~/.config/kubectl-wi/plugins run too.
    #[arg(long = "plugin", value_name = "PATH.wasm")]
    plugins: Vec<String>,
    /// Do not run the plugins of the plugin directory.
    #[arg(long = "no-plugin-dir")]
    no_plugin_dir: bool,
    /// Memory each plugin may use: 64Mi, 256Mi, 1Gi.
    #[arg(long = "plugin-memory", value_name = "SIZE", default_value = "64Mi", value_parser = plugins::parse_memory)]
    plugin_memory: usize,
    /// Time each plugin call may take: 500ms, 2s, 1m.
    #[arg(long = "plugin-timeout", value_name = "DURATION", default_value = "500ms", value_parser = plugins::parse_timeout)]
    plugin_timeout: std::time::Duration,
    #[command(flatten)]
    versions: VersionArgs,
    /// Also show what Terraform and ARM files leave unknown before
    /// deployment (attributes not checked, and why); with -o json, every
    /// resource read from them under `resources`.
    #[arg(short = 'v', long)]
    verbose: bool,
}

/// What the cluster runs, for the rules that depend on it.
#[derive(Args)]
pub(crate) struct VersionArgs {
    /// The azure-workload-identity webhook's version (its image tag, e.g.
    /// v1.5.1): enables the rules about older webhooks (WI027, WI028).
    #[arg(long = "webhook-version", value_name = "VERSION")]
    pub(crate) webhook_version: Option<String>,
    /// The API server's version, e.g. 1.32 (WI028: below 1.32 the proxy is an
    /// ordinary container).
    #[arg(long = "kubernetes-version", value_name = "VERSION")]
    pub(crate) kubernetes_version: Option<String>,
    /// Namespace the KEDA operator runs in (WI026); the AKS add-on's is kube-system.
    #[arg(long = "keda-namespace", value_name = "NAMESPACE", default_value = "keda")]
    pub(crate) keda_namespace: String,
}

/// Repeating `--allowed-client-ids` for one namespace adds to its list.
pub(crate) fn merge_allowed(entries: Vec<(String, Vec<String>)>) -> Vec<(String, Vec<String>)> {
    let mut merged: Vec<(String, Vec<String>)> = Vec::new();
    for (namespace, ids) in entries {
        match merged.iter_mut().find(|(n, _)| *n == namespace) {
            Some((_, list)) => list.extend(ids),
            None => merged.push((namespace, ids)),
        }
    }
    merged
}

pub(crate) fn parse_allowed(text: &str) -> Result<(String, Vec<String>), String> {
    let (namespace, ids) = text.split_once('=').ok_or("expected NAMESPACE=GUID[,GUID...]")?;
    // `ns=` stays an empty list and `ns=a,,b` keeps its empty entry: the core
    // refuses both, naming the flag.
    let ids: Vec<String> = if ids.is_empty() { Vec::new() } else { ids.split(',').map(str::to_string).collect() };
    Ok((namespace.to_string(), ids))
}

#[derive(Args)]
struct MutateArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    webhook: WebhookArgs,
    /// API server version; from 1.32 the proxy is injected as a native sidecar.
    #[arg(long = "kubernetes-version", value_name = "VERSION", default_value = "1.31")]
    kubernetes_version: String,
    #[arg(short = 'o', long = "output", value_enum, default_value_t = MutateFormat::Yaml)]
    output: MutateFormat,
    #[command(flatten)]
    token_proxy: TokenProxyArgs,
}

/// How the v1.6 webhook's token proxy is configured, for pods that use an
/// AKS identity binding (`azure.workload.identity/use-identity-binding`;
/// with `--layout v1.6`). AKS configures its managed webhook itself.
#[derive(Args)]
struct TokenProxyArgs {
    /// AZURE_KUBERNETES_TOKEN_PROXY: the token proxy's https URL.
    #[arg(long = "token-proxy", value_name = "URL")]
    url: Option<String>,
    /// AZURE_KUBERNETES_SNI_NAME.
    #[arg(long = "token-proxy-sni-name", value_name = "NAME")]
    sni_name: Option<String>,
    /// ConfigMap whose `ca.crt` the token volume projects as the proxy's CA.
    #[arg(long = "token-proxy-ca-config-map", value_name = "NAME")]
    ca_config_map: Option<String>,
    /// AZURE_KUBERNETES_CA_DATA: the proxy's CA certificate in PEM.
    #[arg(long = "token-proxy-ca-data", value_name = "PEM", allow_hyphen_values = true)]
    ca_data: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LayoutArg {
    Classic,
    #[value(name = "v1.6")]
    V16,
}

#[derive(Clone, Copy, ValueEnum)]
enum LintFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Clone, Copy, ValueEnum)]
enum MutateFormat {
    Yaml,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum RulesFormat {
    Text,
    Json,
    Markdown,
}

impl From<LayoutArg> for Layout {
    fn from(l: LayoutArg) -> Self {
        match l {
            LayoutArg::Classic => Layout::Classic,
            LayoutArg::V16 => Layout::V16,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("kubectl wi: {e:#}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}

/// Writes all of `text` to stdout at once; a closed pipe is not an error.
pub(crate) fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// `PATH[:LINE[:COL]]: error: MESSAGE`, the one format of input errors.
pub(crate) fn print_input_errors(errors: &[host::InputError]) -> u8 {
    for e in errors {
        match (e.line, e.column) {
            (0, _) => eprintln!("{}: error: {}", printable(&e.file), printable(&e.message)),
            (line, 0) => eprintln!("{}:{line}: error: {}", printable(&e.file), printable(&e.message)),
            (line, column) => eprintln!("{}:{line}:{column}: error: {}", printable(&e.file), printable(&e.message)),
        }
    }
    EXIT_INPUT
}

/// An option the core refused, named as the flag the user typed: the core
/// names settings keys (`tenantId`, `allowedClientIds.finance`).
pub(crate) fn print_option_error(e: &OptionError) -> u8 {
    let flag = flag_name(e.field.split('.').next().unwrap_or(&e.field));
    match e.field.split_once('.') {
        Some((_, entry)) => eprintln!("kubectl wi: error: {flag}: {entry}: {}", e.message),
        None => eprintln!("kubectl wi: error: {flag}: {}", e.message),
    }
    EXIT_INPUT
}

/// The flag of a camelCase settings key: `tenantId` -> `--tenant-id`.
pub(crate) fn flag_name(key: &str) -> String {
    let mut flag = String::from("--");
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            flag.push('-');
        }
        flag.push(c.to_ascii_lowercase());
    }
    flag
}

pub(crate) fn read_inputs(args: &InputArgs) -> Result<Vec<host::SourceFile>, u8> {
    if args.paths.is_empty() {
        return read_paths(&args.files, args.recursive);
    }
    read_paths(&[args.files.as_slice(), args.paths.as_slice()].concat(), args.recursive)
}

/// Files and directories as `-f` reads them; a problem is printed and
/// becomes the exit status.
pub(crate) fn read_paths(paths: &[String], recursive: bool) -> Result<Vec<host::SourceFile>, u8> {
    inputs::read_all(paths, recursive).map_err(|e| {
        eprintln!("{e}");
        EXIT_INPUT
    })
}

/// `kubectl wi: error: MESSAGE` for a usage problem; exit status 2.
pub(crate) fn usage(message: impl std::fmt::Display) -> u8 {
    eprintln!("kubectl wi: error: {message}");
    EXIT_INPUT
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Lint(args) => lint(args),
        Command::Mutate(args) => {
            let files = match read_inputs(&args.input) {
                Ok(f) => f,
                Err(code) => return Ok(code),
            };
            let mut core = Core::new()?;
            let options = MutateOptions {
                layout: args.webhook.layout.into(),
                tenant_id: args.webhook.tenant_id,
                authority_host: args.webhook.authority_host,
                kubernetes_version: Some(args.kubernetes_version),
                default_namespace: args.input.namespace,
                token_proxy: args.token_proxy.url,
                token_proxy_sni_name: args.token_proxy.sni_name,
                token_proxy_ca_config_map: args.token_proxy.ca_config_map,
                token_proxy_ca_data: args.token_proxy.ca_data,
            };
            let objects = match core.mutate(&files, &options)? {
                Ok(o) => o,
                Err(MutateFailure::Input(errors)) => return Ok(print_input_errors(&errors)),
                Err(MutateFailure::Options(e)) => return Ok(print_option_error(&e)),
                Err(MutateFailure::Mutation(errors)) => {
                    for e in errors {
                        let object = format!("{} {}/{}", e.at.kind, e.at.namespace, e.at.name);
                        eprintln!("{}:{}: error: {}: the webhook would refuse this pod: {}", printable(&e.at.file), e.at.line, printable(&object), printable(&e.message));
                    }
                    return Ok(EXIT_FINDINGS);
                }
            };
            for warning in objects.iter().flat_map(|o| &o.warnings) {
                eprintln!("kubectl wi: warning: {}", printable(warning));
            }
            let text = match args.output {
                MutateFormat::Json => {
                    let values = objects
                        .iter()
                        .map(|o| serde_json::from_str::<Value>(&o.object_json))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| anyhow!("the core returned invalid JSON: {e}"))?;
                    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": values});
                    format!("{list:#}\n")
                }
                MutateFormat::Yaml => {
                    let texts: Vec<String> = objects.into_iter().map(|o| o.object_json).collect();
                    core.to_yaml(&texts)?.map_err(|e| anyhow!("writing YAML: {e}"))?
                }
            };
            emit(&text)?;
            Ok(0)
        }
        Command::Generate(args) => generate::run(*args),
        Command::Migrate(args) => migrate::run(args),
        Command::Audit(args) => audit::run(*args),
        Command::Rules { output, plugins: mut plugin_paths, no_plugin_dir } => {
            let mut rules = Core::new()?.rules()?;
            let mut errors = Vec::new();
            if !no_plugin_dir {
                match plugins::from_config_dir() {
                    Ok(found) => plugin_paths.extend(found),
                    Err(e) => errors.push(e),
                }
            }
            if !plugin_paths.is_empty() {
                let (loaded, mut failed) = plugins::Plugins::load(&plugin_paths, plugins::Limits::default());
                rules.extend(loaded.rules());
                errors.append(&mut failed);
            }
            for e in &errors {
                eprintln!("kubectl wi: error: {}", printable(&e.to_string()));
            }
            let text = match output {
                RulesFormat::Text => report::rules_text(&rules),
                RulesFormat::Markdown => report::rules_markdown(&rules),
                RulesFormat::Json => {
                    let list: Vec<Value> = rules
                        .iter()
                        .map(|r| serde_json::json!({"code": r.code, "name": r.name, "severity": report::severity_name(r.severity), "summary": r.summary, "documentation": r.documentation}))
                        .collect();
                    format!("{:#}\n", Value::Array(list))
                }
            };
            emit(&text)?;
            Ok(if errors.is_empty() { 0 } else { EXIT_INPUT })
        }
        Command::Explain(args) => explain(args),
        Command::Precompile => {
            let path = host::precompile()?;
            eprintln!("precompiled core stored in {}", path.display());
            Ok(0)
        }
    }
}

fn lint(args: LintArgs) -> Result<u8> {
    let files = match read_inputs(&args.input) {
        Ok(f) => f,
        Err(code) => return Ok(code),
    };
    let mut plugin_paths = args.plugins.clone();
    let mut dir_error = None;
    if !args.no_plugin_dir {
        match plugins::from_config_dir() {
            Ok(found) => plugin_paths.extend(found),
            Err(e) => dir_error = Some(e),
        }
    }
    let mut core = Core::new()?;
    let options = LintOptions {
        issuer: args.issuer,
        layout: args.webhook.layout.into(),
        tenant_id: args.webhook.tenant_id,
        authority_host: args.webhook.authority_host,
        default_namespace: args.input.namespace,
        allowed_client_ids: merge_allowed(args.allowed_client_ids),
        webhook_version: args.versions.webhook_version,
        kubernetes_version: args.versions.kubernetes_version,
        keda_namespace: Some(args.versions.keda_namespace),
    };
    let failure = |failure| match failure {
        LintFailure::Input(errors) => print_input_errors(&errors),
        LintFailure::Options(e) => print_option_error(&e),
    };
    // Without plugins or --verbose, nothing needs the objects themselves.
    let mut iac_resources = Vec::new();
    let (mut findings, plugin_rules, mut plugin_errors) = if plugin_paths.is_empty() && !args.verbose {
        match core.lint(&files, &options)? {
            Ok(f) => (f, Vec::new(), Vec::new()),
            Err(e) => return Ok(failure(e)),
        }
    } else if plugin_paths.is_empty() {
        match core.lint_and_load(&files, &options)? {
            Ok((f, objects)) => {
                iac_resources = iac::resources(&objects);
                (f, Vec::new(), Vec::new())
            }
            Err(e) => return Ok(failure(e)),
        }
    } else {
        let limits = plugins::Limits { memory: args.plugin_memory, timeout: args.plugin_timeout };
        let (mut loaded, mut errors) = plugins::Plugins::load(&plugin_paths, limits);
        let (mut findings, objects) = match core.lint_and_load(&files, &options)? {
            Ok(f) => f,
            Err(e) => return Ok(failure(e)),
        };
        if args.verbose {
            iac_resources = iac::resources(&objects);
        }
        let (mut more, check_errors) = loaded.check(&objects, &findings);
        errors.extend(check_errors);
        findings.append(&mut more);
        (findings, loaded.rules(), errors)
    };
    plugin_errors.splice(0..0, dir_error);
    // Plugin findings among the core's, in the core's order.
    findings.sort_by(|a, b| (&a.at.file, a.at.line, &a.rule, &a.message).cmp(&(&b.at.file, b.at.line, &b.rule, &b.message)));
    for e in &plugin_errors {
        eprintln!("kubectl wi: error: {}", printable(&e.to_string()));
    }
    let text = match args.output {
        LintFormat::Text => iac::not_checked_text(&iac_resources) + &report::text(&findings, &format!(" in {}", files_note(files.len()))),
        LintFormat::Json => {
            let mut value = report::json(&findings);
            if args.verbose {
                value["resources"] = Value::Array(iac_resources);
            }
            if !plugin_errors.is_empty() {
                value["pluginErrors"] = plugin_errors.iter().map(|e| serde_json::json!({"plugin": e.name, "path": e.path, "message": e.message})).collect();
            }
            format!("{value:#}\n")
        }
        LintFormat::Sarif => {
            let mut rules = core.rules()?;
            rules.extend(plugin_rules);
            let failures: Vec<String> = plugin_errors.iter().map(ToString::to_string).collect();
            format!("{:#}\n", report::sarif(&findings, &rules, &failures))
        }
    };
    emit(&text)?;
    // A plugin that failed leaves the report incomplete: that is not "no
    // errors", and not only "errors found" either.
    Ok(if !plugin_errors.is_empty() {
        EXIT_INPUT
    } else if report::summarize(&findings).errors > 0 {
        EXIT_FINDINGS
    } else {
        0
    })
}

/// `explain WI0xx`, `explain AADSTSnnnnn`, `explain token FILE`.
fn explain(args: ExplainArgs) -> Result<u8> {
    let topic = args.topic.trim();
    let is_aadsts = topic.len() > 6 && topic[..6].eq_ignore_ascii_case("AADSTS") || topic.bytes().all(|b| b.is_ascii_digit()) && !topic.is_empty();
    let token = topic == "token";
    if !token && (args.file.is_some() || !args.fic.is_empty() || args.jwks.is_some() || args.now.is_some()) {
        eprintln!("kubectl wi: error: a file, --fic, --jwks and --now go with `explain token` only");
        return Ok(EXIT_INPUT);
    }
    if token {
        let Some(path) = &args.file else {
            eprintln!("kubectl wi: error: `explain token` needs the token file (or `-` for standard input)");
            return Ok(EXIT_INPUT);
        };
        let read = |path: &str| {
            inputs::read_one(path).map_err(|e| {
                eprintln!("{e}");
                EXIT_INPUT
            })
        };
        let request = match (|| -> Result<host::TokenRequest, u8> {
            Ok(host::TokenRequest {
                token: read(path)?,
                // As `-f` reads them: each real file once, directories too.
                credentials: if args.fic.is_empty() { Vec::new() } else { read_paths(&args.fic, false)? },
                jwks: args.jwks.as_deref().map(read).transpose()?,
                now: args.now.clone(),
                clock: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0),
            })
        })() {
            Ok(r) => r,
            Err(code) => return Ok(code),
        };
        return match Core::new()?.explain_token(&request)? {
            Ok(report) => {
                match args.output {
                    ExplainFormat::Text => emit(&report.text)?,
                    ExplainFormat::Json => {
                        let value: Value = serde_json::from_str(&report.json)?;
                        emit(&format!("{value:#}\n"))?
                    }
                }
                Ok(report.exit)
            }
            Err(errors) => Ok(print_input_errors(&errors)),
        };
    }
    if is_aadsts {
        return match Core::new()?.explain_aadsts(topic)? {
            Ok(explanation) => {
                emit(&explanation.text)?;
                Ok(0)
            }
            Err(message) => {
                eprintln!("kubectl wi: error: {message}");
                Ok(EXIT_INPUT)
            }
        };
    }
    let rules = Core::new()?.rules()?;
    match rules.iter().find(|r| r.code.eq_ignore_ascii_case(topic)) {
        Some(rule) => {
            emit(&report::explain(rule))?;
            Ok(0)
        }
        None => {
            eprintln!("kubectl wi: error: no rule {topic:?}; `kubectl wi rules` lists them (or explain an AADSTS code, or `token FILE`)");
            Ok(EXIT_INPUT)
        }
    }
}

fn files_note(n: usize) -> String {
    format!("{n} file{}", if n == 1 { "" } else { "s" })
}
