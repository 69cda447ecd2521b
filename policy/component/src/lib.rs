//! The core as a WebAssembly component: translates WIT records to core calls
//! and back, nothing more.

wit_bindgen::generate!({
    world: "wi-core",
    path: "../../wit",
});

use exports::wi::policy::core as wit;

struct Component;

fn severity(s: wi_core::Severity) -> wit::Severity {
    match s {
        wi_core::Severity::Error => wit::Severity::Error,
        wi_core::Severity::Warning => wit::Severity::Warning,
        wi_core::Severity::Info => wit::Severity::Info,
    }
}

fn layout(l: wit::Layout) -> wi_core::Layout {
    match l {
        wit::Layout::Classic => wi_core::Layout::Classic,
        wit::Layout::V16 => wi_core::Layout::V1_6,
    }
}

fn location(l: wi_core::Location) -> wit::Location {
    wit::Location {
        file: l.file,
        line: l.line,
        kind: l.kind,
        namespace: l.namespace,
        name: l.name,
    }
}

fn files(files: Vec<wit::SourceFile>) -> Vec<wi_core::SourceFile> {
    files
        .into_iter()
        .map(|f| wi_core::SourceFile { name: f.name, content: f.content })
        .collect()
}

fn input_errors(errors: Vec<wi_core::InputError>) -> Vec<wit::InputError> {
    errors
        .into_iter()
        .map(|e| wit::InputError { file: e.file, line: e.line, column: e.column, message: e.message })
        .collect()
}

fn option_error(e: wi_core::options::OptionError) -> wit::OptionError {
    wit::OptionError { field: e.field, message: e.message }
}

fn lint_options(options: wit::LintOptions) -> Result<wi_core::LintOptions, wit::LintFailure> {
    let refuse = |e| wit::LintFailure::Options(option_error(e));
    let webhook_version = options.webhook_version.as_deref().map(wi_core::options::parse_webhook_version).transpose().map_err(refuse)?;
    let kubernetes_version = options.kubernetes_version.as_deref().map(wi_core::options::parse_kubernetes_version).transpose().map_err(refuse)?;
    let options = wi_core::LintOptions {
        issuer: options.issuer,
        layout: layout(options.layout),
        tenant_id: options.tenant_id,
        authority_host: options.authority_host,
        default_namespace: options.default_namespace,
        allowed_client_ids: options.allowed_client_ids.into_iter().collect(),
        webhook_version,
        kubernetes_version,
        keda_namespace: options.keda_namespace,
    };
    wi_core::options::check_lint_options(&options).map_err(refuse)?;
    Ok(options)
}

fn finding(f: wi_core::Finding) -> wit::Finding {
    wit::Finding { rule: f.rule.into(), severity: severity(f.severity), message: f.message, fix: f.fix, at: location(f.at) }
}

impl wit::Guest for Component {
    fn rules() -> Vec<wit::RuleDoc> {
        wi_core::RULES
            .iter()
            .map(|r| wit::RuleDoc {
                code: r.code.into(),
                name: r.name.into(),
                severity: severity(r.severity),
                summary: r.summary.into(),
                documentation: r.doc.into(),
            })
            .collect()
    }

    fn lint(input: Vec<wit::SourceFile>, options: wit::LintOptions) -> Result<Vec<wit::Finding>, wit::LintFailure> {
        let options = lint_options(options)?;
        let findings = wi_core::lint(&files(input), &options).map_err(|e| wit::LintFailure::Input(input_errors(e)))?;
        Ok(findings.into_iter().map(finding).collect())
    }

    fn lint_and_load(input: Vec<wit::SourceFile>, options: wit::LintOptions) -> Result<(Vec<wit::Finding>, Vec<wit::Manifest>), wit::LintFailure> {
        let options = lint_options(options)?;
        let (findings, objects) = wi_core::lint_and_load(&files(input), &options).map_err(|e| wit::LintFailure::Input(input_errors(e)))?;
        let manifests = objects.iter().map(|o| wit::Manifest { at: location(wi_core::Location::of_object(o)), json: o.doc.value.to_string() }).collect();
        Ok((findings.into_iter().map(finding).collect(), manifests))
    }

