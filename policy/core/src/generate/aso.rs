//! Format `aso`: Azure Service Operator v2 resources, so the identity and
//! its credentials are Kubernetes objects too (GitOps without az).

use std::collections::BTreeMap;

use kube_core::{ApiResource, GroupVersionKind, NotUsed, Object};
use serde::Serialize;
use serde_json::Value;

use super::spec::Checked;
use crate::render::yaml_stream;
use crate::wellknown::{ASO_CONTAINER_SERVICE_GROUP, ASO_MANAGED_IDENTITY_GROUP, TOKEN_EXCHANGE_AUDIENCE};

/// The first ASO version serving both kinds as stable (2023-01-31 API).
const VERSION: &str = "v1api20230131";
/// The only ASO version of IdentityBinding (API 2025-10-02-preview).
const IDENTITY_BINDING_VERSION: &str = "v1api20251002preview";

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Owner {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arm_id: Option<String>,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct ConfigMapDestination {
    name: String,
    key: String,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct IdentityOperatorSpec {
    config_maps: BTreeMap<String, ConfigMapDestination>,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct UserAssignedIdentitySpec {
    azure_name: String,
    location: String,
    owner: Owner,
    operator_spec: IdentityOperatorSpec,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct FederatedIdentityCredentialSpec {
    azure_name: String,
    owner: Owner,
    audiences: Vec<String>,
    issuer: String,
    subject: String,
}

/// A reference to another ASO object by its Kubernetes name.
#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct ResourceReference {
    group: String,
    kind: String,
    name: String,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct ManagedIdentityProfile {
    resource_reference: ResourceReference,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct IdentityBindingProperties {
    managed_identity: ManagedIdentityProfile,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct IdentityBindingSpec {
    azure_name: String,
    owner: Owner,
    properties: IdentityBindingProperties,
}

fn api_resource(kind: &str) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(ASO_MANAGED_IDENTITY_GROUP, VERSION, kind))
}

impl Owner {
    /// An owner ASO does not manage, by its Azure resource ID.
    pub(crate) fn arm(id: &str) -> Owner {
        Owner { name: None, arm_id: Some(id.to_string()) }
    }
}

/// One FederatedIdentityCredential object.
fn credential(namespace: &str, object: &str, azure_name: &str, owner: Owner, issuer: &str, subject: &str) -> Value {
    let fic = Object::<FederatedIdentityCredentialSpec, NotUsed>::new(
        object,
        &api_resource("FederatedIdentityCredential"),
        FederatedIdentityCredentialSpec {
            azure_name: azure_name.to_string(),
            owner,
            audiences: vec![TOKEN_EXCHANGE_AUDIENCE.to_string()],
            issuer: issuer.to_string(),
            subject: subject.to_string(),
        },
    )
    .within(namespace);
    serde_json::to_value(fic).unwrap_or_default()
}

/// A FederatedIdentityCredential named after its Azure name, in `namespace`.
pub(crate) fn federated_credential(namespace: &str, azure_name: &str, owner: Owner, issuer: &str, subject: &str) -> Value {
    credential(namespace, &object_name(azure_name), azure_name, owner, issuer, subject)
}

/// A Kubernetes object name (lowercase DNS subdomain) for an Azure name.
fn object_name(azure_name: &str) -> String {
    let name: String = azure_name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    name.trim_matches('-').to_string()
}

/// The AKS identity binding on the cluster, for the identity object.
fn identity_binding(spec: &Checked, binding: &str, namespace: &str, identity_object: &str) -> Value {
    let cluster = spec.cluster_name.as_deref().unwrap_or_default();
    let cluster_group = spec.cluster_resource_group.as_deref().or(spec.resource_group.as_deref()).unwrap_or_default();
    let owner = match &spec.subscription_id {
        Some(sub) => Owner::arm(&format!("/subscriptions/{sub}/resourceGroups/{cluster_group}/providers/Microsoft.ContainerService/managedClusters/{cluster}")),
        None => Owner { name: Some(object_name(cluster)), arm_id: None },
    };
    let object = Object::<IdentityBindingSpec, NotUsed>::new(
        &object_name(binding),
        &ApiResource::from_gvk(&GroupVersionKind::gvk(ASO_CONTAINER_SERVICE_GROUP, IDENTITY_BINDING_VERSION, "IdentityBinding")),
        IdentityBindingSpec {
            azure_name: binding.to_string(),
            owner,
            properties: IdentityBindingProperties {
                managed_identity: ManagedIdentityProfile {
                    resource_reference: ResourceReference {
                        group: ASO_MANAGED_IDENTITY_GROUP.to_string(),
                        kind: "UserAssignedIdentity".to_string(),
                        name: identity_object.to_string(),
                    },
                },
            },
        },
    )
    .within(namespace);
    serde_json::to_value(object).unwrap_or_default()
}

pub fn write(spec: &Checked) -> String {
    let namespace = spec.service_accounts.first().map(|sa| sa.namespace.clone()).unwrap_or_default();
    let identity_object = object_name(&spec.identity_name);
    let owner = match (&spec.subscription_id, &spec.resource_group) {
        (Some(sub), Some(rg)) => Owner { arm_id: Some(format!("/subscriptions/{sub}/resourceGroups/{rg}")), name: None },
        (_, rg) => Owner { name: rg.as_deref().map(object_name), arm_id: None },
    };
    let config_map = format!("{identity_object}-identity");
    let config_maps = ["clientId", "principalId", "tenantId"]
        .into_iter()
        .map(|key| (key.to_string(), ConfigMapDestination { name: config_map.clone(), key: key.to_string() }))
        .collect();
    let identity = Object::<UserAssignedIdentitySpec, NotUsed>::new(
        &identity_object,
        &api_resource("UserAssignedIdentity"),
        UserAssignedIdentitySpec {
            azure_name: spec.identity_name.clone(),
            location: spec.location.clone().unwrap_or_default(),
            owner,
            operator_spec: IdentityOperatorSpec { config_maps },
        },
    )
    .within(&namespace);
    let mut objects: Vec<Value> = vec![serde_json::to_value(identity).unwrap_or_default()];
    let mut used = Vec::new();
    if let Some(binding) = &spec.identity_binding {
        objects.push(identity_binding(spec, binding, &namespace, &identity_object));
    }
    let fics = if spec.identity_binding.is_some() { &[][..] } else { &spec.service_accounts[..] };
    for (i, sa) in fics.iter().enumerate() {
        let mut name = object_name(&sa.fic_name);
        if used.contains(&name) {
            name = format!("{name}-{i}");
        }
        used.push(name.clone());
        let owner = Owner { name: Some(identity_object.clone()), arm_id: None };
        objects.push(credential(&namespace, &name, &sa.fic_name, owner, spec.issuer.as_deref().unwrap_or_default(), &sa.subject));
    }
    let mut out = format!("# Workload ID for {}: Azure Service Operator v2 resources, generated by `kubectl wi generate`.\n", spec.name);
    match (&spec.subscription_id, &spec.resource_group) {
        (Some(_), _) => out.push_str("# The identity's owner is its resource group's ARM ID.\n"),
        _ => out.push_str(&format!(
            "# The identity's owner is the ASO ResourceGroup object {:?} in namespace {namespace}\n# (give --subscription-id to own it by ARM ID instead).\n",
            spec.resource_group.as_deref().map(object_name).unwrap_or_default()
        )),
    }
    out.push_str(&format!(
        "# ASO writes the identity's clientId, principalId and tenantId to ConfigMap {config_map}.\n"
    ));
    if spec.identity_binding.is_some() {
        out.push_str(&format!(
            "# IdentityBinding needs an ASO release serving {ASO_CONTAINER_SERVICE_GROUP}/{IDENTITY_BINDING_VERSION};\n# its owner is {}.\n",
            if spec.subscription_id.is_some() { "the cluster's ARM ID" } else { "the ASO ManagedCluster object of the cluster's name (give --subscription-id to own it by ARM ID instead)" }
        ));
    }
    out.push_str(&yaml_stream(&objects));
    out
}
