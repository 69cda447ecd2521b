use serde_json::Value;

use super::{Context, Finding, Rule, Severity};
use crate::objects::Field;
use crate::wellknown::*;

pub const RULE: Rule = Rule {
    code: "WI013",
    name: "token-volume-collision",
    severity: Severity::Error,
    summary: "A volume or mount collides with the injected token volume or path",
    doc: rule_doc!(r#"## What it does
In opted-in pods, reports volumes that use the name the webhook gives its
token volume, and mounts that use its mount path (or sit under it) with
another volume.

## Why is this bad?
The webhook adds its own volume and mount. A second volume with the same name
or a second mount at the same path makes the API server reject the pod; a
same-named classic mount at another path leaves the token where the SDK does
not look.

## Example
```yaml
volumeMounts:
- name: tokens
  mountPath: /var/run/secrets/azure/tokens
```

## Use instead
Mount your own volumes elsewhere, and let the webhook own
`/var/run/secrets/azure/tokens` (v1.0–v1.5) or `/var/run/secrets/azure/wi` (v1.6).
"#),
    check,
};


fn check(cx: &Context, out: &mut Vec<Finding>) {
    let layout = cx.options.layout;
    let mount_path = layout.mount_path();
    for pod in cx.inventory.pods().filter(|p| p.opted_in()) {
        let reserved = |name: &str| match layout {
            Layout::Classic => name == CLASSIC_VOLUME,
            Layout::V1_6 => name.starts_with(V1_6_VOLUME_PREFIX),
        };
        let volumes = pod.spec.field("volumes").and_then(Value::as_array);
        for (i, volume) in volumes.into_iter().flatten().enumerate() {
            let Some(name) = volume.field("name").and_then(Value::as_str) else { continue };
            if reserved(name) && !is_token_volume(volume, layout) {
                out.push(Finding::new(
                    &RULE,
                    pod.index,
                    pod.spec_pointer(&format!("/volumes/{i}/name")),
                    format!("volume `{name}` uses the name of the webhook's token volume but is not its projected token"),
                    "rename this volume",
                ));
            }
        }
        for (container_pointer, container) in pod.injected_containers() {
            let cname = container.field("name").and_then(Value::as_str).unwrap_or("");
            let mounts = container.field("volumeMounts").and_then(Value::as_array);
            // Two token volumes at the token path: what a v1.6.0 webhook
            // leaves when it is invoked again after another webhook named the
            // pod. The API server refuses duplicate mount paths.
            let at_token_path: Vec<usize> = mounts
                .into_iter()
                .flatten()
                .enumerate()
                .filter(|(_, m)| {
                    let name = m.field("name").and_then(Value::as_str).unwrap_or("");
                    let path = m.field("mountPath").and_then(Value::as_str).unwrap_or("");
                    reserved(name) && path.trim_end_matches('/') == mount_path
                })
                .map(|(i, _)| i)
                .collect();
            for &i in at_token_path.iter().skip(1) {
                out.push(Finding::new(
                    &RULE,
                    pod.index,
                    format!("{container_pointer}/volumeMounts/{i}/mountPath"),
                    format!("container `{cname}` mounts {} token volumes at {mount_path}; the API server refuses duplicate mount paths", at_token_path.len()),
                    "keep one token volume and its mount (re-create the pod from a template without injected volumes)",
                ));
            }
            for (i, mount) in mounts.into_iter().flatten().enumerate() {
                let name = mount.field("name").and_then(Value::as_str).unwrap_or("");
                let path = mount.field("mountPath").and_then(Value::as_str).unwrap_or("");
                let normalized = path.trim_end_matches('/');
                let under = normalized == mount_path || normalized.starts_with(&format!("{mount_path}/"));
                let pointer = format!("{container_pointer}/volumeMounts/{i}");
                if under && !reserved(name) {
                    out.push(Finding::new(
                        &RULE,
                        pod.index,
                        format!("{pointer}/mountPath"),
                        format!("container `{cname}` mounts volume `{name}` at {path}, where the webhook mounts the token volume"),
                        format!("mount `{name}` somewhere other than {mount_path}"),
                    ));
                } else if layout == Layout::Classic && name == CLASSIC_VOLUME && normalized != mount_path {
                    // Classic webhooks skip a container that already mounts the
                    // volume, so the token ends up away from AZURE_FEDERATED_TOKEN_FILE.
                    out.push(Finding::new(
                        &RULE,
                        pod.index,
                        format!("{pointer}/mountPath"),
                        format!("container `{cname}` mounts `{CLASSIC_VOLUME}` at {path}, but AZURE_FEDERATED_TOKEN_FILE points under {mount_path}"),
                        format!("remove this mount and let the webhook add it at {mount_path}"),
                    ));
                }
            }
        }
    }
}
