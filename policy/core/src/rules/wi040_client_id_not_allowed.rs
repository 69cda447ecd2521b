use serde_json::Value;

use super::{Context, Finding, Rule, Severity};
use crate::objects::object_annotation;
use crate::source::escape_pointer_segment;
use crate::wellknown::CLIENT_ID_ANNOTATION;

pub const RULE: Rule = Rule {
    code: "WI040",
    name: "client-id-not-allowed",
    severity: Severity::Error,
    summary: "ServiceAccount names a client ID its namespace is not allowed to use",
    doc: rule_doc!(r#"## What it does
With an allow-list of client IDs per namespace (`kubectl wi lint
--allowed-client-ids NS=GUID,...`, Kubewarden setting `allowedClientIds`),
reports ServiceAccounts whose
`azure.workload.identity/client-id` is not listed for their namespace.
Namespaces without an entry are not restricted; the entry `"*"` applies to
namespaces without their own.

## Why is this bad?
Anyone who can create a ServiceAccount can put any client ID on it. If that
identity has a federated credential for the ServiceAccount's subject (or gets
one), one team's pods act as another team's identity.

## Example
```yaml
# allowedClientIds: {finance: ["5a4f7c1e-2b3d-4e5f-8a9b-0c1d2e3f4a5b"]}
kind: ServiceAccount
metadata:
  namespace: finance
  annotations:
    azure.workload.identity/client-id: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"  # marketing's identity
```

## Use instead
Use an identity allowed for the namespace, or ask the platform team to add
yours to the allow-list.
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let allowed = &cx.options.allowed_client_ids;
    if allowed.is_empty() {
        return;
    }
    for (index, sa) in cx.inventory.service_accounts() {
        let Some(list) = allowed.get(&sa.namespace).or_else(|| allowed.get("*")) else { continue };
        let Some(client_id) = object_annotation(sa, CLIENT_ID_ANNOTATION).and_then(Value::as_str) else { continue };
        if !list.iter().any(|c| c.eq_ignore_ascii_case(client_id)) {
            out.push(Finding::new(
                &RULE,
                index,
                format!("/metadata/annotations/{}", escape_pointer_segment(CLIENT_ID_ANNOTATION)),
                format!("namespace `{}` may not use client ID {client_id}; allowed: {}", sa.namespace, super::listed(list)),
                "use a client ID from the namespace's allow-list",
            ));
        }
    }
}
