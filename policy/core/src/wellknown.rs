//! Names and values fixed by the azure-workload-identity webhook (v1.0–v1.6)
//! and by Microsoft Entra. Read from upstream's `pkg/webhook/consts.go`.

pub const USE_LABEL: &str = "azure.workload.identity/use";
pub const CLIENT_ID_ANNOTATION: &str = "azure.workload.identity/client-id";
pub const TENANT_ID_ANNOTATION: &str = "azure.workload.identity/tenant-id";
pub const TOKEN_EXPIRATION_ANNOTATION: &str = "azure.workload.identity/service-account-token-expiration";
pub const SKIP_CONTAINERS_ANNOTATION: &str = "azure.workload.identity/skip-containers";
pub const INJECT_PROXY_ANNOTATION: &str = "azure.workload.identity/inject-proxy-sidecar";
pub const PROXY_PORT_ANNOTATION: &str = "azure.workload.identity/proxy-sidecar-port";

pub const MIN_TOKEN_EXPIRATION: i64 = 3600;
pub const MAX_TOKEN_EXPIRATION: i64 = 86400;
pub const DEFAULT_TOKEN_EXPIRATION: i64 = 3600;
pub const DEFAULT_PROXY_PORT: i64 = 8000;

pub const PROXY_INIT_CONTAINER: &str = "azwi-proxy-init";
pub const PROXY_SIDECAR_CONTAINER: &str = "azwi-proxy";
pub const PROXY_PORT_ENV: &str = "PROXY_PORT";

pub const ENV_CLIENT_ID: &str = "AZURE_CLIENT_ID";
pub const ENV_TENANT_ID: &str = "AZURE_TENANT_ID";
pub const ENV_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
pub const ENV_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";

/// The webhook's audience for the projected token, and the audience Entra
/// expects on a federated credential for Kubernetes.
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// `azure.PublicCloud.ActiveDirectoryEndpoint`, the webhook's default.
pub const PUBLIC_CLOUD_AUTHORITY_HOST: &str = "https://login.microsoftonline.com/";

pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";

/// The aad-pod-identity label that binds a pod to an `AzureIdentityBinding`.
pub const AAD_POD_IDENTITY_LABEL: &str = "aadpodidbinding";
pub const AAD_POD_IDENTITY_GROUP: &str = "aadpodidentity.k8s.io";
pub const ASO_MANAGED_IDENTITY_GROUP: &str = "managedidentity.azure.com";
pub const ASO_CONTAINER_SERVICE_GROUP: &str = "containerservice.azure.com";

/// Azure's limit on federated identity credentials per managed identity.
pub const MAX_FICS_PER_IDENTITY: usize = 20;
/// Host suffix of AKS OIDC issuers, which Entra matches with their trailing slash.
pub const AKS_ISSUER_HOST_SUFFIX: &str = ".oic.prod-aks.azure.com";

/// AKS identity bindings (webhook v1.6): the pod annotation that asks for
/// the token proxy (compared with Go's `strings.EqualFold` to "true"), the
/// one credential AKS creates per identity and the audience of its tokens,
/// and the RBAC grant a ServiceAccount needs (verb on the identity's client
/// ID as resource). Sources: AKS's identity-bindings pages; upstream
/// webhook v1.6.0 `isUsingCustomTokenEndpoint` and its CI's audience.
pub const USE_IDENTITY_BINDING_ANNOTATION: &str = "azure.workload.identity/use-identity-binding";

/// The binding annotation's value as the webhook reads it: Go's
/// `strings.EqualFold(value, "true")`.
pub fn is_binding_requested(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.eq_ignore_ascii_case("true"))
}
pub const IDENTITY_BINDING_FIC_NAME: &str = "aks-identity-binding";
pub const IDENTITY_BINDING_AUDIENCE: &str = "api://AKSIdentityBinding";
pub const IDENTITY_BINDING_API_GROUP: &str = "cid.wi.aks.azure.com";
pub const IDENTITY_BINDING_VERB: &str = "use-managed-identity";
/// What the v1.6 webhook adds to a pod that uses a binding: the token
/// proxy's variables, and its CA certificate inside the token volume.
pub const ENV_TOKEN_PROXY: &str = "AZURE_KUBERNETES_TOKEN_PROXY";
pub const ENV_TOKEN_PROXY_SNI_NAME: &str = "AZURE_KUBERNETES_SNI_NAME";
pub const ENV_TOKEN_PROXY_CA_FILE: &str = "AZURE_KUBERNETES_CA_FILE";
pub const ENV_TOKEN_PROXY_CA_DATA: &str = "AZURE_KUBERNETES_CA_DATA";
pub const TOKEN_PROXY_CA_PATH: &str = "ca-cert/ca.crt";

/// The projected token layout the webhook injects. `Classic` is v1.0–v1.5,
/// `V1_6` is v1.6 and later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    #[default]
    Classic,
    V1_6,
}

