//! What the azure-workload-identity mutating webhook does to an opted-in pod,
//! step for step as upstream's `pkg/webhook/webhook.go` (v1.5.1 for the
//! classic layout, v1.6.0 for the v1.6 layout): proxy init and sidecar
//! containers, `AZURE_*` variables, the token volume mount, the projected
//! token volume, and the same refusals.
//!
//! Upstream marshals a Go `corev1.Pod`, which also emits zero values
//! (`creationTimestamp: null`, `resources: {}`); the API server drops or
//! defaults those either way, so they are not reproduced here.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::patch::object;
use crate::wellknown::*;

/// How the emulated webhook is configured.
#[derive(Debug, Clone, Default)]
pub struct MutateOptions {
    pub layout: Layout,
    /// The webhook's `AZURE_TENANT_ID`, used when the ServiceAccount has no
    /// tenant-id annotation.
    pub tenant_id: Option<String>,
    /// Defaults to the public cloud's `https://login.microsoftonline.com/`.
    pub authority_host: Option<String>,
    /// The API server version, `(major, minor)`; native sidecars from 1.32.
    /// `None` means before 1.32.
    pub kubernetes_version: Option<(u32, u32)>,
    pub proxy_image: Option<String>,
    pub proxy_init_image: Option<String>,
    /// Namespace of objects that do not name one.
    pub default_namespace: String,
    /// The v1.6 webhook's token proxy for AKS identity bindings.
    pub token_proxy: TokenProxy,
}

/// How the v1.6 webhook is configured for pods that use an AKS identity
/// binding (`azure.workload.identity/use-identity-binding: "true"`).
/// Upstream takes these from its own configuration; AKS sets them on its
/// managed webhook, and the values are not published, so each one is
/// given here (or left out, as the webhook leaves out an empty one).
#[derive(Debug, Clone, Default)]
pub struct TokenProxy {
    /// `AZURE_KUBERNETES_TOKEN_PROXY`: the proxy's URL.
    pub url: Option<String>,
    /// `AZURE_KUBERNETES_SNI_NAME`.
    pub sni_name: Option<String>,
    /// The ConfigMap whose `ca.crt` the token volume projects as the proxy's
    /// CA (`AZURE_KUBERNETES_CA_FILE` points there).
    pub ca_config_map: Option<String>,
    /// `AZURE_KUBERNETES_CA_DATA`: the CA in PEM.
    pub ca_data: Option<String>,
}

impl MutateOptions {
    fn native_sidecar(&self) -> bool {
        self.kubernetes_version.is_some_and(|v| v >= (1, 32))
    }
    fn proxy_image(&self, name: &str, given: &Option<String>) -> String {
        given
            .clone()
            .unwrap_or_else(|| format!("{PROXY_IMAGE_REGISTRY}/{name}:{}", self.layout.webhook_version()))
    }
}

/// Parses `1.32`, `v1.32.4`, `1.32.0-eks` into `(1, 32)`; see
/// [`crate::options::parse_kubernetes_version`].
pub fn parse_kubernetes_version(text: &str) -> Option<(u32, u32)> {
    crate::options::parse_kubernetes_version(text).ok()
}

/// The name the webhook's logs and errors use for a pod.
fn pod_name(metadata: &Value) -> String {
    match metadata.get("name").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => format!(
            "{} (prefix)",
            metadata.get("generateName").and_then(Value::as_str).unwrap_or("")
        ),
    }
}

/// v1.6's volume name: the reserved prefix and a sha256 of the pod name, cut
/// to the 63 characters a volume name may have.
pub fn v1_6_volume_name(pod_name: &str) -> String {
    let hash = Sha256::digest(pod_name.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("{V1_6_VOLUME_PREFIX}{}", &hex[..63 - V1_6_VOLUME_PREFIX.len()])
}

fn annotation<'a>(metadata: &'a Value, key: &str) -> Option<&'a Value> {
    metadata.get("annotations")?.get(key)
}

