use serde_json::Value;

use super::{Context, Finding, Rule, Severity, shown};
use crate::source::escape_pointer_segment;
use crate::wellknown::{MAX_TOKEN_EXPIRATION, MIN_TOKEN_EXPIRATION, TOKEN_EXPIRATION_ANNOTATION};

pub const RULE: Rule = Rule {
    code: "WI006",
    name: "token-expiration-invalid",
    severity: Severity::Error,
    summary: "`service-account-token-expiration` is not an integer in 3600..=86400",
    doc: rule_doc!(r#"## What it does
Checks `azure.workload.identity/service-account-token-expiration` on pods,
pod templates and ServiceAccounts: it must be an integer number of seconds
from 3600 to 86400.

## Why is this bad?
The webhook parses it as an integer and rejects the pod when it is not a
number or out of range, so every pod of the workload fails to be created.

## Example
```yaml
annotations:
  azure.workload.identity/service-account-token-expiration: "1h"
```

## Use instead
```yaml
annotations:
  azure.workload.identity/service-account-token-expiration: "3600"
```
"#),
    check,
};

/// Why a token expiration value is refused, or `None` when the webhook takes it.
pub(crate) fn problem(value: &Value) -> Option<String> {
    let Some(text) = value.as_str() else {
        return Some(format!("is {} (annotations must be strings)", shown(value)));
    };
    match crate::wellknown::go_int(text) {
        Err("value out of range") => Some(format!("{} is out of range ({MIN_TOKEN_EXPIRATION}..={MAX_TOKEN_EXPIRATION} seconds)", shown(value))),
        Err(_) => Some(format!("{} is not an integer", shown(value))),
        Ok(n) if !(MIN_TOKEN_EXPIRATION..=MAX_TOKEN_EXPIRATION).contains(&n) => {
            Some(format!("{n} is outside {MIN_TOKEN_EXPIRATION}..={MAX_TOKEN_EXPIRATION} seconds"))
        }
        Ok(_) => None,
    }
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let fix = format!("set `{TOKEN_EXPIRATION_ANNOTATION}` to a quoted number of seconds between 3600 and 86400");
    for pod in cx.inventory.pods() {
        let Some(value) = pod.annotation(TOKEN_EXPIRATION_ANNOTATION) else { continue };
        // An empty value is ignored by the webhook.
        if value.as_str() == Some("") {
            continue;
        }
        if let Some(p) = problem(value) {
            out.push(Finding::new(
                &RULE,
                pod.index,
                pod.meta_pointer("annotations", TOKEN_EXPIRATION_ANNOTATION),
                format!("token expiration {p}"),
                fix.clone(),
            ));
        }
    }
    for (index, sa) in cx.inventory.service_accounts() {
        let Some(value) = crate::objects::object_annotation(sa, TOKEN_EXPIRATION_ANNOTATION) else { continue };
        if value.as_str() == Some("") {
            continue;
        }
        if let Some(p) = problem(value) {
            out.push(Finding::new(
                &RULE,
                index,
                format!("/metadata/annotations/{}", escape_pointer_segment(TOKEN_EXPIRATION_ANNOTATION)),
                format!("token expiration {p}"),
                fix.clone(),
            ));
        }
    }
}
