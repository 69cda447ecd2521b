//! Objects that consume a Workload ID credential for someone else: the
//! Secrets Store CSI driver's Azure provider (`SecretProviderClass`) and
//! external-secrets' Azure Key Vault provider (`SecretStore`,
//! `ClusterSecretStore`). Views over the raw objects, for the WI051+ rules.

use serde_json::Value;

use crate::objects::{Object, PodView, at};

pub const SECRETS_STORE_GROUP: &str = "secrets-store.csi.x-k8s.io";
pub const SECRETS_STORE_DRIVER: &str = "secrets-store.csi.k8s.io";
pub const EXTERNAL_SECRETS_GROUP: &str = "external-secrets.io";

fn is(object: &Object, group: &str, kinds: &[&str]) -> bool {
    kinds.contains(&object.kind.as_str()) && object.group() == group
}

/// A `SecretProviderClass` with `provider: azure`. Its parameters are all
/// strings; the provider parses the booleans with Go's `strconv.ParseBool`.
pub struct ProviderClass<'a> {
    pub object: &'a Object,
    pub parameters: Option<&'a serde_json::Map<String, Value>>,
}

impl<'a> ProviderClass<'a> {
    pub fn of(object: &'a Object) -> Option<Self> {
        if !is(object, SECRETS_STORE_GROUP, &["SecretProviderClass"])
            || at(&object.doc.value, "/spec/provider").and_then(Value::as_str) != Some("azure")
        {
            return None;
        }
        let parameters = at(&object.doc.value, "/spec/parameters").and_then(Value::as_object);
        Some(ProviderClass { object, parameters })
    }
    pub fn parameter(&self, key: &str) -> Option<&'a str> {
        self.parameters?.get(key).and_then(Value::as_str)
    }
    /// `strconv.ParseBool`'s true values.
    pub fn flag(&self, key: &str) -> bool {
        matches!(
            self.parameter(key),
            Some("1" | "t" | "T" | "true" | "TRUE" | "True")
        )
    }
    /// The `clientID` the provider federates with: set, and no other mode
    /// chosen (pod identity, the node's managed identity).
    pub fn workload_identity_client_id(&self) -> Option<&'a str> {
        self.parameter("clientID").filter(|id| {
            !id.is_empty() && !self.flag("usePodIdentity") && !self.flag("useVMManagedIdentity")
        })
    }
    pub fn name(&self) -> &'a str {
        &self.object.name
    }
}

/// The CSI volumes of a pod that mount a SecretProviderClass: (JSON
/// pointer of the volume, class name, whether it passes a
/// `nodePublishSecretRef`, which puts the provider in service principal mode).
pub fn mounted_classes<'a>(pod: &PodView<'a>) -> Vec<(String, &'a str, bool)> {
    let Some(volumes) = pod.spec.get("volumes").and_then(Value::as_array) else {
        return Vec::new();
    };
    volumes
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let csi = v.get("csi")?;
            if csi.get("driver").and_then(Value::as_str) != Some(SECRETS_STORE_DRIVER) {
                return None;
            }
            let class = csi
                .get("volumeAttributes")?
                .get("secretProviderClass")?
                .as_str()?;
            Some((
                pod.spec_pointer(&format!("/volumes/{i}")),
                class,
                csi.get("nodePublishSecretRef").is_some(),
            ))
        })
        .collect()
}

/// A `SecretStore` or `ClusterSecretStore` whose provider is `azurekv`.
pub struct KeyVaultStore<'a> {
    pub object: &'a Object,
    pub cluster_scoped: bool,
    /// `spec.provider.azurekv`.
    pub provider: &'a Value,
}

pub const AZUREKV_POINTER: &str = "/spec/provider/azurekv";

impl<'a> KeyVaultStore<'a> {
    pub fn of(object: &'a Object) -> Option<Self> {
        if !is(
            object,
            EXTERNAL_SECRETS_GROUP,
            &["SecretStore", "ClusterSecretStore"],
        ) {
            return None;
        }
        let provider = at(&object.doc.value, AZUREKV_POINTER).filter(|p| p.is_object())?;
        Some(KeyVaultStore {
            object,
            cluster_scoped: object.kind == "ClusterSecretStore",
            provider,
        })
    }
    pub fn field(&self, pointer: &str) -> Option<&'a Value> {
        at(self.provider, pointer)
    }
    pub fn workload_identity(&self) -> bool {
        self.field("/authType").and_then(Value::as_str) == Some("WorkloadIdentity")
    }
}