/// Non-empty string annotation, as Go reads `map[string]string` (missing and
/// empty are the same).
fn annotation_text<'a>(metadata: &'a Value, key: &str) -> Option<&'a str> {
    annotation(metadata, key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Mutates `pod` (an object with `metadata` and `spec`: a Pod or a pod
/// template) in place as the webhook would, given its ServiceAccount.
/// `Err` carries the webhook's refusal.
/// Mutates one pod (or template) in place as the webhook would. `Ok` holds
/// warnings: what the result lacks that the webhook would have given it.
pub fn mutate_pod(pod: &mut Value, service_account: Option<&Value>, sa_name: &str, options: &MutateOptions) -> Result<Vec<String>, String> {
    let metadata = pod.get("metadata").cloned().unwrap_or(Value::Null);
    let Some(service_account) = service_account else {
        return Err(format!("serviceaccounts {sa_name:?} not found"));
    };
    let sa_meta = service_account.get("metadata").cloned().unwrap_or(Value::Null);
    let spec = match pod.get_mut("spec") {
        Some(Value::Object(spec)) => spec,
        _ => return Err("pod has no spec".into()),
    };

    if annotation(&metadata, INJECT_PROXY_ANNOTATION).is_some() {
        if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
            return Err("hostNetwork is set to true, cannot inject proxy sidecar".into());
        }
        let port = match annotation(&metadata, PROXY_PORT_ANNOTATION) {
            None => DEFAULT_PROXY_PORT,
            Some(v) => parse_proxy_port(v).map_err(|e| format!("failed to parse proxy sidecar port: {e}"))?,
        };
        let init = list_mut(spec, "spec", "initContainers")?;
        if !has_named(init, PROXY_INIT_CONTAINER) {
            init.push(proxy_init_container(&options.proxy_image("proxy-init", &options.proxy_init_image), port));
        }
        let native = options.native_sidecar();
        let target = list_mut(spec, "spec", if native { "initContainers" } else { "containers" })?;
        if !has_named(target, PROXY_SIDECAR_CONTAINER) {
            target.insert(0, proxy_sidecar_container(&options.proxy_image("proxy", &options.proxy_image), port, native));
        }
    }

    let expiration = match annotation_text(&metadata, TOKEN_EXPIRATION_ANNOTATION)
        .map(|v| (v, "pod"))
        .or_else(|| annotation_text(&sa_meta, TOKEN_EXPIRATION_ANNOTATION).map(|v| (v, "service account")))
    {
        None => DEFAULT_TOKEN_EXPIRATION,
        Some((text, whose)) => {
            let n = go_int(text).map_err(|why| format!("{whose} token expiration {text:?}: {why}"))?;
            if !(MIN_TOKEN_EXPIRATION..=MAX_TOKEN_EXPIRATION).contains(&n) {
                return Err(format!(
                    "token expiration {n} not valid. Expected value to be between {MIN_TOKEN_EXPIRATION} and {MAX_TOKEN_EXPIRATION}"
                ));
            }
            n
        }
    };
    let client_id = annotation(&sa_meta, CLIENT_ID_ANNOTATION).and_then(Value::as_str).unwrap_or("");
    let tenant_id = match annotation(&sa_meta, TENANT_ID_ANNOTATION) {
        Some(v) => v.as_str().unwrap_or("").to_string(),
        None => options.tenant_id.clone().unwrap_or_default(),
    };
    let mut warnings = Vec::new();
    if tenant_id.is_empty() {
        // The webhook always has a tenant (its own required setting); only
        // this emulation can lack one.
        warnings.push(format!(
            "AZURE_TENANT_ID not injected: ServiceAccount {sa_name:?} has no `{TENANT_ID_ANNOTATION}` annotation and no cluster tenant ID is configured (kubectl wi --tenant-id, policy setting tenantId); the webhook always injects its cluster's tenant"
        ));
    }
    let authority_host = options.authority_host.clone().unwrap_or_else(|| PUBLIC_CLOUD_AUTHORITY_HOST.to_string());
    let skip: Vec<&str> = annotation_text(&metadata, SKIP_CONTAINERS_ANNOTATION)
        .map(skipped_containers)
        .unwrap_or_default();
    let layout = options.layout;
    let volume_name = match layout {
        Layout::Classic => CLASSIC_VOLUME.to_string(),
        // Mutated again (reinvocationPolicy: IfNeeded) after another webhook
        // gave the pod its name: keep the token volume the first pass added
        // instead of adding a second at the same mount path, which the API
        // server refuses (upstream issue #1744).
        Layout::V1_6 => existing_v1_6_volume(spec).unwrap_or_else(|| v1_6_volume_name(&pod_name(&metadata))),
    };
    let mut desired_env = vec![
        (ENV_CLIENT_ID, client_id.to_string()),
        (ENV_TENANT_ID, tenant_id),
        (ENV_TOKEN_FILE, layout.token_file()),
        (ENV_AUTHORITY_HOST, authority_host),
    ];
    // Identity bindings came with v1.6; older webhooks ignore the annotation.
    let binding = layout == Layout::V1_6 && uses_identity_binding(&metadata);
    if binding {
        let proxy = &options.token_proxy;
        if proxy.url.is_none() {
            warnings.push(format!(
                "{ENV_TOKEN_PROXY} not injected: the pod uses an identity binding, and the webhook's token proxy address is not configured (kubectl wi --token-proxy, policy setting tokenProxy); AKS's webhook injects its own"
            ));
        }
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        desired_env.extend([
            (ENV_TOKEN_PROXY, text(&proxy.url)),
            (ENV_TOKEN_PROXY_SNI_NAME, text(&proxy.sni_name)),
            (ENV_TOKEN_PROXY_CA_FILE, format!("{V1_6_MOUNT_PATH}/{TOKEN_PROXY_CA_PATH}")),
            (ENV_TOKEN_PROXY_CA_DATA, text(&proxy.ca_data)),
        ]);
    }

    for field in ["initContainers", "containers"] {
        let containers = match spec.get_mut(field) {
            Some(Value::Array(containers)) => containers,
            None | Some(Value::Null) => continue,
            Some(_) => return Err(format!("spec.{field} is not a list")),
        };
        for (i, container) in containers.iter_mut().enumerate() {
            let path = format!("spec.{field}[{i}]");
            let Value::Object(container) = container else {
                return Err(format!("{path} is not an object"));
            };
            let name = container.get("name").and_then(Value::as_str).unwrap_or("");
            if skip.contains(&name) {
                continue;
            }
            add_env(container, &path, &desired_env)?;
            add_mount(container, &path, &volume_name, layout)?;
        }
    }
    let token_proxy = binding.then_some(&options.token_proxy);
    add_volume(spec, &volume_name, expiration, layout, token_proxy)?;
    Ok(warnings)
}

/// The webhook compares the annotation with Go's `strings.EqualFold`.
fn uses_identity_binding(metadata: &Value) -> bool {
    is_binding_requested(annotation(metadata, USE_IDENTITY_BINDING_ANNOTATION).and_then(Value::as_str))
}

/// The name of a v1.6 token volume the pod already has.
fn existing_v1_6_volume(spec: &Map<String, Value>) -> Option<String> {
    let volumes = spec.get("volumes")?.as_array()?;
    volumes.iter().find_map(|v| {
        let name = v.get("name")?.as_str()?;
        (name.starts_with(V1_6_VOLUME_PREFIX) && is_token_volume(v, Layout::V1_6)).then(|| name.to_string())
    })
}

/// The list at `field` of `parent` (created when absent); `path` names the
/// parent in the error.
fn list_mut<'a>(parent: &'a mut Map<String, Value>, path: &str, field: &str) -> Result<&'a mut Vec<Value>, String> {
    let entry = parent.entry(field.to_string()).or_insert_with(|| Value::Array(Vec::new()));
    if entry.is_null() {
        *entry = Value::Array(Vec::new());
    }
    entry.as_array_mut().ok_or_else(|| format!("{path}.{field} is not a list"))
}

