//! Checks of the values a user configures, shared by every face: the
//! Kubewarden policy's settings and `kubectl wi`'s flags refuse the same
//! values with the same words. Each error names its field by the settings
//! key (`tenantId`); faces show it in their own vocabulary (`--tenant-id`).

use crate::wellknown::{is_dns_label, is_guid};

/// A configured value the core cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    /// The settings key, camelCase (`tenantId`), with the entry inside it
    /// when there is one (`allowedClientIds.finance`).
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for OptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

fn refuse(field: impl Into<String>, message: String) -> Result<(), OptionError> {
    Err(OptionError { field: field.into(), message })
}

/// The webhook's cluster tenant: a GUID.
pub fn check_tenant_id(tenant_id: &str) -> Result<(), OptionError> {
    if is_guid(tenant_id) { Ok(()) } else { refuse("tenantId", format!("{tenant_id:?} is not a GUID")) }
}

/// `https://HOST[:PORT][/PATH]` with a DNS host name, a port in 1..=65535,
/// a path of URL characters (valid `%XX` escapes), no query or fragment.
pub fn is_https_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else { return false };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let host_ok = host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty() && label.len() <= 63 && !label.starts_with('-') && !label.ends_with('-') && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let port_ok = port.is_none_or(|p| {
        !p.starts_with('0') && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n))
    });
    let bytes = path.as_bytes();
    let path_ok = bytes.iter().enumerate().all(|(i, &b)| match b {
        b'%' => bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)),
        b'?' | b'#' | b'\\' => false,
        _ => b.is_ascii_graphic(),
    });
    host_ok && port_ok && path_ok
}

/// `AZURE_AUTHORITY_HOST`: an https URL.
pub fn check_authority_host(host: &str) -> Result<(), OptionError> {
    if !is_https_url(host) {
        return refuse("authorityHost", format!("{host:?} is not an https:// URL (e.g. \"https://login.microsoftonline.com/\")"));
    }
    Ok(())
}

/// The cluster's OIDC issuer given to lint: an https URL.
pub fn check_issuer(issuer: &str) -> Result<(), OptionError> {
    if !is_https_url(issuer) {
        return refuse("issuer", format!("{issuer:?} is not an https:// URL (`az aks show --query oidcIssuerProfile.issuerUrl -o tsv`)"));
    }
    Ok(())
}

/// At most four digits, as a number.
fn version_number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `[v]MAJOR.MINOR[.PATCH][-PRERELEASE][+BUILD]`: major and minor as
/// numbers of at most four digits, the patch's digits (`None` when absent);
/// no spaces, no sign.
fn version_numbers(text: &str) -> Option<(u32, u32, Option<&str>, bool)> {
    let (major, rest) = text.strip_prefix('v').unwrap_or(text).split_once('.')?;
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let (minor, suffix) = rest.split_at(end);
    // Then `.PATCH`, `-PRERELEASE`, `+BUILD`, as semver and `kubectl
    // version` write them.
    let (patch, suffix) = match suffix.strip_prefix('.') {
        Some(patch) => {
            let end = patch.find(|c: char| !c.is_ascii_digit()).unwrap_or(patch.len());
            if end == 0 {
                return None;
            }
            (Some(&patch[..end]), &patch[end..])
        }
        None => (None, suffix),
    };
    let ident = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let (pre, build) = suffix.split_once('+').unwrap_or((suffix, ""));
    let pre_ok = pre.is_empty() || pre.strip_prefix('-').is_some_and(|p| !p.is_empty() && ident(p));
    if !pre_ok || !ident(build) {
        return None;
    }
    Some((version_number(major)?, version_number(minor)?, patch, !pre.is_empty()))
}

/// `MAJOR.MINOR` (e.g. `1.32`), as `kubectl version` prints it too:
/// `v1.32.4`, `1.33+`, `1.32.0-eks` give `(1, 32)`/`(1, 33)`.
pub fn parse_kubernetes_version(text: &str) -> Result<(u32, u32), OptionError> {
    version_numbers(text).map(|(major, minor, _, _)| (major, minor)).ok_or_else(|| OptionError {
        field: "kubernetesVersion".to_string(),
        message: format!("{text:?} is not MAJOR.MINOR, e.g. \"1.32\""),
    })
}

