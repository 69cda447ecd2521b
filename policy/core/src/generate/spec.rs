//! The generate spec: read from a file or a face's values, merged, checked.

use std::collections::BTreeSet;

use serde_json::Value;

use super::roles::{self, RoleDefinition};
use super::{Format, GenerateError};
use crate::objects::describe;
use crate::rules::{fic_name_problem, guid_problem, issuer_problem, parse_subject};
use crate::source::{Document, SourceFile, escape_pointer_segment, parse_documents};
use crate::wellknown::{AKS_ISSUER_HOST_SUFFIX, is_dns_label, is_guid};

/// A value and where it was written: a spec or cluster file and line, or
/// nowhere (a flag or form field) when `file` is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Field {
    pub value: String,
    pub file: String,
    pub line: u32,
}

impl Field {
    fn given(value: impl Into<String>) -> Self {
        Field { value: value.into(), ..Default::default() }
    }
    fn error(&self, field: impl Into<String>, message: impl Into<String>) -> GenerateError {
        GenerateError { field: field.into(), file: self.file.clone(), line: self.line, message: message.into() }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceAccountRef {
    pub namespace: Field,
    pub name: Field,
    /// The federated credential's Azure name; derived from the namespace
    /// and name when absent.
    pub fic_name: Option<Field>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleAssignment {
    pub role: Field,
    pub scope: Field,
}

/// A spec as given: any field may be missing until every source is merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spec {
    pub name: Option<Field>,
    pub service_accounts: Vec<ServiceAccountRef>,
    pub identity_name: Option<Field>,
    pub resource_group: Option<Field>,
    pub issuer: Option<Field>,
    pub tenant_id: Option<Field>,
    pub client_id: Option<Field>,
    pub subscription_id: Option<Field>,
    pub location: Option<Field>,
    pub cluster_name: Option<Field>,
    /// The cluster's resource group when it is not the identity's.
    pub cluster_resource_group: Option<Field>,
    pub image: Option<Field>,
    pub roles: Vec<RoleAssignment>,
    /// From `az aks show`: the cluster lacks the OIDC issuer or workload
    /// identity, so the az script turns them on.
    pub enable_cluster_features: bool,
    /// AKS identity binding instead of one credential per ServiceAccount;
    /// `None` when no source says.
    pub identity_binding: Option<bool>,
    /// The binding's Azure name; derived from the identity name when absent.
    pub identity_binding_name: Option<Field>,
}

/// The string fields of a spec, by their camelCase key.
const SCALARS: [&str; 12] = [
    "name",
    "identityName",
    "resourceGroup",
    "issuer",
    "tenantId",
    "clientId",
    "subscriptionId",
    "location",
    "clusterName",
    "clusterResourceGroup",
    "image",
    "identityBindingName",
];

impl Spec {
    fn scalar_mut(&mut self, key: &str) -> &mut Option<Field> {
        match key {
            "name" => &mut self.name,
            "identityName" => &mut self.identity_name,
            "resourceGroup" => &mut self.resource_group,
            "issuer" => &mut self.issuer,
            "tenantId" => &mut self.tenant_id,
            "clientId" => &mut self.client_id,
            "subscriptionId" => &mut self.subscription_id,
            "location" => &mut self.location,
            "clusterName" => &mut self.cluster_name,
            "clusterResourceGroup" => &mut self.cluster_resource_group,
            "identityBindingName" => &mut self.identity_binding_name,
            _ => &mut self.image,
        }
    }

    /// A spec file (`--spec`): one YAML or JSON object.
    pub fn from_file(file: &SourceFile) -> (Spec, Vec<GenerateError>) {
        let input = |e: crate::InputError| GenerateError { field: "spec".into(), file: e.file, line: e.line, message: e.message };
        let mut docs = match parse_documents(file) {
            Ok(docs) => docs,
            Err(e) => return (Spec::default(), vec![input(e)]),
        };
        if docs.len() != 1 {
            return (Spec::default(), vec![GenerateError {
                field: "spec".into(),
                file: file.name.clone(),
                line: docs.get(1).map_or(0, |d| d.line),
                message: format!("holds {} documents; a spec is one YAML or JSON object", docs.len()),
            }]);
        }
        let doc = docs.remove(0);
        Spec::from_value(&doc.value, Some((&file.name, &doc)))
    }

    /// A spec object; `source` gives the lines of a value read from a file.
    /// What can be read is returned with the errors about the rest, so a
    /// user sees every problem at once.
    pub fn from_value(value: &Value, source: Option<(&str, &Document)>) -> (Spec, Vec<GenerateError>) {
        let field_at = |pointer: &str, value: String| match source {
            Some((file, doc)) => Field { value, file: file.to_string(), line: doc.line_of(pointer) },
            None => Field::given(value),
        };
        let error_at = |pointer: &str, field: String, message: String| {
            let at = field_at(pointer, String::new());
            at.error(field, message)
        };
        let mut spec = Spec::default();
        let mut errors = Vec::new();
        let Some(map) = value.as_object() else {
            if value.is_null() {
                return (spec, errors);
            }
            return (spec, vec![error_at("", "spec".into(), format!("is {}, not an object of spec fields", describe(value)))]);
        };
        let string_at = |pointer: &str, field: &str, v: &Value, errors: &mut Vec<GenerateError>| -> Option<Field> {
            match v {
                Value::Null => None,
                Value::String(s) => Some(field_at(pointer, s.clone())),
                other => {
                    errors.push(error_at(pointer, field.to_string(), format!("is {}, not a string", describe(other))));
                    None
                }
            }
        };
        for (key, v) in map {
            let pointer = format!("/{}", escape_pointer_segment(key));
            if SCALARS.contains(&key.as_str()) {
                *spec.scalar_mut(key) = string_at(&pointer, key, v, &mut errors);
                continue;
            }
            match key.as_str() {
                "identityBinding" => match v {
                    Value::Null => {}
                    Value::Bool(b) => spec.identity_binding = Some(*b),
                    other => errors.push(error_at(&pointer, key.clone(), format!("is {}, not true or false", describe(other)))),
                },
                "serviceAccounts" | "roles" => {
                    let items = match v {
                        Value::Null => continue,
                        Value::Array(items) => items,
                        other => {
                            errors.push(error_at(&pointer, key.clone(), format!("is {}, not a list", describe(other))));
                            continue;
                        }
                    };
                    let (keys, required): (&[&str], &[&str]) = if key == "roles" {
                        (&["role", "scope"], &["role", "scope"])
                    } else {
                        (&["namespace", "name", "ficName"], &["namespace", "name"])
                    };
                    for (i, item) in items.iter().enumerate() {
                        let item_pointer = format!("{pointer}/{i}");
                        let item_field = format!("{key}[{i}]");
                        let Some(item_map) = item.as_object() else {
                            errors.push(error_at(&item_pointer, item_field, format!("is {}, not an object with {}", describe(item), required.join(" and "))));
                            continue;
                        };
                        let mut got: [Option<Field>; 3] = Default::default();
                        for (k, iv) in item_map {
                            let p = format!("{item_pointer}/{}", escape_pointer_segment(k));
                            let f = format!("{item_field}.{k}");
                            match keys.iter().position(|known| known == k) {
                                Some(slot) => got[slot] = string_at(&p, &f, iv, &mut errors),
                                None => errors.push(error_at(&p, f, format!("is not a field here; known: {}", keys.join(", ")))),
                            }
                        }
                        for (slot, name) in required.iter().enumerate() {
                            if got[slot].is_none() && item_map.get(*name).is_none_or(Value::is_null) {
                                errors.push(error_at(&item_pointer, format!("{item_field}.{name}"), "is missing".into()));
                            }
                        }
                        let [a, b, c] = got;
                        if let (Some(a), Some(b)) = (a, b) {
                            if key == "roles" {
                                spec.roles.push(RoleAssignment { role: a, scope: b });
                            } else {
                                spec.service_accounts.push(ServiceAccountRef { namespace: a, name: b, fic_name: c });
                            }
                        }
                    }
                }
                _ => errors.push(error_at(
                    &pointer,
                    key.clone(),
                    format!("is not a spec field; known: {}, identityBinding, serviceAccounts, roles", SCALARS.join(", ")),
                )),
            }
        }
        (spec, errors)
    }

    /// Takes from the cluster what the spec does not say.
    pub fn fill_from_cluster(&mut self, cluster: ClusterState) {
        let fill = |slot: &mut Option<Field>, value: Option<Field>| {
            if slot.is_none() {
                *slot = value;
            }
        };
        fill(&mut self.issuer, cluster.issuer);
        fill(&mut self.location, cluster.location);
        fill(&mut self.cluster_name, cluster.name);
        fill(&mut self.cluster_resource_group, cluster.resource_group.clone());
        fill(&mut self.resource_group, cluster.resource_group);
        fill(&mut self.subscription_id, cluster.subscription_id);
        self.enable_cluster_features |= !(cluster.oidc_issuer_enabled && cluster.workload_identity_enabled);
    }

    /// Every field `other` has replaces this spec's; a list replaces the
    /// whole list.
    pub fn override_with(&mut self, other: Spec) {
        let mut other = other;
        for key in SCALARS {
            if let Some(v) = other.scalar_mut(key).take() {
                *self.scalar_mut(key) = Some(v);
            }
        }
        if !other.service_accounts.is_empty() {
            self.service_accounts = other.service_accounts;
        }
        if !other.roles.is_empty() {
            self.roles = other.roles;
        }
        self.enable_cluster_features |= other.enable_cluster_features;
        if other.identity_binding.is_some() {
            self.identity_binding = other.identity_binding;
        }
    }

    /// Checks every value, and that each format in `formats` has what it
    /// needs. All problems are returned together.
    pub fn check(self, formats: &[Format]) -> Result<Checked, Vec<GenerateError>> {
        let mut errors = Vec::new();
        let mut notes = Vec::new();
        let wants = |f: Format| formats.contains(&f);
        // AKS identity binding: AKS writes the identity's one credential,
        // and RBAC says which ServiceAccounts may use it.
        let binding = self.identity_binding == Some(true);
        let needs = |field: &str, slot: &Option<Field>, needed_by: &[Format], why: &str, errors: &mut Vec<GenerateError>| {
            let by: Vec<&str> = needed_by.iter().filter(|f| formats.contains(f)).map(|f| f.name()).collect();
            if slot.is_none() && !by.is_empty() {
                errors.push(GenerateError {
                    field: field.into(),
                    file: String::new(),
                    line: 0,
                    message: format!("is required for format {} ({why})", by.join(", ")),
                });
            }
        };

        let name = match &self.name {
            None => {
                errors.push(GenerateError { field: "name".into(), file: String::new(), line: 0, message: "is required (the application's name)".into() });
                String::new()
            }
            Some(f) if !is_dns_label(&f.value) => {
                errors.push(f.error("name", format!("{:?} is not a DNS label (lowercase letters, digits, `-`, at most 63)", f.value)));
                String::new()
            }
            Some(f) => f.value.clone(),
        };

        // ServiceAccounts and their credentials.
        if self.service_accounts.is_empty() {
            errors.push(GenerateError {
                field: "serviceAccounts".into(),
                file: String::new(),
                line: 0,
                message: "names no ServiceAccount: give at least one namespace and ServiceAccount pair".into(),
            });
        }
        let mut service_accounts = Vec::new();
        let mut seen_pairs = BTreeSet::new();
        let mut seen_fic_names = BTreeSet::new();
        for (i, sa) in self.service_accounts.iter().enumerate() {
            let field = |k: &str| format!("serviceAccounts[{i}].{k}");
            let subject = format!("system:serviceaccount:{}:{}", sa.namespace.value, sa.name.value);
            if let Err(why) = parse_subject(&subject) {
                let at = if why.starts_with("namespace") || !is_dns_label(&sa.namespace.value) { (&sa.namespace, "namespace") } else { (&sa.name, "name") };
                errors.push(at.0.error(field(at.1), format!("[WI020] subject {subject:?} {why}")));
                continue;
            }
            if sa.name.value == crate::wellknown::DEFAULT_SERVICE_ACCOUNT {
                errors.push(sa.name.error(
                    field("name"),
                    "[WI012] the `default` ServiceAccount is shared by every pod of its namespace that names none; give the workload a ServiceAccount of its own".to_string(),
                ));
                continue;
            }
            if !seen_pairs.insert((sa.namespace.value.clone(), sa.name.value.clone())) {
                errors.push(sa.name.error(field("name"), format!("ServiceAccount {}/{} is named twice", sa.namespace.value, sa.name.value)));
                continue;
            }
            if binding {
                service_accounts.push(CheckedServiceAccount { namespace: sa.namespace.value.clone(), name: sa.name.value.clone(), fic_name: String::new(), subject });
                continue;
            }
            let fic_name = match &sa.fic_name {
                Some(f) => {
                    if let Some(why) = fic_name_problem(&f.value) {
                        errors.push(f.error(field("ficName"), format!("[WI023] federated credential name {:?} {why}", f.value)));
                        continue;
                    }
                    f.value.clone()
                }
                None => default_fic_name(&sa.namespace.value, &sa.name.value),
            };
            // Two derived names can meet (`a-b`/`c` and `a`/`b-c`): the
            // later one takes a hash of its own pair.
            let fic_name = if sa.fic_name.is_none() && seen_fic_names.contains(&fic_name.to_ascii_lowercase()) {
                hashed_fic_name(&fic_name, &sa.namespace.value, &sa.name.value)
            } else {
                fic_name
            };
            if !seen_fic_names.insert(fic_name.to_ascii_lowercase()) {
                let at = sa.fic_name.as_ref().unwrap_or(&sa.name);
                errors.push(at.error(field("ficName"), format!("[WI025] federated credential name {fic_name:?} is used twice on one identity")));
                continue;
            }
            service_accounts.push(CheckedServiceAccount { namespace: sa.namespace.value.clone(), name: sa.name.value.clone(), fic_name, subject });
        }
        if binding && self.service_accounts.iter().any(|sa| sa.fic_name.is_some()) {
            notes.push(format!("ficName is not used with identityBinding: AKS creates the identity's one credential, {}", crate::wellknown::IDENTITY_BINDING_FIC_NAME));
        }
        if !binding && service_accounts.len() > crate::wellknown::MAX_FICS_PER_IDENTITY {
            errors.push(GenerateError {
                field: "serviceAccounts".into(),
                file: String::new(),
                line: 0,
                message: format!(
                    "[WI024] {} ServiceAccounts need {} federated credentials on one identity; Azure allows {}",
                    service_accounts.len(),
                    service_accounts.len(),
                    crate::wellknown::MAX_FICS_PER_IDENTITY
                ),
            });
        }

        // Azure names.
        let azure = [Format::Aso, Format::Az, Format::Bicep, Format::Arm, Format::Terraform];
        let mut binding_name = None;
        if binding {
            needs("clusterName", &self.cluster_name, &azure, "an identity binding belongs to the cluster", &mut errors);
            for format in [Format::Bicep, Format::Arm] {
                if let (true, Some(crg), Some(rg)) = (wants(format), &self.cluster_resource_group, &self.resource_group)
                    && !crg.value.eq_ignore_ascii_case(&rg.value)
                {
                    errors.push(crg.error(
                        "clusterResourceGroup",
                        format!(
                            "{:?} is not resource group {:?}, which format {} deploys the identity and the binding to; deploy beside the cluster or use format az or terraform",
                            crg.value,
                            rg.value,
                            format.name()
                        ),
                    ));
                }
            }
            match &self.identity_binding_name {
                Some(f) => match identity_binding_name_problem(&f.value) {
                    Some(why) => errors.push(f.error("identityBindingName", format!("{:?} {why}", f.value))),
                    None => binding_name = Some(f.value.clone()),
                },
                None => {
                binding_name = self.identity_name.as_ref().map(|f| default_binding_name(&f.value));
                if let (Some(name), Some(identity)) = (&binding_name, &self.identity_name)
                    && *name != identity.value
                {
                    notes.push(format!(
                        "identity binding name {name:?} derived from identity {:?} (AKS allows lowercase letters and digits only); --identity-binding-name chooses another",
                        identity.value
                    ));
                }
            }
            }
            // The API's pattern for managedIdentity.resourceId has only
            // letters, digits and `-` in the group and identity names.
            let plain = |f: &Option<Field>| f.as_ref().is_none_or(|f| f.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
            if !plain(&self.identity_name) || !plain(&self.resource_group) {
                notes.push("the identity binding API's pattern for the identity's resource ID allows only letters, digits and `-` in the resource group and identity names; Azure may refuse this one".to_string());
            }
        } else if self.identity_binding_name.is_some() {
            notes.push("identityBindingName is not used without identityBinding".to_string());
        }
        needs("identityName", &self.identity_name, &azure, "the managed identity's name", &mut errors);
        if let Some(f) = &self.identity_name
            && let Some(why) = identity_name_problem(&f.value)
        {
            errors.push(f.error("identityName", format!("{:?} {why}", f.value)));
        }
        needs("resourceGroup", &self.resource_group, &[Format::Aso, Format::Az, Format::Terraform], "the identity's resource group", &mut errors);
        for (key, slot) in [("resourceGroup", &self.resource_group), ("clusterResourceGroup", &self.cluster_resource_group)] {
            if let Some(f) = slot
                && let Some(why) = resource_group_problem(&f.value)
            {
                errors.push(f.error(key, format!("{:?} {why}", f.value)));
            }
        }
        if let Some(f) = &self.cluster_name
            && (!(1..=63).contains(&f.value.len()) || !f.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            errors.push(f.error("clusterName", format!("{:?} is not an AKS cluster name (1 to 63 letters, digits, `-`, `_`)", f.value)));
        }

        // The issuer: an https URL as lint wants it, the AKS `/` restored.
        let mut issuer = None;
        if let Some(f) = &self.issuer {
            match issuer_problem(&f.value) {
                Err(why) => errors.push(f.error("issuer", format!("[WI021] issuer {:?} {why}", f.value))),
                Ok(_) if let Some(c) = f.value.chars().find(|c| !is_url_char(*c)) => {
                    errors.push(f.error("issuer", format!("[WI021] issuer {:?} contains {c:?}, which a URL holds only %-escaped", f.value)))
                }
                Ok(_) if !crate::options::is_https_url(&f.value) => {
                    errors.push(f.error("issuer", format!("[WI021] issuer {:?} is not an https:// URL with a host name", f.value)))
                }
                Ok(true) => {
                    let fixed = format!("{}/", f.value);
                    notes.push(format!(
                        "issuer {:?} lacked the trailing `/` every AKS issuer has (WI021); generated with {fixed:?}",
                        f.value
                    ));
                    issuer = Some(fixed);
                }
                Ok(false) => issuer = Some(f.value.clone()),
            }
        }
        let issuer_formats = [Format::Aso, Format::Bicep, Format::Arm, Format::Terraform];
        // With a binding, AKS sets its credential's issuer: none needed.
        if !binding {
            needs("issuer", &self.issuer, &issuer_formats, "the federated credentials' issuer", &mut errors);
        }
        if !binding && self.issuer.is_none() && self.cluster_name.is_none() && wants(Format::Az) {
            errors.push(GenerateError {
                field: "issuer".into(),
                file: String::new(),
                line: 0,
                message: "is required for format az unless the cluster name is given (the script then reads it from the cluster)".into(),
            });
        }

        // GUIDs, with WI005's words.
        for (key, slot) in [("clientId", &self.client_id), ("tenantId", &self.tenant_id)] {
            if let Some(f) = slot
                && let Some(why) = guid_problem(&f.value)
            {
                errors.push(f.error(key, format!("[WI005] value {:?} {why}", f.value)));
            }
        }
        if let Some(f) = &self.subscription_id
            && !is_guid(&f.value)
        {
            errors.push(f.error("subscriptionId", format!("{:?} is not a GUID", f.value)));
        }
        needs("clientId", &self.client_id, &[Format::Yaml], "the ServiceAccount's azure.workload.identity/client-id annotation", &mut errors);

        // Location: given, or the region of an AKS issuer.
        let mut location = self.location.as_ref().map(|f| f.value.clone());
        if let Some(f) = &self.location
            && (!(1..=64).contains(&f.value.len()) || f.value.trim() != f.value || !f.value.chars().all(|c| c.is_ascii_alphanumeric() || c == ' '))
        {
            errors.push(f.error("location", format!("{:?} is not an Azure region name such as \"westeurope\"", f.value)));
        }
        if location.is_none()
            && let Some(region) = issuer.as_deref().and_then(aks_issuer_region)
        {
            location = Some(region.to_string());
        }
        if location.is_none() {
            let by: Vec<&str> = [Format::Aso, Format::Terraform].into_iter().filter(|f| wants(*f)).map(Format::name).collect();
            if !by.is_empty() {
                errors.push(GenerateError {
                    field: "location".into(),
                    file: String::new(),
                    line: 0,
                    message: format!("is required for format {} (the identity's region; an AKS issuer URL also gives it)", by.join(", ")),
                });
            }
        }
        if let Some(f) = &self.image
            && !is_image_reference(&f.value)
        {
            errors.push(f.error("image", format!("{:?} is not a container image reference", f.value)));
        }

        // Role assignments.
        let mut roles_out = Vec::new();
        for (i, r) in self.roles.iter().enumerate() {
            let role = &r.role.value;
            if role.trim().is_empty() || role.len() > 512 || role.chars().any(invisible) || role.trim() != role || role.starts_with('-') {
                errors.push(r.role.error(format!("roles[{i}].role"), format!("{role:?} is not a role name or ID")));
                continue;
            }
            let scope = match roles::parse_scope(&r.scope.value) {
                Ok(scope) => scope,
                Err(why) => {
                    errors.push(r.scope.error(format!("roles[{i}].scope"), format!("{:?} {why}", r.scope.value)));
                    continue;
                }
            };
            let definition = roles::definition(role);
            for format in [Format::Bicep, Format::Arm] {
                if !wants(format) {
                    continue;
                }
                if definition.is_none() {
                    errors.push(r.role.error(
                        format!("roles[{i}].role"),
                        format!(
                            "{role:?} is not a built-in role this tool knows; format {} needs the role definition's GUID (`az role definition list --name {} --query [0].name -o tsv`)",
                            format.name(),
                            super::text::bash(role)
                        ),
                    ));
                }
                if scope.extension {
                    errors.push(r.scope.error(
                        format!("roles[{i}].scope"),
                        format!("{:?} is a scope below another resource's `providers/`; format {} cannot name it, use format az or terraform", r.scope.value, format.name()),
                    ));
                } else if let Some(rg) = &self.resource_group
                    && !scope.in_resource_group(&rg.value, self.subscription_id.as_ref().map(|s| s.value.as_str()))
                {
                    errors.push(r.scope.error(
                        format!("roles[{i}].scope"),
                        format!(
                            "{:?} is outside resource group {:?}, which format {} deploys to; assign this role with format az or terraform",
                            r.scope.value,
                            rg.value,
                            format.name()
                        ),
                    ));
                } else if self.resource_group.is_none() && scope.resource_group.is_none() {
                    errors.push(r.scope.error(
                        format!("roles[{i}].scope"),
                        format!("{:?} is not inside a resource group, which format {} needs", r.scope.value, format.name()),
                    ));
                }
            }
            roles_out.push(CheckedRole { role: role.clone(), definition, scope });
        }
        // One grant written twice (a name and its GUID, another letter
        // case) would be two assignments of one name (Bicep, ARM) or a 409.
        let mut seen_grants = BTreeSet::new();
        roles_out.retain(|r| {
            let role = r.definition.as_ref().map_or_else(|| r.role.to_lowercase(), |d| d.guid.clone());
            seen_grants.insert((role, r.scope.id.to_lowercase()))
        });

        if wants(Format::Aso) && !roles_out.is_empty() {
            notes.push("format aso writes no role assignments; grant the roles with format az, bicep, arm or terraform".to_string());
        }
        if self.enable_cluster_features {
            notes.push(if self.cluster_name.is_some() && wants(Format::Az) {
                "the cluster file says the OIDC issuer or workload identity is not enabled; the az script enables both (`az aks update --enable-oidc-issuer --enable-workload-identity`)".to_string()
            } else {
                "the cluster file says the OIDC issuer or workload identity is not enabled; enable both with `az aks update --enable-oidc-issuer --enable-workload-identity` (format az does it for you)".to_string()
            });
        }
        if !errors.is_empty() {
            errors.dedup();
            return Err(errors);
        }
        let value = |slot: &Option<Field>| slot.as_ref().map(|f| f.value.clone());
        Ok(Checked {
            name,
            service_accounts,
            identity_name: value(&self.identity_name).unwrap_or_default(),
            resource_group: value(&self.resource_group),
            cluster_resource_group: value(&self.cluster_resource_group),
            issuer,
            tenant_id: value(&self.tenant_id),
            client_id: value(&self.client_id),
            subscription_id: value(&self.subscription_id),
            location,
            cluster_name: value(&self.cluster_name),
            image: value(&self.image),
            identity_binding: binding_name,
            roles: roles_out,
            enable_cluster_features: self.enable_cluster_features,
            notes,
        })
    }
}

/// Control and invisible formatting characters (bidirectional overrides,
/// zero-width spaces): never part of a name, and they hide what a script does.
fn invisible(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// What a URL may hold unescaped (RFC 3986: unreserved, sub-delims, `:`,
/// `@`, `/`, `%`).
fn is_url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/%".contains(c)
}

/// A container image reference as `docker pull` takes it:
/// `[registry[:port]/]path[:tag][@digest]` in letters, digits, `.`, `_`,
/// `-`, `/`, `:`, `@`, starting with a letter or digit.
fn is_image_reference(image: &str) -> bool {
    (1..=1024).contains(&image.len())
        && image.starts_with(|c: char| c.is_ascii_alphanumeric())
        && image.chars().all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c))
        && !image.ends_with([':', '/', '@'])
}

/// Azure's rule for user-assigned identity names: 3 to 128 letters,
/// digits, `-` and `_`, starting with a letter or digit.
fn identity_name_problem(name: &str) -> Option<String> {
    if !(3..=128).contains(&name.len()) {
        return Some(format!("is {} characters long; an identity name has 3 to 128", name.chars().count()));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Some("does not start with a letter or digit".into());
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        .map(|c| format!("contains {c:?}; an identity name has letters, digits, `-` and `_`"))
}

/// Azure's rule for resource group names: 1 to 90 letters, digits, `-`,
/// `_`, `.`, `(`, `)`, not ending in `.`.
fn resource_group_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.chars().count() > 90 {
        return Some("is not 1 to 90 characters long".into());
    }
    if name.ends_with('.') {
        return Some("ends with `.`".into());
    }
    name.chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')')))
        .map(|c| format!("contains {c:?}; a resource group name has letters, digits, `-`, `_`, `.`, `(`, `)`"))
}