    fn audit(input: Vec<wit::SourceFile>, options: wit::LintOptions) -> Result<wit::AuditReport, wit::LintFailure> {
        let options = lint_options(options)?;
        let audit = wi_core::audit::audit(&files(input), &options).map_err(|e| wit::LintFailure::Input(input_errors(e)))?;
        Ok(wit::AuditReport {
            issuer: audit.issuer,
            objects: audit.objects,
            service_accounts: audit
                .service_accounts
                .into_iter()
                .map(|s| wit::AuditedServiceAccount { at: location(s.at), client_id: s.client_id, tenant_id: s.tenant_id, workloads: s.workloads })
                .collect(),
            credentials: audit
                .credentials
                .into_iter()
                .map(|c| wit::AuditedCredential {
                    at: location(c.at),
                    identity: c.identity,
                    name: c.name,
                    issuer: c.issuer,
                    subject: c.subject,
                    this_cluster: c.this_cluster,
                    service_account_found: c.service_account_found,
                })
                .collect(),
            leftovers: audit.leftovers.into_iter().map(|l| wit::Leftover { at: location(l.at), what: l.what }).collect(),
            findings: audit.findings.into_iter().map(finding).collect(),
        })
    }

    fn mutate(input: Vec<wit::SourceFile>, options: wit::MutateOptions) -> Result<Vec<wit::MutatedObject>, wit::MutateFailure> {
        let refuse = |e| wit::MutateFailure::Options(option_error(e));
        let kubernetes_version = match options.kubernetes_version.as_deref() {
            None => None,
            Some(v) => Some(wi_core::options::parse_kubernetes_version(v).map_err(refuse)?),
        };
        wi_core::options::check_webhook_options(options.tenant_id.as_deref(), options.authority_host.as_deref()).map_err(refuse)?;
        wi_core::options::check_namespace(&options.default_namespace).map_err(refuse)?;
        let token_proxy = wi_core::mutation::TokenProxy {
            url: options.token_proxy,
            sni_name: options.token_proxy_sni_name,
            ca_config_map: options.token_proxy_ca_config_map,
            ca_data: options.token_proxy_ca_data,
        };
        wi_core::options::check_token_proxy(&token_proxy).map_err(refuse)?;
        let options = wi_core::MutateOptions {
            layout: layout(options.layout),
            tenant_id: options.tenant_id,
            authority_host: options.authority_host,
            kubernetes_version,
            default_namespace: options.default_namespace,
            token_proxy,
            ..Default::default()
        };
        match wi_core::mutate(&files(input), &options) {
            Ok(objects) => Ok(objects
                .into_iter()
                .map(|m| wit::MutatedObject {
                    at: location(m.at),
                    object_json: m.object.to_string(),
                    patch_json: wi_core::patch::to_json(&m.patch).to_string(),
                    warnings: m.warnings,
                })
                .collect()),
            Err(wi_core::MutateFailure::Input(e)) => Err(wit::MutateFailure::Input(input_errors(e))),
            Err(wi_core::MutateFailure::Mutation(e)) => Err(wit::MutateFailure::Mutation(
                e.into_iter().map(|e| wit::MutationError { at: location(e.at), message: e.message }).collect(),
            )),
        }
    }

    fn to_yaml(objects_json: Vec<String>) -> Result<String, String> {
        Ok(wi_core::render::yaml_stream(&Component::parse_objects(&objects_json)?))
    }

