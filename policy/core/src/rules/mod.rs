//! The rule catalogue. Each rule is one module holding its code, its
//! documentation and its check; `ALL` is the only list of them, and
//! everything that shows rules (CLI, README, SARIF, browser) reads it.

use crate::objects::{Inventory, Object};

/// A rule's documentation. Builds that never show it (the browser page, the
/// Kubewarden policy: both print only codes and messages) leave it out
/// with the `rule-docs` feature, as their size is a goal.
#[cfg(feature = "rule-docs")]
macro_rules! rule_doc {
    ($text:expr) => {
        $text
    };
}
#[cfg(not(feature = "rule-docs"))]
macro_rules! rule_doc {
    ($text:expr) => {
        ""
    };
}
use crate::wellknown::Layout;

mod wi001_use_label_value;
mod wi002_opt_in_misplaced;
mod wi003_client_id_missing;
mod wi004_service_account_not_found;
mod wi005_id_not_guid;
mod wi006_token_expiration;
mod wi007_skip_unknown_container;
mod wi008_proxy_host_network;
mod wi009_proxy_port;
mod wi010_env_override;
mod wi011_aad_pod_identity;
mod wi012_default_service_account;
mod wi013_token_volume_collision;
mod wi014_opt_in_on_workload;
mod wi015_opt_in_in_selector;
mod wi016_hard_coded_token_path;
mod wi017_az_login_identity;
mod wi018_kube_system;
mod wi019_not_injected;
mod wi020_fic_subject;
mod wi021_fic_issuer;
mod wi022_fic_audience;
mod wi023_fic_name;
mod wi024_fic_limit;
mod wi025_fic_duplicate;
mod wi026_keda_operator_fic;
mod wi027_native_sidecar_old_webhook;
mod wi028_proxy_sidecar_blocks_job;
mod wi030_no_matching_fic;
mod wi031_fic_unknown_service_account;
mod wi032_fic_issuer_mismatch;
mod wi033_concurrent_fic_writes;
mod wi034_literal_issuer;
mod wi035_oidc_issuer_disabled;
mod wi040_client_id_not_allowed;
mod wi050_cluster_workload_identity_disabled;
mod wi051_spc_client_id;
mod wi052_spc_pod_identity;
mod wi053_consumer_tenant_id;
mod wi054_secret_store_service_account;

// What generate checks its values with, in the rules' own words.
#[cfg(feature = "generate")]
pub(crate) use wi005_id_not_guid::guid_problem;
#[cfg(feature = "generate")]
pub(crate) use wi020_fic_subject::parse_subject;
#[cfg(feature = "generate")]
pub(crate) use wi021_fic_issuer::issuer_problem;
#[cfg(feature = "generate")]
pub(crate) use wi023_fic_name::name_problem as fic_name_problem;

/// Every rule, in code order.
pub const ALL: &[Rule] = &[
    wi001_use_label_value::RULE,
    wi002_opt_in_misplaced::RULE,
    wi003_client_id_missing::RULE,
    wi004_service_account_not_found::RULE,
    wi005_id_not_guid::RULE,
    wi006_token_expiration::RULE,
    wi007_skip_unknown_container::RULE,
    wi008_proxy_host_network::RULE,
    wi009_proxy_port::RULE,
    wi010_env_override::RULE,
    wi011_aad_pod_identity::RULE,
    wi012_default_service_account::RULE,
    wi013_token_volume_collision::RULE,
    wi014_opt_in_on_workload::RULE,
    wi015_opt_in_in_selector::RULE,
    wi016_hard_coded_token_path::RULE,
    wi017_az_login_identity::RULE,
    wi018_kube_system::RULE,
    wi019_not_injected::RULE,
    wi020_fic_subject::RULE,
    wi021_fic_issuer::RULE,
    wi022_fic_audience::RULE,
    wi023_fic_name::RULE,
    wi024_fic_limit::RULE,
    wi025_fic_duplicate::RULE,
    wi026_keda_operator_fic::RULE,
    wi027_native_sidecar_old_webhook::RULE,
    wi028_proxy_sidecar_blocks_job::RULE,
    wi030_no_matching_fic::RULE,
    wi031_fic_unknown_service_account::RULE,
    wi032_fic_issuer_mismatch::RULE,
    wi033_concurrent_fic_writes::RULE,
    wi034_literal_issuer::RULE,
    wi035_oidc_issuer_disabled::RULE,
    wi040_client_id_not_allowed::RULE,
    wi050_cluster_workload_identity_disabled::RULE,
    wi051_spc_client_id::RULE,
    wi052_spc_pod_identity::RULE,
    wi053_consumer_tenant_id::RULE,
    wi054_secret_store_service_account::RULE,
];

