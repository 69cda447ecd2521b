use super::{Context, Finding, Rule, Severity, shown};
use crate::objects::object_annotation;
use crate::source::escape_pointer_segment;
use crate::wellknown::{CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION, is_guid};

pub const RULE: Rule = Rule {
    code: "WI005",
    name: "id-not-guid",
    severity: Severity::Error,
    summary: "client-id or tenant-id annotation is not a GUID",
    doc: r#"## What it does
Checks that `azure.workload.identity/client-id` and
`azure.workload.identity/tenant-id` on ServiceAccounts are GUIDs, with no
whitespace, quotes or unexpanded shell variables.

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
"#,
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (index, sa) in cx.inventory.service_accounts() {
        for key in [CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION] {
            let Some(value) = object_annotation(sa, key) else { continue };
            if value.as_str().is_some_and(is_guid) {
                continue;
            }
            let what = match value.as_str() {
                Some("") => "is empty",
                Some(s) if s.trim() != s => "has surrounding whitespace",
                Some(s) if s.contains('$') => "looks like an unexpanded shell variable",
                Some(_) => "is not a GUID",
                None => "is not a string",
            };
            out.push(Finding::new(
                &RULE,
                index,
                format!("/metadata/annotations/{}", escape_pointer_segment(key)),
                format!("annotation `{key}` value {} {what}", shown(value)),
                format!("set `{key}` to the identity's GUID, e.g. from `az identity show --query clientId -o tsv`"),
            ));
        }
    }
}
