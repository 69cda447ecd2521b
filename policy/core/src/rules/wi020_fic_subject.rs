use super::{Context, Finding, Rule, Severity};
use crate::wellknown::{is_dns_label, is_object_name};

pub const RULE: Rule = Rule {
    code: "WI020",
    name: "fic-subject-invalid",
    severity: Severity::Error,
    summary: "FIC subject is not exactly `system:serviceaccount:<namespace>:<name>`",
    doc: rule_doc!(r#"## What it does
Checks that a federated identity credential's subject is exactly
`system:serviceaccount:<namespace>:<serviceaccount>` with a valid namespace and
ServiceAccount name, and nothing around it.

AKS's identity-binding credential (`aks-identity-binding`), whose issuer,
subject and audience AKS manages, is left alone.

## Why is this bad?
Entra compares the subject of the projected token with the credential's
subject character by character. A typo, a space, a missing part or
`system:serviceaccounts:` (plural, a group) never matches, and token exchange
fails with `AADSTS70021: No matching federated identity record found`.

## Example
```yaml
spec:
  subject: system:serviceaccount:finance/backend-sa
```

## Use instead
```yaml
spec:
  subject: system:serviceaccount:finance:backend-sa
```
"#),
    check,
};

/// `(namespace, name)` of a well-formed subject, or why it is not one.
pub(crate) fn parse_subject(subject: &str) -> Result<(&str, &str), String> {
    if subject.trim() != subject {
        return Err("has leading or trailing whitespace".into());
    }
    let Some(rest) = subject.strip_prefix("system:serviceaccount:") else {
        return Err("does not start with `system:serviceaccount:`".into());
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let [namespace, name] = parts[..] else {
        return Err("is not `system:serviceaccount:<namespace>:<name>`".into());
    };
    if !is_dns_label(namespace) {
        return Err(format!("namespace `{namespace}` is not a valid namespace name"));
    }
    if !is_object_name(name) {
        return Err(format!("ServiceAccount name `{name}` is not a valid name"));
    }
    Ok((namespace, name))
}

fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (index, object, fic) in cx.inventory.federated_credentials().filter(|(_, _, f)| !f.is_identity_binding()) {
        let problem = match &fic.subject {
            // ASO reads the subject from a ConfigMap (`subjectFromConfig`):
            // unknowable here.
            None if crate::objects::at(&object.doc.value, "/spec/subjectFromConfig").is_some() => continue,
            // Infrastructure code sets it from a value known only later.
            None if fic.unknown.subject => continue,
            None => "has no subject".to_string(),
            Some(subject) => match parse_subject(subject) {
                Ok(_) => continue,
                Err(why) => format!("subject {subject:?} {why}"),
            },
        };
        out.push(Finding::new(
            &RULE,
            index,
            fic.subject_pointer.clone(),
            format!("federated credential `{}` {problem}; token exchange will fail with AADSTS70021", fic.azure_name),
            "set the subject to `system:serviceaccount:<namespace>:<serviceaccount>`",
        ));
    }
}