pub fn find(code: &str) -> Option<&'static Rule> {
    ALL.iter().find(|r| r.code.eq_ignore_ascii_case(code))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A rule: its fixed code, a kebab-case name, the severity of its findings
/// (some rules lower it for milder cases), a one-line summary and its
/// documentation in four Markdown sections: `## What it does`,
/// `## Why is this bad?`, `## Example`, `## Use instead`.
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub doc: &'static str,
    pub check: fn(&Context, &mut Vec<Finding>),
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code)
    }
}

/// What a lint run is told beyond the manifests.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// The cluster's OIDC issuer URL, when known (`--issuer`).
    pub issuer: Option<String>,
    /// The webhook layout the cluster runs.
    pub layout: Layout,
    /// The webhook's cluster-wide tenant (`AZURE_TENANT_ID` of the webhook).
    pub tenant_id: Option<String>,
    pub authority_host: Option<String>,
    /// Namespace of objects that do not name one.
    pub default_namespace: String,
    /// Client IDs each namespace may use (`"*"`: every other namespace);
    /// empty means no restriction.
    pub allowed_client_ids: std::collections::BTreeMap<String, Vec<String>>,
    /// The azure-workload-identity webhook's version (`--webhook-version`),
    /// when known: some rules depend on it (WI027, WI028).
    pub webhook_version: Option<crate::options::WebhookVersion>,
    /// The API server's MAJOR.MINOR (`--kubernetes-version`), when known.
    pub kubernetes_version: Option<(u32, u32)>,
    /// Namespace the KEDA operator runs in (`--keda-namespace`); `None` is
    /// KEDA's default, `keda`.
    pub keda_namespace: Option<String>,
}

pub struct Context<'a> {
    pub inventory: Inventory<'a>,
    pub options: &'a LintOptions,
}

/// A rule's finding about one object, located by JSON pointer.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub fix: String,
    /// Index of the object in the loaded inputs.
    pub object: usize,
    pub pointer: String,
}

impl Finding {
    pub fn new(rule: &Rule, object: usize, pointer: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding {
            rule: rule.code,
            severity: rule.severity,
            message: message.into(),
            fix: fix.into(),
            object,
            pointer: pointer.into(),
        }
    }
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

/// Runs every rule over the objects.
pub fn run(objects: &[Object], options: &LintOptions) -> Vec<Finding> {
    let inventory = Inventory::new(objects);
    // `az aks show` output among the inputs gives the issuer when
    // `--issuer` does not (and when every such cluster agrees on one).
    let mut derived;
    let mut options = options;
    if options.issuer.is_none() {
        if let [issuer] = inventory.cluster_issuers()[..] {
            derived = options.clone();
            derived.issuer = Some(issuer.to_string());
            options = &derived;
        }
    }
    let cx = Context { inventory, options };
    let mut findings = Vec::new();
    for rule in ALL {
        (rule.check)(&cx, &mut findings);
    }
    findings
}

/// Quotes a JSON value for a message: strings in double quotes, others as JSON.
/// At most [`LISTED`] items of a list for a message, then how many more:
/// a pod with 100,000 containers must not make a 1 MB message.
pub(crate) fn listed<S: AsRef<str>>(items: &[S]) -> String {
    let mut text = items.iter().take(LISTED).map(AsRef::as_ref).collect::<Vec<_>>().join(", ");
    if items.len() > LISTED {
        text.push_str(&format!(" and {} more", items.len() - LISTED));
    }
    text
}

pub(crate) const LISTED: usize = 10;

pub(crate) fn shown(v: &serde_json::Value) -> String {
    v.to_string()
}
