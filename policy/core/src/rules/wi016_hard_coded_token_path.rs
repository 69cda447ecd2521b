use super::{Context, Finding, Rule, Severity};
use crate::wellknown::*;
use serde_json::Value;

pub const RULE: Rule = Rule {
    code: "WI016",
    name: "hard-coded-token-path",
    severity: Severity::Warning,
    summary: "A container names the projected token's path literally instead of `$AZURE_FEDERATED_TOKEN_FILE`",
    doc: rule_doc!(r#"## What it does
Reports the webhook's token directories (`/var/run/secrets/azure/tokens/`
of v1.0-v1.5, `/var/run/secrets/azure/wi/token/` of v1.6) written literally
in the `command`, `args` or `env` values of a container the webhook injects
into. It is an error when the path is not the one of the `--layout` in use
(the file is not there), a warning otherwise (it breaks on the next
upgrade). The `AZURE_FEDERATED_TOKEN_FILE` variable the webhook injects is
not reported.

## Why is this bad?
Webhook v1.6.0 moved the token from
`/var/run/secrets/azure/tokens/azure-identity-token` to
`/var/run/secrets/azure/wi/token/azure-identity-token` (and its volume to
`azure-workload-identity-reserved-<hash>`). A literal path works until the
webhook is upgraded, then the workload cannot find its token.

## Example
```yaml
env:
- name: TOKEN_PATH
  value: /var/run/secrets/azure/tokens/azure-identity-token
```

## Use instead
```yaml
env:
- name: TOKEN_PATH
  value: $(AZURE_FEDERATED_TOKEN_FILE)
```
or read `$AZURE_FEDERATED_TOKEN_FILE` in the program or script.
"#),
    check,
};

/// The token directory of each layout, as a program would name it.
fn layout_of(text: &str) -> Option<Layout> {
    if text.contains(&format!("{CLASSIC_MOUNT_PATH}/")) {
        Some(Layout::Classic)
    } else if text.contains(&format!("{V1_6_MOUNT_PATH}/token/")) || text.contains(&format!("{V1_6_MOUNT_PATH}/{V1_6_TOKEN_PATH}")) {
        Some(Layout::V1_6)
    } else {
        None
    }
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let layout = cx.options.layout;
    for pod in cx.inventory.pods().filter(|p| p.opted_in()) {
        for (pointer, container) in pod.injected_containers() {
            let name = container.get("name").and_then(Value::as_str).unwrap_or("");
            let mut places: Vec<(String, &str)> = Vec::new();
            for field in ["command", "args"] {
                for (i, text) in container.get(field).and_then(Value::as_array).into_iter().flatten().enumerate() {
                    if let Some(text) = text.as_str() {
                        places.push((format!("{pointer}/{field}/{i}"), text));
                    }
                }
            }
            for (i, var) in container.get("env").and_then(Value::as_array).into_iter().flatten().enumerate() {
                // The webhook's own variable holds the path by design.
                if var.get("name").and_then(Value::as_str) == Some(ENV_TOKEN_FILE) {
                    continue;
                }
                if let Some(text) = var.get("value").and_then(Value::as_str) {
                    places.push((format!("{pointer}/env/{i}/value"), text));
                }
            }
            for (place, text) in places {
                let Some(written) = layout_of(text) else { continue };
                let finding = Finding::new(
                    &RULE,
                    pod.index,
                    place,
                    if written == layout {
                        format!("container `{name}` names the token's path literally; webhook v1.6.0 moved it, so this breaks on upgrade")
                    } else {
                        format!(
                            "container `{name}` names the token path of the {} layout, but the webhook in use ({}) mounts it at `{}`",
                            written.name(),
                            layout.name(),
                            layout.token_file()
                        )
                    },
                    "use `$AZURE_FEDERATED_TOKEN_FILE` (in env values `$(AZURE_FEDERATED_TOKEN_FILE)`), which the webhook sets to the token's path",
                );
                out.push(if written == layout { finding } else { finding.severity(Severity::Error) });
                break;
            }
        }
    }
}
