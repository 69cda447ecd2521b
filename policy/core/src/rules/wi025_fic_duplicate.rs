use std::collections::HashMap;

use super::{Context, Finding, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "WI025",
    name: "fic-duplicate",
    severity: Severity::Error,
    summary: "Two FICs on one identity with the same issuer and subject",
    doc: rule_doc!(r#"## What it does
Reports a federated identity credential whose issuer and subject repeat those
of an earlier credential on the same identity.

## Why is this bad?
Azure refuses a second credential with the same issuer and subject on one
identity, so the second one is never created.

## Example
Two credentials on `id-backend`, both for
`system:serviceaccount:finance:backend-sa` from the same issuer.

## Use instead
Keep one of them.
"#),
    check,
};

fn check(cx: &Context, out: &mut Vec<Finding>) {
    let mut seen: HashMap<(&str, &str, &str), (&str, String)> = HashMap::new();
    for (index, object, fic) in cx.inventory.federated_credentials() {
        let (Some(identity), Some(issuer), Some(subject)) = (&fic.identity, &fic.issuer, &fic.subject) else { continue };
        let key = (identity.as_str(), issuer.as_str(), subject.as_str());
        if let Some((first, origin)) = seen.get(&key) {
            out.push(Finding::new(
                &RULE,
                index,
                fic.subject_pointer.clone(),
                format!("federated credential `{}` repeats the issuer and subject of `{first}`{origin} on identity `{identity}`", fic.azure_name),
                "remove one of the two credentials",
            ));
        } else {
            seen.insert(key, (&fic.azure_name, object.origin()));
        }
    }
}