/// AKS's rule for identity binding names (IdentityBinding.tsp: pattern
/// `^[a-z][a-z0-9]{0,63}$`, at most 63), so no `-`, unlike identity names;
/// azapi and ASO check it before Azure does.
fn identity_binding_name_problem(name: &str) -> Option<String> {
    if !(1..=63).contains(&name.len()) {
        return Some(format!("is {} characters long; an identity binding name has 1 to 63", name.chars().count()));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Some("does not start with a lowercase ASCII letter (a-z)".into());
    }
    name.chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .map(|c| format!("contains {c:?}; an identity binding name has lowercase letters and digits only"))
}

/// An identity binding name from the identity's name: its letters and
/// digits, lowercase (`id-orders` -> `idorders`). When more than `-` and
/// `_` would be lost (leading digits, a name over 63), a hash of the whole
/// name keeps two identities' bindings apart (`ib` + prefix + 8 hex).
fn default_binding_name(identity: &str) -> String {
    let kept: String = identity.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    let name = if kept.starts_with(|c: char| c.is_ascii_lowercase()) && kept.len() <= 63 {
        kept
    } else {
        let hash = super::text::short_hash(identity);
        format!("ib{}{hash}", &kept[..kept.len().min(53)])
    };
    debug_assert!(identity_binding_name_problem(&name).is_none(), "{name}");
    name
}

