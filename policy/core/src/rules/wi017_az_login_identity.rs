use super::{Context, Finding, Rule, Severity};
use crate::objects::{ContainerAt, Field, at};
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

/// A separator between simple commands, as a word of its own.
const SEPARATOR: &str = ";";

/// The words of one argument as a shell reads them, good enough to find a
/// login command: quotes keep a word whole (so `echo "az login --identity"`
/// is two words), `;`, `&&`, `||`, `|`, backticks, parentheses and line
/// breaks separate commands, `\` before a line break continues the line,
/// and comments and here-documents are left out.
fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut heredoc: Option<String> = None;
    let mut i = 0;
    let end_word = |words: &mut Vec<String>, word: &mut String, in_word: &mut bool| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if chars.get(i + 1) == Some(&'\n') => i += 1,
            '\'' | '"' => {
                in_word = true;
                let close = chars[i + 1..].iter().position(|&q| q == c).map_or(chars.len(), |p| i + 1 + p);
                word.extend(&chars[i + 1..close]);
                i = close;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '<' if chars.get(i + 1) == Some(&'<') && chars.get(i + 2) != Some(&'<') => {
                end_word(&mut words, &mut word, &mut in_word);
                // `<<EOF`, `<<-EOF`, `<<'EOF'`: the body, up to a line that is
                // the delimiter, is data, not commands.
                let rest: String = chars[i + 2..].iter().take_while(|&&c| c != '\n').collect();
                let delimiter: String = rest.trim_start_matches('-').trim().chars().take_while(|c| !c.is_whitespace()).filter(|c| *c != '\'' && *c != '"').collect();
                if !delimiter.is_empty() {
                    heredoc = Some(delimiter);
                }
                i += 2 + rest.len();
                continue;
            }
            '\n' if heredoc.is_some() => {
                end_word(&mut words, &mut word, &mut in_word);
                words.push(SEPARATOR.into());
                let delimiter = heredoc.take().unwrap_or_default();
                let mut line_start = i + 1;
                loop {
                    let line_end = chars[line_start.min(chars.len())..].iter().position(|&c| c == '\n').map_or(chars.len(), |p| line_start + p);
                    let line: String = chars[line_start.min(chars.len())..line_end].iter().collect();
                    line_start = line_end + 1;
                    if line.trim() == delimiter || line_end >= chars.len() {
                        break;
                    }
                }
                i = line_start;
                continue;
            }
            ';' | '|' | '&' | '\n' | '(' | ')' | '`' => {
                end_word(&mut words, &mut word, &mut in_word);
                words.push(SEPARATOR.into());
            }
            c if c.is_whitespace() => end_word(&mut words, &mut word, &mut in_word),
            c => {
                in_word = true;
                word.push(c);
            }
        }
        i += 1;
    }
    end_word(&mut words, &mut word, &mut in_word);
    words
}

/// The command a word names: `/usr/bin/az` is `az`, a module-qualified
/// `Az.Accounts\Connect-AzAccount` is `Connect-AzAccount`.
fn command_name(word: &str) -> &str {
    word.rsplit(['/', '\\']).next().unwrap_or(word)
}

const POWERSHELL_LOGINS: &[&str] = &["connect-azaccount", "login-azaccount", "add-azaccount"];

/// Which login with a managed identity the words hold, if any: `az login`
/// with `--identity`/`-i`, or `Connect-AzAccount` (or its aliases) with
/// `-Identity`, within one simple command. Words after `echo` or `printf`
/// are text.
fn identity_login(words: &[String]) -> Option<&'static str> {
    let mut commands = words.split(|w| w == SEPARATOR);
    commands.find_map(|command| {
        let mut rest = command.iter().map(String::as_str).skip_while(|w| matches!(*w, "sudo" | "exec" | "time" | "command") || w.contains('='));
        let program = command_name(rest.next()?);
        let args: Vec<&str> = rest.collect();
        if program == "az" {
            // The first word that is not an option is the subcommand.
            let login = args.iter().position(|a| !a.starts_with('-')).is_some_and(|p| args[p] == "login");
            return (login && args.iter().any(|a| *a == "--identity" || *a == "-i" || a.starts_with("--identity="))).then_some("az");
        }
        if POWERSHELL_LOGINS.contains(&program.to_ascii_lowercase().as_str()) {
            let identity = args.iter().any(|a| {
                let a = a.to_ascii_lowercase();
                a == "-identity" || (a.starts_with("-identity:") && a != "-identity:$false")
            });
            return identity.then_some("powershell");
        }
        // A command inside a command: `sh -c`, `pwsh -Command`, `bash -lc`.
        None
    })
}