fn has_named(containers: &[Value], name: &str) -> bool {
    containers.iter().any(|c| c.get("name").and_then(Value::as_str) == Some(name))
}

fn add_env(container: &mut Map<String, Value>, path: &str, desired: &[(&str, String)]) -> Result<(), String> {
    let existed = container.contains_key("env");
    let env = list_mut(container, path, "env")?;
    let present: Vec<String> = env
        .iter()
        .filter_map(|e| e.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    for (name, value) in desired {
        if !value.is_empty() && !present.iter().any(|p| p == name) {
            env.push(object([("name", json!(name)), ("value", json!(value))]));
        }
    }
    if env.is_empty() && !existed {
        container.remove("env");
    }
    Ok(())
}

fn add_mount(container: &mut Map<String, Value>, path: &str, volume_name: &str, layout: Layout) -> Result<(), String> {
    let mount = object([
        ("name", json!(volume_name)),
        ("readOnly", json!(true)),
        ("mountPath", json!(layout.mount_path())),
    ]);
    let mounts = list_mut(container, path, "volumeMounts")?;
    match mounts.iter().position(|m| m.get("name").and_then(Value::as_str) == Some(volume_name)) {
        // Classic webhooks leave an existing mount alone; v1.6 rewrites it.
        Some(i) => {
            if layout == Layout::V1_6 {
                mounts[i] = mount;
            }
        }
        None => mounts.push(mount),
    }
    Ok(())
}

/// The projected token volume; for a pod that uses an identity binding
/// (`token_proxy`), its token is for the binding's audience and the proxy's
/// CA comes with it when a ConfigMap is configured.
fn add_volume(spec: &mut Map<String, Value>, volume_name: &str, expiration: i64, layout: Layout, token_proxy: Option<&TokenProxy>) -> Result<(), String> {
    let audience = if token_proxy.is_some() { IDENTITY_BINDING_AUDIENCE } else { TOKEN_EXCHANGE_AUDIENCE };
    let mut sources = vec![json!({"serviceAccountToken": {
        "audience": audience,
        "expirationSeconds": expiration,
        "path": layout.token_path(),
    }})];
    if let Some(config_map) = token_proxy.and_then(|p| p.ca_config_map.as_deref()) {
        sources.push(json!({"configMap": {
            "name": config_map,
            "items": [{"key": "ca.crt", "path": TOKEN_PROXY_CA_PATH}],
            "optional": false,
        }}));
    }
    let volume = object([("name", json!(volume_name)), ("projected", json!({ "sources": sources }))]);
    let volumes = list_mut(spec, "spec", "volumes")?;
    match layout {
        Layout::Classic => {
            // v1.5 keeps any volume that already projects the token path.
            let present = volumes.iter().any(|v| {
                v.pointer("/projected/sources").and_then(Value::as_array).is_some_and(|sources| {
                    sources
                        .iter()
                        .any(|s| s.pointer("/serviceAccountToken/path").and_then(Value::as_str) == Some(CLASSIC_TOKEN_PATH))
                })
            });
            if !present {
                volumes.push(volume);
            }
        }
        Layout::V1_6 => match volumes.iter().position(|v| v.get("name").and_then(Value::as_str) == Some(volume_name)) {
            Some(i) => volumes[i] = volume,
            None => volumes.push(volume),
        },
    }
    Ok(())
}

fn proxy_init_container(image: &str, port: i64) -> Value {
    object([
        ("name", json!(PROXY_INIT_CONTAINER)),
        ("image", json!(image)),
        ("env", json!([{"name": PROXY_PORT_ENV, "value": port.to_string()}])),
        ("imagePullPolicy", json!("IfNotPresent")),
        (
            "securityContext",
            json!({
                "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
                "privileged": true,
                "runAsUser": 0,
                "runAsNonRoot": false,
            }),
        ),
    ])
}

/// The webhook runs the proxy at its own log level; its default is `info`.
const PROXY_LOG_LEVEL: &str = "info";

fn proxy_sidecar_container(image: &str, port: i64, native: bool) -> Value {
    let mut c = object([
        ("name", json!(PROXY_SIDECAR_CONTAINER)),
        ("image", json!(image)),
        ("args", json!([format!("--proxy-port={port}"), format!("--log-level={PROXY_LOG_LEVEL}")])),
        ("ports", json!([{"containerPort": port}])),
        (
            "lifecycle",
            json!({"postStart": {"exec": {"command": [
                "/proxy",
                format!("--proxy-port={port}"),
                "--probe",
                format!("--log-level={PROXY_LOG_LEVEL}"),
            ]}}}),
        ),
        ("imagePullPolicy", json!("IfNotPresent")),
        (
            "securityContext",
            json!({
                "capabilities": {"drop": ["ALL"]},
                "privileged": false,
                "readOnlyRootFilesystem": true,
                "runAsNonRoot": true,
                "allowPrivilegeEscalation": false,
            }),
        ),
    ]);
    if native {
        c["restartPolicy"] = json!("Always");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_name_matches_upstream_hash() {
        // `printf pod | sha256sum` = 425c89ed5bb78a7623fae60fd8a6f648488168740fe82cf6ad34caa4d07aa972
        assert_eq!(v1_6_volume_name("pod"), "azure-workload-identity-reserved-425c89ed5bb78a7623fae60fd8a6f6");
        assert_eq!(v1_6_volume_name("pod").len(), 63);
    }

    #[test]
    fn versions() {
        assert_eq!(parse_kubernetes_version("1.32"), Some((1, 32)));
        assert_eq!(parse_kubernetes_version("v1.31.4"), Some((1, 31)));
        assert_eq!(parse_kubernetes_version("1.33+"), Some((1, 33)));
        assert_eq!(parse_kubernetes_version("latest"), None);
    }
}
