use super::{Context, Finding, Rule, Severity, shown};
use crate::objects::object_annotations;
use crate::source::escape_pointer_segment;
use crate::wellknown::{CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION, is_guid};

pub const RULE: Rule = Rule {
    code: "WI005",
    name: "id-not-guid",
    severity: Severity::Error,
    summary: "client-id or tenant-id annotation is not a GUID",
    doc: rule_doc!(r#"## What it does
Checks that `azure.workload.identity/client-id` and
`azure.workload.identity/tenant-id` on ServiceAccounts are GUIDs, with no
whitespace, quotes or unexpanded shell variables. Placeholders left from a
guide or template (`<CLIENT_ID>`, `${AZURE_CLIENT_ID}`, `{your-client-id}`,
`xxxxxxxx-xxxx-...`, `{{ .Values.clientId }}`) are named as placeholders.

## Why is this bad?
The webhook copies the value verbatim into `AZURE_CLIENT_ID` /
`AZURE_TENANT_ID`. A value such as `${USER_ASSIGNED_CLIENT_ID}` (a heredoc that
was not expanded) or one with a trailing space fails token exchange with
`AADSTS700016` or `AADSTS90002`.

## Example
```yaml
annotations:
  azure.workload.identity/client-id: "${USER_ASSIGNED_CLIENT_ID}"
```

## Use instead
```yaml
annotations:
  azure.workload.identity/client-id: "00000000-0000-0000-0000-000000000000"
```
"#),
    check,
};

/// Why `s` is not a client or tenant ID, in lint's words; `None` for a GUID.
pub(crate) fn guid_problem(s: &str) -> Option<&'static str> {
    if is_guid(s) {
        return None;
    }
    Some(if s.is_empty() {
        "is empty"
    } else if is_placeholder(s.trim()) {
        "is a placeholder, not a GUID: fill in the identity's ID"
    } else if s.trim() != s {
        "has surrounding whitespace"
    } else if s.contains('$') {
        "looks like an unexpanded shell variable"
    } else {
        "is not a GUID"
    })
}

/// Text a guide or template leaves for the user to replace: `<CLIENT_ID>`,
/// `${AZURE_CLIENT_ID}`, `$CLIENT_ID`, `{your-client-id}`, `{{ .Values.x }}`,
/// `%CLIENT_ID%`, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, `YOUR_CLIENT_ID`.
pub(crate) fn is_placeholder(s: &str) -> bool {
    let wrapped = |open: &str, close: &str| s.len() > open.len() + close.len() && s.starts_with(open) && s.ends_with(close);
    let shell_name = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !t.starts_with(|c: char| c.is_ascii_digit());
    let guid_shaped_x = {
        let groups: Vec<&str> = s.split('-').collect();
        groups.len() == 5
            && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n)
            && s.chars().any(|c| matches!(c, 'x' | 'X'))
            && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit() || matches!(c, 'x' | 'X'))
    };
    let lower = s.to_ascii_lowercase();
    wrapped("<", ">")
        || wrapped("{", "}")
        || wrapped("${", "}")
        || wrapped("%", "%")
        || s.strip_prefix('$').is_some_and(shell_name)
        || guid_shaped_x
        || lower.contains("your")
        || lower.contains("replace")
        || lower.contains("client_id")
        || lower.contains("client-id")
        || lower.contains("tenant_id")
        || lower.contains("tenant-id")
        || lower.contains("placeholder")
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (index, sa) in cx.inventory.service_accounts() {
        // Looked up once per ServiceAccount: this runs for every one of them.
        let Some(annotations) = object_annotations(sa) else { continue };
        for key in [CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION] {
            let Some(value) = annotations.get(key) else { continue };
            let what = match value.as_str() {
                Some(s) => match guid_problem(s) {
                    Some(what) => what,
                    None => continue,
                },
                None => "is not a string",
            };
            out.push(Finding::new(
                &RULE,
                index,
                format!("/metadata/annotations/{}", escape_pointer_segment(key)),
                format!("annotation `{key}` value {} {what}", shown(value)),
                format!(
                    "set `{key}` to the identity's GUID, e.g. from `az identity show --query {} -o tsv`",
                    if key == CLIENT_ID_ANNOTATION { "clientId" } else { "tenantId" }
                ),
            ));
        }
    }
}