/// v1.6's volume names start with this, followed by a hash of the pod name.
pub const V1_6_VOLUME_PREFIX: &str = "azure-workload-identity-reserved-";
pub const V1_6_MOUNT_PATH: &str = "/var/run/secrets/azure/wi";
pub const V1_6_TOKEN_PATH: &str = "token/azure-identity-token";
pub const CLASSIC_VOLUME: &str = "azure-identity-token";
pub const CLASSIC_MOUNT_PATH: &str = "/var/run/secrets/azure/tokens";
pub const CLASSIC_TOKEN_PATH: &str = "azure-identity-token";

impl Layout {
    /// As `--layout` names it.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Classic => "classic",
            Layout::V1_6 => "v1.6",
        }
    }
    pub fn mount_path(self) -> &'static str {
        match self {
            Layout::Classic => CLASSIC_MOUNT_PATH,
            Layout::V1_6 => V1_6_MOUNT_PATH,
        }
    }
    pub fn token_path(self) -> &'static str {
        match self {
            Layout::Classic => CLASSIC_TOKEN_PATH,
            Layout::V1_6 => V1_6_TOKEN_PATH,
        }
    }
    /// What `AZURE_FEDERATED_TOKEN_FILE` is set to.
    pub fn token_file(self) -> String {
        format!("{}/{}", self.mount_path(), self.token_path())
    }
    /// The proxy images the webhook release of this layout injects.
    pub fn webhook_version(self) -> &'static str {
        match self {
            Layout::Classic => "v1.5.1",
            Layout::V1_6 => "v1.6.0",
        }
    }
}

pub const PROXY_IMAGE_REGISTRY: &str = "mcr.microsoft.com/oss/azure/workload-identity";

/// The container names in a `skip-containers` annotation: the webhook splits
/// on `;` and trims each name.
pub fn skipped_containers(annotation: &str) -> Vec<&str> {
    annotation.split(';').map(str::trim).collect()
}

/// True for a canonical GUID: 8-4-4-4-12 hex digits, nothing around it.
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// RFC 1123 label: what namespaces are named with.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1123 subdomain: what ServiceAccounts are named with.
pub fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// A Kubernetes object name (a ServiceAccount's): Kubernetes' "DNS-1123
/// subdomain", 253 characters at most, whose dot-separated parts have no
/// length limit of their own (unlike DNS host names).
pub fn is_object_name(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids() {
        assert!(is_guid("00000000-1111-2222-3333-444444444444"));
        assert!(is_guid("AbCdEf00-1111-2222-3333-444444444444"));
        assert!(!is_guid(" 00000000-1111-2222-3333-444444444444"));
        assert!(!is_guid("00000000-1111-2222-3333-44444444444"));
        assert!(!is_guid("${USER_ASSIGNED_CLIENT_ID}"));
    }

    #[test]
    fn names() {
        assert!(is_dns_label("finance-1"));
        assert!(!is_dns_label("Finance"));
        assert!(!is_dns_label("-a"));
        assert!(is_dns_subdomain("workload.identity-sa"));
        assert!(!is_dns_subdomain("a..b"));
        assert!(is_object_name(&"s".repeat(64)) && !is_dns_subdomain(&"s".repeat(64)));
        assert!(!is_object_name(&"s".repeat(254)) && !is_object_name("a..b") && !is_object_name("-a"));
    }
}

/// Parses like Go's `strconv.ParseInt(s, 10, 64)`: optional sign, digits only.
/// True when `volume` is the webhook's projected token volume for `layout`
/// (a projected ServiceAccount token at the layout's token path).
pub fn is_token_volume(volume: &serde_json::Value, layout: Layout) -> bool {
    volume
        .pointer("/projected/sources")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|sources| {
            sources
                .iter()
                .any(|s| s.pointer("/serviceAccountToken/path").and_then(serde_json::Value::as_str) == Some(layout.token_path()))
        })
}

/// Why Go's `strconv.ParseInt(s, 10, 64)` refuses `s`, in its words:
/// `invalid syntax` or `value out of range`.
pub fn go_int(s: &str) -> Result<i64, &'static str> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("invalid syntax");
    }
    s.parse().map_err(|_| "value out of range")
}

/// The port in a `proxy-sidecar-port` annotation, or why it is refused: the
/// webhook needs an integer, the API server a port in 1..=65535.
pub fn parse_proxy_port(value: &serde_json::Value) -> Result<i64, String> {
    let Some(text) = value.as_str() else {
        return Err(format!("proxy port is {value} (annotations must be strings)"));
    };
    match go_int(text) {
        Err("value out of range") => Err(format!("proxy port {text:?} is out of range (1..=65535)")),
        Err(_) => Err(format!("proxy port {text:?} is not an integer")),
        Ok(p) if !(1..=65535).contains(&p) => Err(format!("proxy port {p} is outside 1..=65535")),
        Ok(p) => Ok(p),
    }
}
