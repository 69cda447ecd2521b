//! `audit`: the inventory views of the seeds' audit steps over a cluster's
//! objects (a `kubectl get -o json` dump), next to every lint finding:
//! which ServiceAccounts carry Workload ID annotations and how many pods use
//! them, which federated credentials belong to this cluster's issuer, and
//! what is left of aad-pod-identity.

use serde_json::Value;

use crate::consumers::ProviderClass;
use crate::objects::{Inventory, Object, Role, object_annotation, object_label};
use crate::rules::LintOptions;
use crate::source::{InputError, SourceFile};
use crate::wellknown::*;
use crate::{Finding, Location};

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceAccountRow {
    pub at: Location,
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    /// Opted-in pods and pod templates that run as it.
    pub workloads: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CredentialRow {
    pub at: Location,
    /// The identity's name as the credential names it (ASO owner or the
    /// identity in its Azure resource ID).
    pub identity: String,
    pub name: String,
    pub issuer: String,
    pub subject: String,
    /// Its issuer is the cluster's.
    pub this_cluster: bool,
    /// Its subject names a ServiceAccount among the inputs.
    pub service_account_found: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Leftover {
    pub at: Location,
    pub what: String,
}

#[derive(Debug, Clone)]
pub struct Audit {
    pub issuer: Option<String>,
    pub objects: u32,
    pub service_accounts: Vec<ServiceAccountRow>,
    pub credentials: Vec<CredentialRow>,
    pub leftovers: Vec<Leftover>,
    pub findings: Vec<Finding>,
}

/// Images of aad-pod-identity's own components (NMI, MIC).
const AAD_POD_IDENTITY_IMAGES: [&str; 2] = ["aad-pod-identity/nmi", "aad-pod-identity/mic"];

pub fn audit(files: &[SourceFile], options: &LintOptions) -> Result<Audit, Vec<InputError>> {
    let mut objects = crate::objects::load(files, &options.default_namespace)?;
    // A pod of a ReplicaSet of a Deployment is written once, in the
    // Deployment's template: objects whose controlling workload is among
    // the inputs are judged there, not once per replica.
    let written_elsewhere: Vec<bool> = crate::objects::controllers(&objects).iter().map(|c| c.is_some_and(|c| c.in_inputs)).collect();
    let mut elsewhere = written_elsewhere.into_iter();
    objects.retain(|_| !elsewhere.next().unwrap_or(false));
    let findings = crate::lint_objects(&objects, options);
    let inventory = Inventory::new(&objects);
    let issuer = options.issuer.clone().or_else(|| match inventory.cluster_issuers()[..] {
        [one] => Some(one.to_string()),
        _ => None,
    });
    let at = |o: &Object| Location::of(o, "");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);

    let mut service_accounts: Vec<ServiceAccountRow> = inventory
        .service_accounts()
        .filter_map(|(_, sa)| {
            let client_id = text(object_annotation(sa, CLIENT_ID_ANNOTATION));
            let tenant_id = text(object_annotation(sa, TENANT_ID_ANNOTATION));
            let labelled = object_label(sa, USE_LABEL).is_some();
            (client_id.is_some() || tenant_id.is_some() || labelled).then(|| ServiceAccountRow {
                at: at(sa),
                client_id,
                tenant_id,
                workloads: inventory.pods().filter(|p| p.opted_in() && p.object.namespace == sa.namespace && p.service_account() == sa.name).count() as u32,
            })
        })
        .collect();
    service_accounts.sort_by(|a, b| (&a.at.namespace, &a.at.name, &a.at.file, a.at.line).cmp(&(&b.at.namespace, &b.at.name, &b.at.file, b.at.line)));

    let credentials = inventory
        .federated_credentials()
        .map(|(_, object, fic)| {
            let subject = fic.subject.clone().unwrap_or_default();
            let service_account_found = subject
                .strip_prefix("system:serviceaccount:")
                .and_then(|rest| rest.split_once(':'))
                .is_some_and(|(ns, name)| inventory.service_account(ns, name).is_some());
            let fic_issuer = fic.issuer.clone().unwrap_or_default();
            CredentialRow {
                at: at(object),
                identity: fic.identity.as_deref().map(|key| key.rsplit('/').next().unwrap_or(key).to_string()).unwrap_or_default(),
                name: fic.azure_name.clone(),
                this_cluster: issuer.as_deref() == Some(fic_issuer.as_str()),
                issuer: fic_issuer,
                subject,
                service_account_found,
            }
        })
        .collect();

    let mut leftovers = Vec::new();
    for object in &objects {
        if object.role == Role::AadPodIdentity {
            leftovers.push(Leftover { at: at(object), what: format!("{} object", object.kind) });
        }
        if let Some(class) = ProviderClass::of(object) {
            if class.flag("usePodIdentity") {
                leftovers.push(Leftover { at: at(object), what: "SecretProviderClass with usePodIdentity".into() });
            }
        }
    }
    for pod in inventory.pods() {
        if let Some(selector) = pod.label(AAD_POD_IDENTITY_LABEL) {
            let selector = selector.as_str().map(str::to_string).unwrap_or_else(|| selector.to_string());
            leftovers.push(Leftover { at: at(pod.object), what: format!("aadpodidbinding: {selector}") });
        }
        let component = pod.containers().find_map(|(_, c)| {
            let image = c.get("image").and_then(Value::as_str)?;
            AAD_POD_IDENTITY_IMAGES.iter().find(|i| image.contains(*i)).map(|_| image)
        });
        if let Some(image) = component {
            leftovers.push(Leftover { at: at(pod.object), what: format!("aad-pod-identity component ({image})") });
        }
    }
    Ok(Audit { issuer, objects: objects.len() as u32, service_accounts, credentials, leftovers, findings })
}
