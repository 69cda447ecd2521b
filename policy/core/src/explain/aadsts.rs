//! The `AADSTS` errors a Workload ID user meets when the projected token is
//! exchanged for an Entra token, as data: what Entra says, the cause in a
//! Workload ID setup, how to confirm it, the fix, and where each fact was
//! read. Microsoft's error reference does not list the federation codes
//! (70021, 700211-700213, 7002138, 700024); their texts come from Microsoft's
//! other pages and from Entra's own responses quoted in public issues.

/// One error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aadsts {
    pub code: u32,
    /// Entra's message (or its start), as Entra returns it.
    pub message: &'static str,
    pub cause: &'static str,
    pub confirm: &'static str,
    pub fix: &'static str,
    /// Public pages the facts above were read from.
    pub sources: &'static [&'static str],
}

/// Entra's page for any code, including those not here.
pub const LOOKUP_URL: &str = "https://login.microsoftonline.com/error?code=";

const AWI_TROUBLESHOOTING: &str = "https://azure.github.io/azure-workload-identity/docs/troubleshooting.html";
const FIC_CONSIDERATIONS: &str = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations";
const DEVOPS_TROUBLESHOOTING: &str = "https://learn.microsoft.com/azure/devops/pipelines/release/troubleshoot-workload-identity";
const CASE_SENSITIVE: &str = "https://learn.microsoft.com/entra/identity-platform/reference-breaking-changes#federated-identity-credentials-now-use-case-sensitive-matching";
const ERROR_REFERENCE: &str = "https://learn.microsoft.com/entra/identity-platform/reference-error-codes";
const FIC_OVERVIEW: &str = "https://learn.microsoft.com/graph/api/resources/federatedidentitycredentials-overview";
const AKS_OVERVIEW: &str = "https://learn.microsoft.com/azure/aks/workload-identity-overview";

const COMPARE: &str = "decode the pod's token (`kubectl wi explain token TOKEN --fic FICS.json`, with the token from `kubectl exec POD -- cat \"$AZURE_FEDERATED_TOKEN_FILE\"` and the credentials from `az identity federated-credential list --identity-name ID --resource-group RG -o json`)";

