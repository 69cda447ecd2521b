use serde_json::Value;

use super::{Context, Finding, Rule, Severity};
use crate::objects::{Field, PodView, object_annotation};
use crate::wellknown::*;

pub const RULE: Rule = Rule {
    code: "WI010",
    name: "env-overrides-injection",
    severity: Severity::Error,
    summary: "A container sets an `AZURE_*` variable to a value other than what the webhook would inject",
    doc: rule_doc!(r#"## What it does
In opted-in pods, compares `AZURE_CLIENT_ID`, `AZURE_TENANT_ID`,
`AZURE_FEDERATED_TOKEN_FILE` and `AZURE_AUTHORITY_HOST` set by a container
with what the webhook would inject (from the ServiceAccount, `--tenant-id`,
`--authority-host` and `--layout`).

## Why is this bad?
The webhook never overwrites a variable a container already sets. A stale
client ID or a token path from another webhook version wins, and the SDK asks
for the wrong identity or reads a file that does not exist.

## Example
```yaml
env:
- name: AZURE_FEDERATED_TOKEN_FILE
  value: /var/run/secrets/tokens/azure-identity-token
```

## Use instead
Remove the variable and let the webhook inject it.
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods().filter(|p| p.opted_in()) {
        // What the webhook would inject, worked out at the first variable
        // that could override it (most containers set none of them).
        let mut expected: Option<[(&str, Option<String>); 4]> = None;
        for (container_pointer, container) in pod.injected_containers() {
            let name = container.field("name").and_then(Value::as_str).unwrap_or("");
            let Some(env) = container.field("env").and_then(Value::as_array) else { continue };
            for (i, var) in env.iter().enumerate() {
                let Some(var_name) = var.field("name").and_then(Value::as_str) else { continue };
                if ![ENV_CLIENT_ID, ENV_TENANT_ID, ENV_TOKEN_FILE, ENV_AUTHORITY_HOST].contains(&var_name) {
                    continue;
                }
                let expected = expected.get_or_insert_with(|| injected_values(cx, &pod));
                let Some((_, Some(want))) = expected.iter().find(|(n, _)| *n == var_name) else { continue };
                let Some(have) = var.field("value").and_then(Value::as_str) else { continue };
                let same = match var_name {
                    ENV_AUTHORITY_HOST => have.trim_end_matches('/') == want.trim_end_matches('/'),
                    // A GUID is the same GUID in either letter case.
                    ENV_CLIENT_ID | ENV_TENANT_ID => have.eq_ignore_ascii_case(want),
                    _ => have == want,
                };
                if !same {
                    out.push(Finding::new(
                        &RULE,
                        pod.index,
                        format!("{container_pointer}/env/{i}/value"),
                        format!("container `{name}` sets {var_name}={have:?}, but the webhook would inject {want:?} and never overrides a variable the container sets"),
                        format!("remove {var_name} from container `{name}` and let the webhook inject it"),
                    ));
                }
            }
        }
    }
}

/// The variables the webhook injects into `pod`, with their values (`None`
/// when it is not known from the inputs).
fn injected_values(cx: &Context, pod: &PodView) -> [(&'static str, Option<String>); 4] {
    let options = cx.options;
    let sa = cx.inventory.service_account(&pod.object.namespace, pod.service_account()).map(|(_, o)| o);
    let sa_str = |key: &str| sa.and_then(|o| object_annotation(o, key)).and_then(Value::as_str).map(str::to_string);
    let tenant = match sa.and_then(|o| object_annotation(o, TENANT_ID_ANNOTATION)) {
        Some(v) => v.as_str().map(str::to_string),
        None => options.tenant_id.clone(),
    };
    let authority = options.authority_host.clone().unwrap_or_else(|| PUBLIC_CLOUD_AUTHORITY_HOST.to_string());
    [
        (ENV_CLIENT_ID, sa_str(CLIENT_ID_ANNOTATION)),
        (ENV_TENANT_ID, tenant),
        (ENV_TOKEN_FILE, Some(options.layout.token_file())),
        (ENV_AUTHORITY_HOST, Some(authority)),
    ]
}