/// The azure-workload-identity webhook's version as its image tag writes it
/// (`v1.5.1`, `1.3.0`, `1.6.0-alpha.1`; `1.5` is `1.5.0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookVersion {
    pub release: (u32, u32, u32),
    /// `-alpha.1` and the like: semver orders it before its release.
    pub pre_release: bool,
    /// As given, for messages.
    pub text: String,
}

impl WebhookVersion {
    /// True when this version comes before `release`, as semver orders
    /// them (a pre-release of a release comes before it).
    pub fn before(&self, release: (u32, u32, u32)) -> bool {
        self.release < release || (self.release == release && self.pre_release)
    }
}

impl std::fmt::Display for WebhookVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}", self.text.strip_prefix('v').unwrap_or(&self.text))
    }
}

pub fn parse_webhook_version(text: &str) -> Result<WebhookVersion, OptionError> {
    let parsed = version_numbers(text).and_then(|(major, minor, patch, pre_release)| {
        Some(WebhookVersion { release: (major, minor, patch.map_or(Some(0), version_number)?), pre_release, text: text.to_string() })
    });
    parsed.ok_or_else(|| OptionError {
        field: "webhookVersion".to_string(),
        message: format!("{text:?} is not a webhook version such as \"v1.5.1\" (the tag of the webhook's image)"),
    })
}

/// One entry of the client-ID allow-list: a namespace (or `*`) and at
/// least one GUID.
pub fn check_allowed_client_ids(namespace: &str, ids: &[String]) -> Result<(), OptionError> {
    if namespace != "*" && !is_dns_label(namespace) {
        return refuse("allowedClientIds", format!("{namespace:?} is not a namespace name or \"*\""));
    }
    if ids.is_empty() {
        return refuse(format!("allowedClientIds.{namespace}"), "lists no client ID".to_string());
    }
    if let Some(bad) = ids.iter().find(|id| !is_guid(id)) {
        return refuse(format!("allowedClientIds.{namespace}"), format!("{bad:?} is not a GUID"));
    }
    Ok(())
}

/// The namespace of objects that name none: a namespace name.
pub fn check_namespace(namespace: &str) -> Result<(), OptionError> {
    if is_dns_label(namespace) { Ok(()) } else { refuse("namespace", format!("{namespace:?} is not a namespace name")) }
}

/// Every option of a lint run, checked.
pub fn check_lint_options(options: &crate::LintOptions) -> Result<(), OptionError> {
    check_namespace(&options.default_namespace)?;
    if let Some(issuer) = &options.issuer {
        check_issuer(issuer)?;
    }
    check_webhook_options(options.tenant_id.as_deref(), options.authority_host.as_deref())?;
    for (namespace, ids) in &options.allowed_client_ids {
        check_allowed_client_ids(namespace, ids)?;
    }
    if let Some(namespace) = &options.keda_namespace {
        if !is_dns_label(namespace) {
            return refuse("kedaNamespace", format!("{namespace:?} is not a namespace name"));
        }
    }
    Ok(())
}

/// The v1.6 webhook's token proxy for identity bindings (mutate).
pub fn check_token_proxy(proxy: &crate::mutation::TokenProxy) -> Result<(), OptionError> {
    if let Some(url) = &proxy.url {
        if !is_https_url(url) {
            return refuse("tokenProxy", format!("{url:?} is not an https:// URL"));
        }
    }
    if let Some(name) = &proxy.sni_name {
        // Host names compare without letter case.
        if !crate::wellknown::is_dns_subdomain(&name.to_ascii_lowercase()) {
            return refuse("tokenProxySniName", format!("{name:?} is not a DNS name"));
        }
    }
    if let Some(name) = &proxy.ca_config_map {
        if !crate::wellknown::is_dns_subdomain(name) {
            return refuse("tokenProxyCaConfigMap", format!("{name:?} is not a ConfigMap name"));
        }
    }
    if let Some(text) = &proxy.ca_data {
        if !is_pem_certificates(text) {
            return refuse("tokenProxyCaData", "the value is not one or more PEM certificates (-----BEGIN CERTIFICATE----- blocks and nothing else)".to_string());
        }
    }
    Ok(())
}