pub const CODES: &[Aadsts] = &[
    Aadsts {
        code: 70021,
        message: "No matching federated identity record found for presented assertion. Assertion Issuer: '...'. Assertion Subject: '...'. Assertion Audience: '...'.",
        cause: "No federated identity credential (FIC) on the identity matches the token's issuer, subject and audience together. The most common cause on AKS is an issuer without the trailing `/` the cluster's issuer has; a FIC created moments ago may also not have propagated yet.",
        confirm: "Compare the three `Assertion` values in the message, character for character, with the FIC's issuer, subject and audience: `kubectl wi explain token` does it and names the field; `az aks show -n CLUSTER -g RG --query oidcIssuerProfile.issuerUrl -o tsv` prints the issuer the FIC needs.",
        fix: "Create or update the FIC with the exact values: issuer = the cluster's `oidcIssuerProfile.issuerUrl` including its trailing `/`, subject = `system:serviceaccount:<namespace>:<serviceaccount>`, audience = `api://AzureADTokenExchange`. After creating one, retry for a few minutes.",
        sources: &[AWI_TROUBLESHOOTING, FIC_CONSIDERATIONS, DEVOPS_TROUBLESHOOTING],
    },
    Aadsts {
        code: 700211,
        message: "No matching federated identity record found for presented assertion issuer '...'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.",
        cause: "The token's issuer (`iss`) equals no FIC's issuer: a missing or extra trailing `/`, the issuer of another cluster (each has its own), or a FIC made before the OIDC issuer was enabled.",
        confirm: COMPARE,
        fix: "Set the FIC's issuer to the token's `iss` exactly (for AKS, `az aks show ... --query oidcIssuerProfile.issuerUrl -o tsv`).",
        sources: &[DEVOPS_TROUBLESHOOTING, AWI_TROUBLESHOOTING, "https://github.com/Azure/azure-workload-identity/issues/1200"],
    },
    Aadsts {
        code: 700212,
        message: "No matching federated identity record found for presented assertion audience '...'.",
        cause: "The token's audience (`aud`) is not the FIC's audience. A Workload ID FIC holds exactly one audience, `api://AzureADTokenExchange`, which the webhook's projected token carries.",
        confirm: COMPARE,
        fix: "Set the FIC's audiences to `[\"api://AzureADTokenExchange\"]`, and use the webhook's token (`$AZURE_FEDERATED_TOKEN_FILE`), not a token requested with another audience.",
        sources: &[FIC_CONSIDERATIONS, "https://docs.gitlab.com/ci/cloud_services/azure/"],
    },
    Aadsts {
        code: 700213,
        message: "No matching federated identity record found for presented assertion subject '...'. Please note that matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience, and Issuer against the presented assertion.",
        cause: "The token's subject (`system:serviceaccount:<namespace>:<serviceaccount>`) equals no FIC's subject: another namespace or ServiceAccount, a pod running as a different ServiceAccount than the FIC names, or a FIC on another identity than the ServiceAccount's client-id annotation names.",
        confirm: "Compare the token's `sub` with the FIC subjects (`kubectl wi explain token`); check the pod's `spec.serviceAccountName` and that the ServiceAccount's `azure.workload.identity/client-id` is the clientId of the identity holding the FIC (`az identity show -g RG -n ID --query clientId -o tsv`). `kubectl wi lint` checks all three from manifests.",
        fix: "Set the FIC's subject to `system:serviceaccount:<namespace>:<serviceaccount>` exactly, letter case included.",
        sources: &[CASE_SENSITIVE, DEVOPS_TROUBLESHOOTING, FIC_OVERVIEW],
    },
    Aadsts {
        code: 7002138,
        message: "No matching federated identity record found for presented assertion subject '...'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison.",
        cause: "The FIC's subject differs from the token's only in letter case. Entra has compared issuer, subject and audience case-sensitively since 2024; Kubernetes namespace and ServiceAccount names are lower case, so a FIC typed with capitals never matches.",
        confirm: COMPARE,
        fix: "Recreate the FIC with the subject in the token's exact letter case (lower case for Kubernetes names).",
        sources: &[CASE_SENSITIVE, FIC_OVERVIEW, "https://github.com/Azure/login/issues/515"],
    },
    Aadsts {
        code: 700024,
        message: "Client assertion is not within its valid time range. Current time: ..., assertion valid from ..., expiry time of assertion ...",
        cause: "The token had expired (or was not yet valid) when it was exchanged: usually an application that read the token file once and kept the token; kubelet rewrites the file before it expires (at 80% of its lifetime, one hour by default). A node clock far off gives the same error.",
        confirm: "Compare the times in the message with the token's `nbf` and `exp` (`kubectl wi explain token TOKEN --now TIME`).",
        fix: "Read `$AZURE_FEDERATED_TOKEN_FILE` again for every exchange (the Azure Identity SDKs do); check the node's clock.",
        sources: &[DEVOPS_TROUBLESHOOTING, AKS_OVERVIEW, "https://github.com/Azure/azure-workload-identity/issues/693"],
    },
    Aadsts {
        code: 700016,
        message: "UnauthorizedClient_DoesNotMatchRequest - The application wasn't found in the directory/tenant.",
        cause: "`AZURE_CLIENT_ID` names no application or managed identity in the tenant: a wrong value in the ServiceAccount's `azure.workload.identity/client-id` (for example the identity's principal/object ID instead of its client ID), an identity that was deleted, or the wrong tenant.",
        confirm: "Print `AZURE_CLIENT_ID` and `AZURE_TENANT_ID` in the pod (`kubectl exec POD -- env`) and compare with `az identity show -g RG -n ID --query \"{clientId:clientId,tenantId:tenantId}\"`.",
        fix: "Put the identity's clientId in the ServiceAccount's `azure.workload.identity/client-id` annotation, then restart the pods (the webhook injects it at pod creation).",
        sources: &[ERROR_REFERENCE, AKS_OVERVIEW, DEVOPS_TROUBLESHOOTING],
    },
    Aadsts {
        code: 50034,
        message: "UserAccountNotFound - To sign into this application, the account must be added to the directory.",
        cause: "A user sign-in error, not a federated-credential one: no public report ties it to a Workload ID token exchange. In a Workload ID pod it points at a credential chain that tries a user account, or at the wrong tenant.",
        confirm: "Check which credential the application uses (the SDK's logs name it) and `AZURE_TENANT_ID` in the pod.",
        fix: "Use the SDK's Workload Identity credential (or DefaultAzureCredential) so the federated token is used, with the identity's tenant.",
        sources: &[ERROR_REFERENCE],
    },
    Aadsts {
        code: 90002,
        message: "Tenant '...' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
        cause: "`AZURE_TENANT_ID` is wrong or malformed (from the ServiceAccount's `azure.workload.identity/tenant-id` or the webhook's configuration), or `AZURE_AUTHORITY_HOST` points at another cloud than the tenant's.",
        confirm: "Print `AZURE_TENANT_ID` and `AZURE_AUTHORITY_HOST` in the pod and compare with `az account show --query tenantId -o tsv`.",
        fix: "Correct the tenant-id annotation (a GUID) or the webhook's tenant, and the authority host for sovereign clouds; restart the pods.",
        sources: &[ERROR_REFERENCE, "https://github.com/kubernetes-sigs/external-dns/pull/4418"],
    },
    Aadsts {
        code: 700027,
        message: "Client assertion failed signature validation.",
        cause: "Entra could not verify the assertion's signature. For a Workload ID token it means the signing key is not in the issuer's published keys (`<issuer>openid/v1/jwks`): keys rotated while pods kept old tokens, or a self-managed cluster whose JWKS is stale. (Entra has also answered such tokens with AADSTS7000272, naming the key it could not find.)",
        confirm: "Compare the token's `kid` with the keys at `<issuer>openid/v1/jwks`; `kubectl wi explain token TOKEN --jwks JWKS.json` verifies the signature offline.",
        fix: "Restart the pods so they get tokens signed with a current key (on AKS after `az aks oidc-issuer rotate-signing-keys`); on self-managed clusters publish the current public keys and keep old ones until old tokens expire.",
        sources: &[ERROR_REFERENCE, "https://learn.microsoft.com/azure/aks/use-oidc-issuer", "https://github.com/Azure/azure-workload-identity/issues/1232"],
    },
];

