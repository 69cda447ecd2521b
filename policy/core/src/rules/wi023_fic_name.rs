use super::{Context, Finding, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "WI023",
    name: "fic-name-invalid",
    severity: Severity::Error,
    summary: "FIC name is not 3..=120 of `[A-Za-z0-9_-]` starting alphanumeric",
    doc: rule_doc!(r#"## What it does
Checks a federated identity credential's Azure name (ASO `spec.azureName`,
else `metadata.name`; `name` in Azure CLI output): 3 to 120 characters of
letters, digits, `-` and `_`, starting with a letter or digit.

## Why is this bad?
Azure rejects other names, so the credential is never created and the
workload fails with `AADSTS70021` although the manifest looked applied.

## Example
```yaml
metadata:
  name: fic.backend
```

## Use instead
```yaml
metadata:
  name: fic-backend
```
"#),
    check,
};

pub(crate) fn name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if !(3..=120).contains(&len) {
        return Some(format!("is {len} characters long, outside 3..=120"));
    }
    if !name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
        return Some("does not start with a letter or digit".into());
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        .map(|c| format!("contains {c:?}; only letters, digits, `-` and `_` are allowed"))
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (index, _, fic) in cx.inventory.federated_credentials().filter(|(_, _, f)| !f.unknown.name) {
        if let Some(why) = name_problem(&fic.azure_name) {
            out.push(Finding::new(
                &RULE,
                index,
                fic.name_pointer.clone(),
                format!("federated credential name {:?} {why}", fic.azure_name),
                "use 3 to 120 letters, digits, `-` or `_`, starting with a letter or digit",
            ));
        }
    }
}