/// One or more PEM certificate blocks and nothing else (RFC 7468's
/// strict form: base64 lines between `-----BEGIN CERTIFICATE-----` and
/// `-----END CERTIFICATE-----`): a private key pasted with the CA would be
/// injected into every container. Checked by its shape, not decoded: the
/// browser page's size is a goal, and the webhook passes the text on as
/// it is.
fn is_pem_certificates(text: &str) -> bool {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut blocks = 0;
    let mut body: Option<String> = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match (&mut body, line) {
            (None, BEGIN) => body = Some(String::new()),
            (Some(b), END) => {
                let padding = b.len() - b.trim_end_matches('=').len();
                let valid = !b.is_empty() && b.len() % 4 == 0 && padding <= 2 && b.trim_end_matches('=').bytes().all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/');
                if !valid {
                    return false;
                }
                blocks += 1;
                body = None;
            }
            (Some(b), _) if !line.starts_with("-----") => b.push_str(line),
            _ => return false,
        }
    }
    body.is_none() && blocks > 0
}

/// The webhook options both lint and mutate take.
pub fn check_webhook_options(tenant_id: Option<&str>, authority_host: Option<&str>) -> Result<(), OptionError> {
    if let Some(tenant_id) = tenant_id {
        check_tenant_id(tenant_id)?;
    }
    if let Some(host) = authority_host {
        check_authority_host(host)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_their_field() {
        assert_eq!(check_tenant_id("not a guid").unwrap_err().field, "tenantId");
        for bad in ["", "ftp://x", "https://", "https:// x", "http://login.microsoftonline.com/", "https://[::1/", "https://a.com:99999/", "https://.com/", "https://a.com/%zz", "https://a..com/", "https://host/a\\b", "https://host:0443/"] {
            assert!(check_authority_host(bad).is_err(), "{bad:?}");
        }
        assert!(check_authority_host("https://login.microsoftonline.us").is_ok());
        assert!(check_allowed_client_ids("ns", &[]).is_err());
        assert!(check_allowed_client_ids("ns", &["not-a-guid".into()]).is_err());
        assert!(check_allowed_client_ids("Bad_NS", &["11111111-2222-4333-8444-555555555555".into()]).is_err());
        assert!(check_allowed_client_ids("*", &["11111111-2222-4333-8444-555555555555".into()]).is_ok());
        for bad in [" 1.32", "+1.32", "1.99999999999", "1", "1.", ".32", "1.32 ", "latest", "1.32x", "1.32.4.5", "1.32++", "1.31.0.0", "1.32-"] {
            assert!(parse_kubernetes_version(bad).is_err(), "{bad:?}");
        }
        for (good, want) in [("1.32", (1, 32)), ("v1.31.4", (1, 31)), ("1.33+", (1, 33)), ("1.32.0-eks", (1, 32))] {
            assert_eq!(parse_kubernetes_version(good), Ok(want), "{good:?}");
        }
        for (good, want) in [("v1.5.1", (1, 5, 1)), ("1.3.0", (1, 3, 0)), ("1.6.0-alpha.1", (1, 6, 0)), ("1.5", (1, 5, 0)), ("v1.2.2+build.7", (1, 2, 2))] {
            assert_eq!(parse_webhook_version(good).map(|v| v.release), Ok(want), "{good:?}");
        }
        let rc = parse_webhook_version("v1.3.0-rc.1").unwrap();
        assert!(rc.before((1, 3, 0)) && !rc.before((1, 2, 2)) && rc.to_string() == "v1.3.0-rc.1");
        assert!(!parse_webhook_version("1.3.0").unwrap().before((1, 3, 0)));
        let proxy = |ca_data: &str| crate::mutation::TokenProxy { ca_data: Some(ca_data.into()), ..Default::default() };
        let certificate = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2Vy\n-----END CERTIFICATE-----\n";
        assert!(check_token_proxy(&proxy(certificate)).is_ok());
        assert!(check_token_proxy(&proxy(&format!("{certificate}\n{certificate}"))).is_ok());
        let key = "-----BEGIN PRIVATE KEY-----\nMIIBszCCAVmgAwIBAgIUQ2Vy\n-----END PRIVATE KEY-----\n";
        for bad in [format!("{certificate}{key}"), "-----BEGIN CERTIFICATE-----".into(), "-----BEGIN CERTIFICATE-----\ngarbage!!\n-----END CERTIFICATE-----".into(), format!("note\n{certificate}"), String::new()] {
            assert_eq!(check_token_proxy(&proxy(&bad)).unwrap_err().field, "tokenProxyCaData", "{bad:?}");
        }
        for bad in ["", "latest", "v1", "1.5.x", "1.5.1 ", "v 1.5", "1.5.1.2", "1.5.", "-1.5"] {
            assert_eq!(parse_webhook_version(bad).unwrap_err().field, "webhookVersion", "{bad:?}");
        }
    }
}

/// `classic` or `v1.6`, as `--layout` and the settings name them.
pub fn parse_layout(name: Option<&str>) -> Result<crate::Layout, OptionError> {
    match name {
        None | Some("classic") => Ok(crate::Layout::Classic),
        Some("v1.6") => Ok(crate::Layout::V1_6),
        Some(other) => Err(OptionError { field: "layout".into(), message: format!("{other:?} is not classic or v1.6") }),
    }
}

/// Lint's flags as the faces that take JSON (the Extism plugin, the page)
/// name them: camelCase, every one optional. Read by hand from a JSON
/// object rather than derived: the page's wasm size is a goal.
#[derive(Debug, Default)]
pub struct LintFlags {
    pub issuer: Option<String>,
    pub layout: Option<String>,
    pub tenant_id: Option<String>,
    pub authority_host: Option<String>,
    pub namespace: Option<String>,
    pub allowed_client_ids: std::collections::BTreeMap<String, Vec<String>>,
    pub webhook_version: Option<String>,
    pub kubernetes_version: Option<String>,
    pub keda_namespace: Option<String>,
}

/// Mutate's flags, as [`LintFlags`] are lint's.
#[derive(Debug, Default)]
pub struct MutateFlags {
    pub layout: Option<String>,
    pub tenant_id: Option<String>,
    pub authority_host: Option<String>,
    pub namespace: Option<String>,
    /// `--kubernetes-version`; the CLI's default, 1.31, when absent.
    pub kubernetes_version: Option<String>,
    pub token_proxy: crate::mutation::TokenProxy,
}

/// The fields of a JSON object of flags, each checked against `known`;
/// the words are serde's, as the faces reported them before.
fn flag_fields<'a>(value: &'a serde_json::Value, known: &[&str]) -> Result<Vec<(&'a str, &'a serde_json::Value)>, String> {
    let object = value.as_object().ok_or_else(|| format!("invalid type: {}, expected an object of flags", crate::objects::describe(value)))?;
    object
        .iter()
        .map(|(key, v)| {
            if known.contains(&key.as_str()) {
                Ok((key.as_str(), v))
            } else {
                Err(format!("unknown field `{key}`, expected one of {}", known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")))
            }
        })
        .collect()
}

/// A flag's string value; null is absent.
fn flag_string(key: &str, value: &serde_json::Value) -> Result<Option<String>, String> {
    match value {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => Ok(Some(s.clone())),
        other => Err(format!("`{key}`: invalid type: {}, expected a string", crate::objects::describe(other))),
    }
}

impl LintFlags {
    pub fn from_json(value: &serde_json::Value) -> Result<LintFlags, String> {
        let mut flags = LintFlags::default();
        let known = ["issuer", "layout", "tenantId", "authorityHost", "namespace", "allowedClientIds", "webhookVersion", "kubernetesVersion", "kedaNamespace"];
        for (key, v) in flag_fields(value, &known)? {
            match key {
                "issuer" => flags.issuer = flag_string(key, v)?,
                "webhookVersion" => flags.webhook_version = flag_string(key, v)?,
                "kubernetesVersion" => flags.kubernetes_version = flag_string(key, v)?,
                "kedaNamespace" => flags.keda_namespace = flag_string(key, v)?,
                "layout" => flags.layout = flag_string(key, v)?,
                "tenantId" => flags.tenant_id = flag_string(key, v)?,
                "authorityHost" => flags.authority_host = flag_string(key, v)?,
                "namespace" => flags.namespace = flag_string(key, v)?,
                _ => {
                    for (namespace, ids) in v.as_object().into_iter().flatten() {
                        let ids = ids.as_array().filter(|a| a.iter().all(serde_json::Value::is_string));
                        let ids = ids.ok_or_else(|| format!("`allowedClientIds.{namespace}`: expected a list of strings"))?;
                        flags.allowed_client_ids.insert(namespace.clone(), ids.iter().filter_map(|i| i.as_str().map(String::from)).collect());
                    }
                    if !v.is_object() && !v.is_null() {
                        return Err("`allowedClientIds`: expected an object of namespace: [client IDs]".into());
                    }
                }
            }
        }
        Ok(flags)
    }

    /// The options these flags ask for, checked as the CLI checks them.
    pub fn options(self) -> Result<crate::LintOptions, OptionError> {
        let options = crate::LintOptions {
            issuer: self.issuer,
            layout: parse_layout(self.layout.as_deref())?,
            tenant_id: self.tenant_id,
            authority_host: self.authority_host,
            default_namespace: self.namespace.unwrap_or_else(|| "default".into()),
            allowed_client_ids: self.allowed_client_ids,
            webhook_version: self.webhook_version.as_deref().map(parse_webhook_version).transpose()?,
            kubernetes_version: self.kubernetes_version.as_deref().map(parse_kubernetes_version).transpose()?,
            keda_namespace: self.keda_namespace,
        };
        check_lint_options(&options)?;
        Ok(options)
    }
}

impl MutateFlags {
    pub fn from_json(value: &serde_json::Value) -> Result<MutateFlags, String> {
        let mut flags = MutateFlags::default();
        let known = ["layout", "tenantId", "authorityHost", "namespace", "kubernetesVersion", "tokenProxy", "tokenProxySniName", "tokenProxyCaConfigMap", "tokenProxyCaData"];
        for (key, v) in flag_fields(value, &known)? {
            let text = flag_string(key, v)?;
            match key {
                "layout" => flags.layout = text,
                "tokenProxy" => flags.token_proxy.url = text,
                "tokenProxySniName" => flags.token_proxy.sni_name = text,
                "tokenProxyCaConfigMap" => flags.token_proxy.ca_config_map = text,
                "tokenProxyCaData" => flags.token_proxy.ca_data = text,
                "tenantId" => flags.tenant_id = text,
                "authorityHost" => flags.authority_host = text,
                "namespace" => flags.namespace = text,
                _ => flags.kubernetes_version = text,
            }
        }
        Ok(flags)
    }

    pub fn options(self) -> Result<crate::MutateOptions, OptionError> {
        let kubernetes_version = parse_kubernetes_version(self.kubernetes_version.as_deref().unwrap_or("1.31"))?;
        check_webhook_options(self.tenant_id.as_deref(), self.authority_host.as_deref())?;
        let namespace = self.namespace.unwrap_or_else(|| "default".into());
        check_namespace(&namespace)?;
        check_token_proxy(&self.token_proxy)?;
        Ok(crate::MutateOptions {
            token_proxy: self.token_proxy,
            layout: parse_layout(self.layout.as_deref())?,
            tenant_id: self.tenant_id,
            authority_host: self.authority_host,
            kubernetes_version: Some(kubernetes_version),
            default_namespace: namespace,
            ..Default::default()
        })
    }
}
