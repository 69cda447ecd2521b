use super::{Context, Finding, Rule, Severity};
use crate::objects::Field;
use crate::wellknown::*;
use serde_json::Value;

pub const RULE: Rule = Rule {
    code: "WI016",
    name: "hard-coded-token-path",
    severity: Severity::Warning,
    summary: "A container names the projected token's path literally instead of `$AZURE_FEDERATED_TOKEN_FILE`",
    doc: rule_doc!(r#"## What it does
Reports the webhook's token directories (`/var/run/secrets/azure/tokens`
of v1.0-v1.5, `/var/run/secrets/azure/wi` of v1.6, and paths under them)
written literally in the `command`, `args`, probe and lifecycle-hook
commands or `env` values of a container the webhook injects into. It is an
error when the path is not the one of the `--layout` in use (the file is
not there), a warning otherwise (it breaks when the layout changes). In a
pod the webhook already mutated (it holds the token volume), the
`AZURE_FEDERATED_TOKEN_FILE` it injected is not reported; one written in a
manifest is.

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

/// Where `dir` occurs in `text` as a whole path (followed by nothing, `/`,
/// a quote, a space...: not `/var/run/secrets/azure/tokens2`).
fn names_dir(text: &str, dir: &str) -> bool {
    text.match_indices(dir).any(|(i, _)| {
        let rest = &text[i + dir.len()..];
        // v1.6's volume also holds the token proxy's CA for identity
        // bindings (`AZURE_KUBERNETES_CA_FILE`): not the token.
        let word = |c: char| c.is_alphanumeric() || c == '-' || c == '_' || c == '.';
        let proxy_ca = dir == V1_6_MOUNT_PATH && rest.strip_prefix("/ca-cert").is_some_and(|r| !r.starts_with(word));
        !rest.starts_with(word) && !proxy_ca
    })
}

/// The token directory of each layout, as a program would name it.
fn layout_of(text: &str) -> Option<Layout> {
    if names_dir(text, CLASSIC_MOUNT_PATH) {
        Some(Layout::Classic)
    } else if names_dir(text, V1_6_MOUNT_PATH) {
        Some(Layout::V1_6)
    } else {
        None
    }
}

/// A pod the webhook already mutated: it holds the webhook's token volume,
/// so its `AZURE_FEDERATED_TOKEN_FILE` is the webhook's own.
fn mutated(spec: &Value) -> bool {
    spec.field("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.field("name").and_then(Value::as_str))
        .any(|name| name == CLASSIC_VOLUME || name.starts_with(V1_6_VOLUME_PREFIX))
}

/// Where a path was written: an argv element or an env value.
enum Place {
    Argv(super::wi017_az_login_identity::ArgvAt),
    Env(usize),
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let layout = cx.options.layout;
    for pod in cx.inventory.pods().filter(|p| p.opted_in()) {
        let injected_already = mutated(pod.spec);
        for (pointer, container) in pod.injected_containers() {
            let name = container.field("name").and_then(Value::as_str).unwrap_or("");
            // Pointers are only printed for a finding.
            let lines = super::wi017_az_login_identity::command_lines(pointer, container);
            let mut places: Vec<(Place, &str)> = lines.iter().flatten().map(|(at, text)| (Place::Argv(*at), *text)).collect();
            for (i, var) in container.field("env").and_then(Value::as_array).into_iter().flatten().enumerate() {
                // The webhook's own variable holds the path by design.
                if injected_already && var.field("name").and_then(Value::as_str) == Some(ENV_TOKEN_FILE) {
                    continue;
                }
                if let Some(text) = var.field("value").and_then(Value::as_str) {
                    places.push((Place::Env(i), text));
                }
            }
            for (place, text) in places {
                let Some(written) = layout_of(text) else { continue };
                let place = match place {
                    Place::Argv(at) => at.to_string(),
                    Place::Env(i) => format!("{pointer}/env/{i}/value"),
                };
                let finding = Finding::new(
                    &RULE,
                    pod.index,
                    place,
                    if written == layout {
                        format!("container `{name}` names the token's path literally; it moves when the webhook changes its layout (v1.6.0 moved it), and then the token is not found")
                    } else {
                        format!(
                            "container `{name}` names the token path of the {} layout, but the webhook in use ({} layout) mounts it at `{}`",
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
