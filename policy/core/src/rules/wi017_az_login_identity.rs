use super::{Context, Finding, Rule, Severity};
use serde_json::Value;

pub const RULE: Rule = Rule {
    code: "WI017",
    name: "az-login-identity",
    severity: Severity::Error,
    summary: "A Workload ID container logs in with `az login --identity` or `Connect-AzAccount -Identity`",
    doc: rule_doc!(r#"## What it does
Reports `az login --identity` (or `-i`) and `Connect-AzAccount -Identity`
in the `command` or `args` of a container the webhook injects into
(an opted-in pod's containers, less `skip-containers`), including inside a
`sh -c` script.

## Why is this bad?
`--identity` logs in with a managed identity through the node's instance
metadata endpoint (IMDS), not with the federated token Workload ID
projects into the pod. On AKS that is the kubelet's identity or nothing:
the login fails, or succeeds as the wrong identity (Azure/AKS issue #4439,
azure-workload-identity issue #521).

## Example
```yaml
command: ["sh", "-c", "az login --identity && az keyvault secret show ..."]
```

## Use instead
```yaml
command: ["sh", "-c", "az login --service-principal -u \"$AZURE_CLIENT_ID\" -t \"$AZURE_TENANT_ID\" --federated-token \"$(cat \"$AZURE_FEDERATED_TOKEN_FILE\")\" && az keyvault secret show ..."]
```
For Azure PowerShell: `Connect-AzAccount -ServicePrincipal -ApplicationId
$env:AZURE_CLIENT_ID -Tenant $env:AZURE_TENANT_ID -FederatedToken (Get-Content
$env:AZURE_FEDERATED_TOKEN_FILE -Raw)`.
"#),
    check,
};

const FIX_AZ: &str = "log in with the federated token: `az login --service-principal -u \"$AZURE_CLIENT_ID\" -t \"$AZURE_TENANT_ID\" --federated-token \"$(cat \"$AZURE_FEDERATED_TOKEN_FILE\")\"`";
const FIX_POWERSHELL: &str = "log in with the federated token: `Connect-AzAccount -ServicePrincipal -ApplicationId $env:AZURE_CLIENT_ID -Tenant $env:AZURE_TENANT_ID -FederatedToken (Get-Content $env:AZURE_FEDERATED_TOKEN_FILE -Raw)`";

/// The words of a command line, shell separators (`;`, `&&`, `||`, `|`,
/// line breaks) as words of their own, quotes dropped.
fn words(text: &str) -> Vec<String> {
    let mut spaced = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            ';' | '|' | '&' | '\n' | '(' | ')' => {
                spaced.push(' ');
                spaced.push(';');
                spaced.push(' ');
            }
            '"' | '\'' | '`' => {}
            c => spaced.push(c),
        }
    }
    spaced.split_whitespace().map(str::to_string).collect()
}

/// Which login with a managed identity the words hold, if any: `az login`
/// with `--identity`/`-i`, or `Connect-AzAccount` with `-Identity`, within
/// one simple command.
fn identity_login(words: &[String]) -> Option<&'static str> {
    for (i, word) in words.iter().enumerate() {
        let rest = words[i + 1..].iter().take_while(|w| *w != ";");
        if word == "az" && words.get(i + 1).is_some_and(|w| w == "login") {
            if rest.skip(1).any(|w| w == "--identity" || w == "-i" || w.starts_with("--identity=")) {
                return Some("az");
            }
        } else if word.eq_ignore_ascii_case("Connect-AzAccount") && rest.clone().any(|w| w.eq_ignore_ascii_case("-Identity") || w.to_ascii_lowercase().starts_with("-identity:")) {
            return Some("powershell");
        }
    }
    None
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods().filter(|p| p.opted_in()) {
        for (pointer, container) in pod.injected_containers() {
            let text: Vec<&str> = ["command", "args"]
                .iter()
                .filter_map(|field| container.get(*field).and_then(Value::as_array))
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let Some(tool) = identity_login(&words(&text.join(" "))) else { continue };
            let name = container.get("name").and_then(Value::as_str).unwrap_or("");
            let field = if container.get("command").is_some() { "command" } else { "args" };
            let (what, fix) = match tool {
                "az" => ("`az login --identity`", FIX_AZ),
                _ => ("`Connect-AzAccount -Identity`", FIX_POWERSHELL),
            };
            out.push(Finding::new(
                &RULE,
                pod.index,
                format!("{pointer}/{field}"),
                format!("container `{name}` runs {what}, which uses the node's managed identity (IMDS), not the pod's federated token"),
                fix,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(text: &str) -> Option<&'static str> {
        identity_login(&words(text))
    }

    #[test]
    fn finds_identity_logins_in_command_lines() {
        assert_eq!(login("az login --identity"), Some("az"));
        assert_eq!(login("set -e; az login -i && az account show"), Some("az"));
        assert_eq!(login("az login --identity --username 0000"), Some("az"));
        assert_eq!(login("pwsh -c Connect-AzAccount -Identity"), Some("powershell"));
        assert_eq!(login("connect-azaccount -identity:$true"), Some("powershell"));
        assert_eq!(login("az login --service-principal -u $AZURE_CLIENT_ID --federated-token x"), None);
        // `-i` of another command in the same script.
        assert_eq!(login("az login --service-principal -u a -t b --federated-token c; grep -i x f"), None);
        assert_eq!(login("echo az login --identity-less"), None);
    }
}
