//! Role assignments: built-in role names to their definition GUIDs (Bicep
//! and ARM name roles by GUID; az and azurerm accept names), and the scope
//! an assignment applies to.

use crate::wellknown::is_guid;

/// Built-in Azure roles a Workload ID setup commonly grants, by the name
/// `az role definition list` prints. Source: the ID column of Microsoft's
/// "Azure built-in roles" reference (MicrosoftDocs/azure-docs,
/// articles/role-based-access-control/built-in-roles.md, 2026-04-09); the
/// GUIDs are the same in every tenant.
pub const BUILT_IN_ROLES: &[(&str, &str)] = &[
    ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
    ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
    ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
    ("AcrPull", "7f951dda-4ed3-4680-a7ca-43fe172d538d"),
    ("AcrPush", "8311e382-0749-4cb8-b61a-304f252e45ec"),
    ("Key Vault Secrets User", "4633458b-17de-408a-b874-0445c86b69e6"),
    ("Key Vault Secrets Officer", "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"),
    ("Key Vault Crypto User", "12338af0-0e69-4776-bea7-57ae8d297424"),
    ("Key Vault Certificate User", "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba"),
    ("Key Vault Reader", "21090545-7ca7-4776-b22c-e363652d74d2"),
    ("Storage Blob Data Reader", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"),
    ("Storage Blob Data Contributor", "ba92f5b4-2d11-453d-a403-e96b0029c9fe"),
    ("Storage Blob Data Owner", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"),
    ("Storage Queue Data Contributor", "974c5e8b-45b9-4653-ba55-5f855dd0fb88"),
    ("Storage Queue Data Reader", "19e7f393-937e-4f77-808e-94535e297925"),
    ("Storage Table Data Contributor", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"),
    ("Storage Table Data Reader", "76199698-9eea-4c19-bc75-cec21354c6b6"),
    ("Azure Service Bus Data Receiver", "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"),
    ("Azure Service Bus Data Sender", "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"),
    ("Azure Service Bus Data Owner", "090c5cfd-751d-490a-894a-3ce6f1109419"),
    ("Azure Event Hubs Data Receiver", "a638d3c7-ab3a-418d-83e6-5f17a39d4fde"),
    ("Azure Event Hubs Data Sender", "2b629674-e913-4c01-ae53-ef4638d8f975"),
    ("Azure Event Hubs Data Owner", "f526a384-b230-433a-b45c-95f59c4a2dec"),
    ("App Configuration Data Reader", "516239f1-63e1-4d78-a4de-a74fb236a071"),
    ("App Configuration Data Owner", "5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b"),
    ("Cognitive Services User", "a97b65f3-24c7-4388-baec-2e87135dc908"),
    ("Cognitive Services OpenAI User", "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"),
    ("Monitoring Metrics Publisher", "3913510d-42f4-4e42-8a64-420c390055eb"),
    ("DNS Zone Contributor", "befefa01-2a29-4197-83a8-272ff33ce314"),
];

/// A role definition known by GUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDefinition {
    pub guid: String,
}

/// The definition a role names: a built-in role's name (any letter case),
/// a GUID, or a role definition ID ending in one.
pub fn definition(role: &str) -> Option<RoleDefinition> {
    if let Some((_, guid)) = BUILT_IN_ROLES.iter().find(|(name, _)| name.eq_ignore_ascii_case(role)) {
        return Some(RoleDefinition { guid: guid.to_string() });
    }
    let last = role.rsplit('/').next().unwrap_or(role);
    let is_id = role == last || role.to_ascii_lowercase().contains("/providers/microsoft.authorization/roledefinitions/");
    (is_id && is_guid(last)).then(|| RoleDefinition { guid: last.to_ascii_lowercase() })
}

/// True when `role` is a GUID or role definition ID rather than a name.
pub fn is_definition_id(role: &str) -> bool {
    is_guid(role.rsplit('/').next().unwrap_or(role)) && (is_guid(role) || role.starts_with('/'))
}

/// An Azure resource ID that a role is assigned at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub id: String,
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    /// `Microsoft.KeyVault/vaults` and `kv1` for a resource; child types
    /// and names joined with `/` (`Microsoft.Storage/storageAccounts/
    /// blobServices/containers`, `acct/default/c1`).
    pub resource: Option<(String, String)>,
    /// Below another resource's `providers/` (an extension resource):
    /// az and azurerm take it; Bicep and ARM here cannot name it.
    pub extension: bool,
}

impl Scope {
    /// True when the scope is the resource group `group` or inside it.
    pub fn in_resource_group(&self, group: &str, subscription: Option<&str>) -> bool {
        self.resource_group.as_deref().is_some_and(|g| g.eq_ignore_ascii_case(group))
            && match (subscription, &self.subscription) {
                (Some(want), Some(got)) => want.eq_ignore_ascii_case(got),
                _ => true,
            }
    }
}

/// Parses `/subscriptions/<guid>[/resourceGroups/<rg>[/providers/<ns>/<type>/<name>...]]`
/// or a management group `/providers/Microsoft.Management/managementGroups/<id>`.
pub fn parse_scope(id: &str) -> Result<Scope, String> {
    const SHAPE: &str = "is not an Azure resource ID such as /subscriptions/<guid>/resourceGroups/<group>[/providers/<type>/<name>]";
    if id.len() > 2048 || id.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '\'' | '"' | '`' | '$' | '\\' | '[' | ']')) {
        return Err(SHAPE.into());
    }
    let parts: Vec<&str> = id.split('/').collect();
    if parts.first() != Some(&"") || parts.iter().skip(1).any(|p| p.is_empty()) {
        return Err(SHAPE.into());
    }
    let parts = &parts[1..];
    let lower: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
    if lower.len() == 3 && lower[0] == "providers" && lower[1] == "microsoft.management" {
        return Ok(Scope { id: id.into(), subscription: None, resource_group: None, resource: None, extension: false });
    }
    if lower.len() == 4 && lower[0] == "providers" && lower[1] == "microsoft.management" && lower[2] == "managementgroups" {
        return Ok(Scope { id: id.into(), subscription: None, resource_group: None, resource: None, extension: false });
    }
    if lower.len() < 2 || lower[0] != "subscriptions" || !is_guid(parts[1]) {
        return Err(SHAPE.into());
    }
    let subscription = Some(parts[1].to_string());
    if lower.len() == 2 {
        return Ok(Scope { id: id.into(), subscription, resource_group: None, resource: None, extension: false });
    }
    if lower[2] != "resourcegroups" || lower.len() < 4 {
        return Err(SHAPE.into());
    }
    let resource_group = Some(parts[3].to_string());
    if lower.len() == 4 {
        return Ok(Scope { id: id.into(), subscription, resource_group, resource: None, extension: false });
    }
    // providers/<namespace>/<type>/<name>[/<child type>/<child name>]...
    let rest = &parts[4..];
    if !rest[0].eq_ignore_ascii_case("providers") || rest.len() < 4 || rest.len() % 2 != 0 {
        return Err(SHAPE.into());
    }
    let namespace = rest[1];
    let pairs = &rest[2..];
    let types: Vec<&str> = pairs.iter().step_by(2).copied().collect();
    let names: Vec<&str> = pairs.iter().skip(1).step_by(2).copied().collect();
    let extension = types.iter().any(|t| t.eq_ignore_ascii_case("providers"));
    let resource = Some((format!("{namespace}/{}", types.join("/")), names.join("/")));
    Ok(Scope { id: id.into(), subscription, resource_group, resource, extension })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_definitions() {
        assert_eq!(definition("key vault secrets user").unwrap().guid, "4633458b-17de-408a-b874-0445c86b69e6");
        assert!(definition("4633458B-17de-408a-b874-0445c86b69e6").is_some());
        assert!(definition("/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6").is_some());
        assert!(definition("My Custom Role").is_none());
    }

    #[test]
    fn scopes() {
        let sub = "00000000-0000-0000-0000-000000000001";
        let s = parse_scope(&format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct/blobServices/default/containers/c1")).unwrap();
        assert_eq!(s.resource, Some(("Microsoft.Storage/storageAccounts/blobServices/containers".into(), "acct/default/c1".into())));
        assert!(s.in_resource_group("RG", Some(sub)));
        assert!(parse_scope(&format!("/subscriptions/{sub}")).unwrap().resource_group.is_none());
        for bad in ["", "/", "subscriptions/x", "/subscriptions/not-guid", "/subscriptions//resourceGroups/rg", "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/X", "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/r g"] {
            assert!(parse_scope(bad).is_err(), "{bad:?}");
        }
    }
}