/// Every command line of a container: `command` and `args` (one argv),
/// and the exec commands of its probes and lifecycle hooks, each with the
/// pointer of the argv element it came from.
pub(crate) fn command_lines<'a>(container_at: ContainerAt, container: &'a Value) -> Vec<Vec<(ArgvAt, &'a str)>> {
    let argv = |path: &'static str| -> Vec<(ArgvAt, &'a str)> {
        at(container, path)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(index, v)| Some((ArgvAt { container: container_at, path, index }, v.as_str()?)))
            .collect()
    };
    let mut lines = vec![[argv("/command"), argv("/args")].concat()];
    for path in ["/livenessProbe/exec/command", "/readinessProbe/exec/command", "/startupProbe/exec/command", "/lifecycle/postStart/exec/command", "/lifecycle/preStop/exec/command"] {
        lines.push(argv(path));
    }
    lines.retain(|l| !l.is_empty());
    lines
}

/// One argv element of a container: printed as its JSON pointer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ArgvAt {
    container: ContainerAt,
    path: &'static str,
    index: usize,
}

impl std::fmt::Display for ArgvAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}/{}", self.container, self.path, self.index)
    }
}

/// The argv element of `line` where an identity login starts, if any.
fn login_in(line: &[(ArgvAt, &str)]) -> Option<(&'static str, ArgvAt)> {
    // Each element read as a shell script (`sh -c SCRIPT`), then all
    // together as one argv (`["az", "login", "-i"]`).
    for (at, text) in line {
        if let Some(tool) = identity_login(&words(text)) {
            return Some((tool, *at));
        }
    }
    let all: Vec<String> = line.iter().flat_map(|(_, t)| words(t)).collect();
    identity_login(&all).map(|tool| (tool, line[0].0))
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for pod in cx.inventory.pods().filter(|p| p.opted_in()) {
        for (pointer, container) in pod.injected_containers() {
            let name = container.field("name").and_then(Value::as_str).unwrap_or("");
            for line in command_lines(pointer, container) {
                let Some((tool, at)) = login_in(&line) else { continue };
                let (what, fix) = match tool {
                    "az" => ("`az login --identity`", FIX_AZ),
                    _ => ("`Connect-AzAccount -Identity`", FIX_POWERSHELL),
                };
                out.push(Finding::new(
                    &RULE,
                    pod.index,
                    at.to_string(),
                    format!("container `{name}` runs {what}, which uses the node's managed identity (IMDS), not the pod's federated token"),
                    fix,
                ));
                break;
            }
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
        assert_eq!(login("az login \\\n  --identity"), Some("az"));
        assert_eq!(login("/usr/bin/az login --identity"), Some("az"));
        assert_eq!(login("az --debug login --identity"), Some("az"));
        assert_eq!(login("x=`az login --identity`"), Some("az"));
        assert_eq!(login("sudo az login -i"), Some("az"));
        assert_eq!(login("pwsh -c Connect-AzAccount -Identity"), None, "one argv word per element is read as a script");
        assert_eq!(login("Connect-AzAccount -Identity; Get-AzContext"), Some("powershell"));
        assert_eq!(login("connect-azaccount -identity:$true"), Some("powershell"));
        assert_eq!(login("Login-AzAccount -Identity"), Some("powershell"));
        assert_eq!(login("Az.Accounts\\Connect-AzAccount -Identity"), Some("powershell"));
        assert_eq!(login("Connect-AzAccount -Identity:$false -ServicePrincipal"), None);
        assert_eq!(login("az login --service-principal -u $AZURE_CLIENT_ID --federated-token x"), None);
        // `-i` of another command in the same script.
        assert_eq!(login("az login --service-principal -u a -t b --federated-token c; grep -i x f"), None);
        assert_eq!(login("echo az login --identity-less"), None);
        assert_eq!(login("echo 'run az login --identity to log in'"), None);
        assert_eq!(login("printf '%s\\n' 'az login --identity'"), None);
        assert_eq!(login("# was: az login --identity\naz login --service-principal -u a -t b --federated-token c"), None);
        assert_eq!(login("az account show # then az login --identity"), None);
        assert_eq!(login("cat <<EOF > notes\naz login --identity\nEOF\naz account show"), None);
        assert_eq!(login("cat <<'EOF'\naz login -i\nEOF\naz login -i"), Some("az"));
    }
}