    fn explain_token(request: wit::TokenRequest) -> Result<wit::TokenReport, Vec<wit::InputError>> {
        let file = |f: wit::SourceFile| wi_core::SourceFile { name: f.name, content: f.content };
        let request = wi_core::explain::token::Request {
            token: file(request.token),
            credentials: request.credentials.into_iter().map(file).collect(),
            jwks: request.jwks.map(file),
            now: request.now,
            clock: request.clock,
        };
        match wi_core::explain::token::explain(&request) {
            Ok(report) => Ok(wit::TokenReport { text: report.text, json: report.json.to_string(), exit: report.exit }),
            Err(errors) => Err(errors.into_iter().map(|e| wit::InputError { file: e.file, line: e.line, column: e.column, message: e.message }).collect()),
        }
    }

    fn explain_aadsts(code: String) -> Result<wit::AadstsExplanation, String> {
        let entry = wi_core::explain::aadsts::find(&code)?;
        Ok(wit::AadstsExplanation { code: entry.code, text: wi_core::explain::aadsts::render(entry) })
    }

    fn migrate(request: wit::MigrateRequest) -> Result<wit::Migration, wit::MigrateFailure> {
        use wi_core::migrate;
        wi_core::options::check_namespace(&request.default_namespace).map_err(|e| wit::MigrateFailure::Options(option_error(e)))?;
        let options = migrate::MigrateOptions { issuer: request.issuer, default_namespace: request.default_namespace, proxy_sidecar: request.proxy_sidecar };
        let migration = migrate::migrate(&files(request.files), &options).map_err(|failure| match failure {
            migrate::MigrateFailure::Input(e) => wit::MigrateFailure::Input(input_errors(e)),
            migrate::MigrateFailure::Options(e) => wit::MigrateFailure::Options(option_error(e)),
        })?;
        Ok(wit::Migration {
            issuer: migration.issuer,
            artifacts: migration
                .artifacts
                .into_iter()
                .map(|a| wit::Artifact { format: "migrate".into(), file_name: a.file_name, content: a.content })
                .collect(),
            credentials: migration
                .credentials
                .into_iter()
                .map(|c| wit::PlannedCredential {
                    identity_id: c.identity_id,
                    name: c.name,
                    namespace: c.namespace,
                    service_account: c.service_account,
                    subject: c.subject,
                    exists: c.exists,
                })
                .collect(),
            changes: migration
                .changes
                .into_iter()
                .map(|c| wit::WorkloadChange {
                    at: location(c.at),
                    service_account: c.service_account,
                    client_id: c.client_id,
                    patch_json: wi_core::patch::to_json(&c.patch).to_string(),
                })
                .collect(),
            manual: migration.manual.into_iter().map(|m| wit::ManualStep { at: location(m.at), message: m.message }).collect(),
            report: migration.report,
        })
    }

    fn generate(request: wit::GenerateRequest) -> Result<wit::Generated, Vec<wit::GenerateError>> {
        use wi_core::generate;
        let file = |f: wit::SourceFile| wi_core::SourceFile { name: f.name, content: f.content };
        let errors = |errors: Vec<generate::GenerateError>| {
            errors.into_iter().map(|e| wit::GenerateError { field: e.field, file: e.file, line: e.line, message: e.message }).collect::<Vec<_>>()
        };
        let request = generate::Request::from_text(request.spec.map(file), request.cluster.map(file), &request.overrides_json, &request.formats)
            .map_err(errors)?;
        let generated = generate::generate(&request).map_err(errors)?;
        Ok(wit::Generated {
            artifacts: generated
                .artifacts
                .into_iter()
                .map(|a| wit::Artifact { format: a.format.name().to_string(), file_name: a.file_name, content: a.content })
                .collect(),
            notes: generated.notes,
        })
    }
}

impl Component {
    fn parse_objects(texts: &[String]) -> Result<Vec<serde_json::Value>, String> {
        texts
            .iter()
            .map(|t| serde_json::from_str(t).map_err(|e| format!("not JSON: {e}")))
            .collect()
    }
}

export!(Component);