/// `westeurope` from `https://westeurope.oic.prod-aks.azure.com/...`.
pub fn aks_issuer_region(issuer: &str) -> Option<&str> {
    let host = issuer.strip_prefix("https://")?.split('/').next()?;
    let region = host.get(..host.len().checked_sub(AKS_ISSUER_HOST_SUFFIX.len())?)?;
    let aks = host[region.len()..].eq_ignore_ascii_case(AKS_ISSUER_HOST_SUFFIX);
    (aks && !region.is_empty() && region.chars().all(|c| c.is_ascii_alphanumeric())).then_some(region)
}

/// `<namespace>-<name>` in WI023's alphabet (a ServiceAccount name's dots
/// become `-`), shortened with a hash of the full pair when over 120.
pub(crate) fn default_fic_name(namespace: &str, name: &str) -> String {
    let full: String = format!("{namespace}-{name}").chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    if full.len() <= 120 {
        return full;
    }
    hashed_fic_name(&full, namespace, name)
}

/// `name` cut to leave room for `-` and 8 hex digits of the pair's hash.
pub(crate) fn hashed_fic_name(name: &str, namespace: &str, sa: &str) -> String {
    let hash = super::text::short_hash(&format!("{namespace}:{sa}"));
    format!("{}-{hash}", name[..name.len().min(111)].trim_end_matches('-'))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedServiceAccount {
    pub namespace: String,
    pub name: String,
    pub fic_name: String,
    pub subject: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRole {
    /// As given: a role name, a GUID or a role definition ID.
    pub role: String,
    /// The role definition's GUID, when known.
    pub definition: Option<RoleDefinition>,
    pub scope: roles::Scope,
}

/// A spec with every value checked for the formats it was checked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub name: String,
    pub service_accounts: Vec<CheckedServiceAccount>,
    pub identity_name: String,
    pub resource_group: Option<String>,
    pub cluster_resource_group: Option<String>,
    /// With the trailing `/` an AKS issuer needs.
    pub issuer: Option<String>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub subscription_id: Option<String>,
    pub location: Option<String>,
    pub cluster_name: Option<String>,
    pub image: Option<String>,
    pub roles: Vec<CheckedRole>,
    pub enable_cluster_features: bool,
    /// The AKS identity binding's name, in binding mode; then the formats
    /// write the binding and RBAC instead of federated credentials.
    pub identity_binding: Option<String>,
    pub notes: Vec<String>,
}

impl Checked {
    /// The namespaces the ServiceAccounts live in, in first-use order.
    pub fn namespaces(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for sa in &self.service_accounts {
            if !out.contains(&sa.namespace.as_str()) {
                out.push(&sa.namespace);
            }
        }
        out
    }
}

/// What `az aks show -o json` says about a cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterState {
    pub name: Option<Field>,
    /// From the cluster's resource ID (`/subscriptions/<id>/...`).
    pub subscription_id: Option<Field>,
    pub resource_group: Option<Field>,
    pub location: Option<Field>,
    pub issuer: Option<Field>,
    pub oidc_issuer_enabled: bool,
    pub workload_identity_enabled: bool,
}