/// The entry for `AADSTS70021`, `aadsts70021` or `70021`.
pub fn find(text: &str) -> Result<&'static Aadsts, String> {
    let digits = text.trim();
    let digits = if digits.len() > 6 && digits[..6].eq_ignore_ascii_case("AADSTS") { &digits[6..] } else { digits };
    let code: u32 = digits
        .parse()
        .ok()
        .filter(|_| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| format!("`{text}` is not an AADSTS code (such as AADSTS70021 or 70021)"))?;
    CODES.iter().find(|c| c.code == code).ok_or_else(|| {
        let known: Vec<String> = CODES.iter().map(|c| c.code.to_string()).collect();
        format!("AADSTS{code} is not one a Workload ID setup usually meets (known here: {}); Entra explains every code at {LOOKUP_URL}{code}", known.join(", "))
    })
}

/// `explain AADSTSnnnnn` as text.
pub fn render(entry: &Aadsts) -> String {
    let mut out = format!("AADSTS{}: {}\n\n## Cause\n{}\n\n## Confirm\n{}\n\n## Fix\n{}\n\n## Sources\n", entry.code, entry.message, entry.cause, entry.confirm, entry.fix);
    for source in entry.sources {
        out.push_str(&format!("- {source}\n"));
    }
    out.push_str(&format!("- {LOOKUP_URL}{}\n", entry.code));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_found_in_every_spelling_and_unknown_ones_point_to_entra() {
        for text in ["AADSTS70021", "aadsts70021", "70021", " 70021\n"] {
            assert_eq!(find(text).unwrap().code, 70021, "{text:?}");
        }
        assert!(find("AADSTS12345").unwrap_err().contains("https://login.microsoftonline.com/error?code=12345"));
        for bad in ["", "AADSTS", "AADSTS-1", "WI003", "7002138x", "99999999999999999999"] {
            assert!(find(bad).is_err(), "{bad:?}");
        }
        let issue_list = [70021, 700211, 700212, 700213, 7002138, 700024, 700016, 50034, 90002, 700027];
        for code in issue_list {
            let entry = find(&code.to_string()).unwrap();
            assert!(!entry.sources.is_empty() && entry.sources.iter().all(|s| s.starts_with("https://")), "{code}");
        }
    }
}