impl ClusterState {
    /// Reads `az aks show -o json` output.
    pub fn from_file(file: &SourceFile) -> Result<ClusterState, GenerateError> {
        let fail = |line: u32, message: String| GenerateError { field: "fromCluster".into(), file: file.name.clone(), line, message };
        let docs = parse_documents(file).map_err(|e| fail(e.line, e.message))?;
        let [doc] = &docs[..] else {
            return Err(fail(0, format!("holds {} documents; expected the one object `az aks show -o json` prints", docs.len())));
        };
        Self::from_document(&file.name, doc).ok_or_else(|| {
            fail(
                doc.line,
                "is not `az aks show -o json` output (it has neither `type: Microsoft.ContainerService/ManagedClusters` nor both `oidcIssuerProfile` and `agentPoolProfiles`)".into(),
            )
        })
    }

    /// `None` when the document is not an AKS cluster as az prints it.
    pub fn from_document(file: &str, doc: &Document) -> Option<ClusterState> {
        let value = &doc.value;
        let is_cluster = value.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.ContainerService/ManagedClusters"))
            || (value.get("oidcIssuerProfile").is_some() && value.get("agentPoolProfiles").is_some());
        if !is_cluster {
            return None;
        }
        let field = |pointer: &str| {
            value.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty()).map(|s| Field {
                value: s.to_string(),
                file: file.to_string(),
                line: doc.line_of(pointer),
            })
        };
        let settings = crate::objects::Cluster::read(value);
        // `/subscriptions/<sub>/resourcegroups/<rg>/providers/.../managedClusters/<name>`
        let id = field("/id");
        let id_part = |after: &str| {
            id.as_ref().and_then(|f| {
                let parts: Vec<&str> = f.value.split('/').collect();
                let i = parts.iter().position(|p| p.eq_ignore_ascii_case(after))?;
                parts.get(i + 1).filter(|v| !v.is_empty()).map(|v| Field { value: v.to_string(), ..f.clone() })
            })
        };
        Some(ClusterState {
            name: field("/name").or_else(|| id_part("managedClusters")),
            subscription_id: id_part("subscriptions").filter(|f| is_guid(&f.value)),
            resource_group: field("/resourceGroup"),
            location: field("/location"),
            issuer: settings.issuer.is_some().then(|| field("/oidcIssuerProfile/issuerUrl")).flatten(),
            oidc_issuer_enabled: settings.oidc_issuer_enabled,
            workload_identity_enabled: settings.workload_identity_enabled,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_fic_names_obey_wi023() {
        assert_eq!(default_fic_name("app", "backend"), "app-backend");
        assert_eq!(default_fic_name("app", "sa.v2"), "app-sa-v2");
        let long = default_fic_name(&"n".repeat(63), &format!("{}.{}", "a".repeat(63), "b".repeat(63)));
        assert!(fic_name_problem(&long).is_none(), "{long}");
        assert_ne!(long, default_fic_name(&"n".repeat(63), &format!("{}.{}", "a".repeat(63), "c".repeat(63))));
    }

    #[test]
    fn regions_of_aks_issuers() {
        assert_eq!(aks_issuer_region("https://westeurope.oic.prod-aks.azure.com/t/i/"), Some("westeurope"));
        assert_eq!(aks_issuer_region("https://example.com/"), None);
    }
}
