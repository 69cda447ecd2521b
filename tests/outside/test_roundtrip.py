"""Random valid specs through `generate --format all`: every format must
declare exactly the federated credentials the spec asks for, read back by
outside parsers, and kubectl-wi lint must find the Kubernetes side wired to
them (as `az identity federated-credential list` would print them)."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import wi_outside as wi

REGIONS = ["eastus", "westeurope", "northeurope", "uksouth", "australiaeast", "eastus2", "swedencentral"]
ROLES = [
    "Reader", "Contributor", "AcrPull", "Key Vault Secrets User", "key vault secrets user",
    "Storage Blob Data Reader", "Storage Blob Data Contributor", "Azure Service Bus Data Receiver",
    "Monitoring Metrics Publisher",
]

guid = st.uuids().map(str)
short_label = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6}){0,2}", fullmatch=True)
any_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", fullmatch=True)
dns_label = st.one_of(short_label, short_label, short_label, any_label)
# ServiceAccount names are DNS subdomains: sometimes dotted.
sa_name = st.one_of(dns_label, dns_label, dns_label, st.builds(lambda a, b: f"{a}.{b}", short_label, short_label))
identity_name = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{2,40}", fullmatch=True)
resource_group = st.from_regex(r"[A-Za-z0-9_()-][A-Za-z0-9_().-]{0,28}[A-Za-z0-9_()-]", fullmatch=True)

aks_issuer = st.builds(
    lambda region, a, b, slash: f"https://{region}.oic.prod-aks.azure.com/{a}/{b}" + ("/" if slash else ""),
    st.sampled_from(REGIONS), guid, guid, st.sampled_from([True, True, True, False]),
)
host = st.lists(short_label, min_size=2, max_size=4).map(".".join)
# Paths with characters every format must quote: ' $ ( ) & ; and the other
# RFC 3986 sub-delims are valid in an issuer URL (generate refuses " ` { }
# and the rest that a URL only holds %-escaped).
path_segment = st.one_of(
    st.from_regex(r"[A-Za-z0-9._~-]{1,16}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9._~'$!*()+,;=@&:-]{1,12}", fullmatch=True),
)
other_issuer = st.builds(
    lambda h, port, segs, slash: f"https://{h}{port}" + "".join("/" + s for s in segs) + ("/" if slash and segs else ""),
    host, st.sampled_from(["", "", ":8443"]), st.lists(path_segment, max_size=3), st.booleans(),
)
issuer = st.one_of(aks_issuer, aks_issuer, other_issuer)


def default_fic_name(ns: str, name: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", f"{ns}-{name}").lower()


# A long prefix shared by a spec's ServiceAccount names: names that differ
# only near the 63-character limit of what is derived from them.
long_prefix = st.from_regex(r"[a-z][a-z0-9-]{50,58}-", fullmatch=True)


@st.composite
def specs(draw) -> dict:
    if draw(st.integers(0, 4)) == 0:
        # Several ServiceAccounts of one namespace, named alike up to near
        # the 63 characters of a DNS label.
        ns, prefix = draw(dns_label), draw(long_prefix)
        names = draw(st.lists(short_label, min_size=2, max_size=4, unique=True))
        pairs = [(ns, prefix + n) for n in names]
        assume(all(len(sa) <= 63 for _, sa in pairs))
    else:
        pairs = draw(st.lists(st.tuples(dns_label, sa_name), min_size=1, max_size=5, unique=True))
    # Two pairs whose `<namespace>-<name>` credential names coincide are
    # refused by generate (WI025); a spec must avoid that.
    assume(len({default_fic_name(*p) for p in pairs}) == len(pairs))
    namespaces = sorted({ns for ns, _ in pairs})
    pairs = [(draw(st.sampled_from(namespaces + ["default"])) if draw(st.integers(0, 9)) == 0 else ns, sa) for ns, sa in pairs]
    assume(len(set(pairs)) == len(pairs) and len({default_fic_name(*p) for p in pairs}) == len(pairs))
    # The `default` ServiceAccount is every pod's: lint warns (WI012) when a
    # workload opts in with it, so it is no spec to generate a workload for.
    assume(all(sa != "default" for _, sa in pairs))
    spec = {
        "name": draw(dns_label),
        "serviceAccounts": [{"namespace": ns, "name": sa} for ns, sa in pairs],
        "identityName": draw(identity_name),
        "resourceGroup": draw(resource_group),
        "issuer": draw(issuer),
        "tenantId": draw(guid),
        "clientId": draw(guid),
    }
    aks = ".oic.prod-aks.azure.com/" in spec["issuer"]
    if draw(st.booleans()):
        spec["subscriptionId"] = draw(guid)
    if not aks or draw(st.booleans()):
        spec["location"] = draw(st.one_of(st.sampled_from(REGIONS), st.just("East US 2")))
    if draw(st.booleans()):
        spec["clusterName"] = draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,30}", fullmatch=True))
    if draw(st.booleans()):
        spec["image"] = draw(st.builds(lambda r, n, t: f"{r}/{n}:{t}", host, short_label, st.from_regex(r"[a-z0-9][a-z0-9.]{0,8}", fullmatch=True)))
    sub = spec.get("subscriptionId") or draw(guid)
    scope = st.builds(
        lambda rg, tail: f"/subscriptions/{sub}/resourceGroups/{rg}{tail}",
        st.sampled_from([spec["resourceGroup"], spec["resourceGroup"].lower()]),
        st.one_of(
            st.just(""),
            short_label.map(lambda kv: f"/providers/Microsoft.KeyVault/vaults/{kv}"),
            st.builds(lambda a, c: f"/providers/Microsoft.Storage/storageAccounts/{a}/blobServices/default/containers/{c}", short_label, short_label),
        ),
    )
    roles = draw(st.lists(st.tuples(st.sampled_from(ROLES), scope), max_size=3, unique=True))
    if roles:
        spec["roles"] = [{"role": r, "scope": s} for r, s in roles]
    return spec


def az_role_pairs_list(script: str) -> list[tuple[str, str]]:
    return [
        (wi.option_values(words, "--role")[0], wi.option_values(words, "--scope")[0])
        for words in wi.az_commands(script, "role", "assignment", "create")
    ]


EXAMPLE = {
    "name": "quoting",
    "serviceAccounts": [{"namespace": "a-b", "name": "c"}, {"namespace": "a", "name": "b.d"}, {"namespace": "default", "name": "x"}],
    "identityName": "id_1-x",
    "resourceGroup": "rg(1).x",
    "issuer": "https://issuer.example.com:8443/a'b/$x/(q)/$(id)/%41;z=1&w/*c+,@:/",
    "tenantId": "00000000-0000-0000-0000-000000000001",
    "clientId": "00000000-0000-0000-0000-000000000002",
    "location": "East US 2",
    "roles": [{"role": "Reader", "scope": "/subscriptions/00000000-0000-0000-0000-000000000003/resourceGroups/RG(1).X"}],
}


# Two ServiceAccounts in one namespace whose names differ only past the
# 63 characters a Deployment name `<app>-<sa>` keeps.
LONG_NAMES = {
    "name": "app",
    "serviceAccounts": [
        {"namespace": "shop", "name": "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abc-x1"},
        {"namespace": "shop", "name": "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abc-x2"},
    ],
    "identityName": "id-app",
    "resourceGroup": "rg-app",
    "issuer": "https://eastus.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000001/00000000-0000-0000-0000-000000000002/",
    "tenantId": "00000000-0000-0000-0000-000000000003",
    "clientId": "00000000-0000-0000-0000-000000000004",
    "image": "nginx:1.27",
}


@settings(max_examples=int(os.environ.get("WI_ROUNDTRIP_EXAMPLES", "50")), deadline=None)
@example(EXAMPLE)
@example(LONG_NAMES)
@given(specs())
def test_roundtrip(cli, spec):
    with tempfile.TemporaryDirectory(prefix="wi-roundtrip-") as tmp:
        tmp = Path(tmp)
        gen = wi.generate(spec, tmp / "out", via_stdin=len(spec["serviceAccounts"]) % 2 == 0)
        expected = wi.expected_pairs(spec)

        found = wi.all_fics(gen)
        wrong = {fmt: wi.pairs(fics) for fmt, fics in found.items() if wi.pairs(fics) != expected}
        assert not wrong, f"expected {expected}\nbut: " + json.dumps(wrong, indent=1)
        for fmt, fics in found.items():
            for f in fics:
                assert f.audiences == [wi.AUDIENCE], (fmt, f)
        # One credential name per ServiceAccount, the same in every format.
        names = {fmt: sorted(f.name for f in fics) for fmt, fics in found.items()}
        assert len({json.dumps(v) for v in names.values()}) == 1, names
        for n in names["arm"]:
            assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{2,119}", n), n
        wi.assert_serialized(found["terraform"], "terraform")
        wi.assert_serialized(found["arm"], "arm")

        # Roles: az and terraform name them as given, each grant once (Azure
        # names and IDs compare without regard to letter case).
        want_roles = {(r["role"].lower(), r["scope"].lower()) for r in spec.get("roles", [])}
        az_roles = [(r.lower(), s.lower()) for r, s in az_role_pairs_list(gen.text("az"))]
        assert sorted(az_roles) == sorted(want_roles)
        tf = wi.Terraform(wi.parse_hcl(gen.text("terraform")))
        tf_roles = [(tf.value(b.get("role_definition_name", b.get("role_definition_id"))).lower(), tf.value(b["scope"]).lower()) for _, b in tf.resources("azurerm_role_assignment")]
        assert sorted(tf_roles) == sorted(want_roles)

        wi.check_kubernetes_yaml(spec, gen.path("yaml"), in_process=True)

        # The Kubernetes side against the credentials as Azure would list them.
        for fmt in ("arm", "terraform"):
            listed = wi.az_list_json(
                found[fmt], subscription=spec.get("subscriptionId", "00000000-0000-0000-0000-000000000000"),
                resource_group=spec["resourceGroup"], identity=spec["identityName"],
            )
            listing = tmp / f"fic-list-{fmt}.json"
            listing.write_text(json.dumps(listed, indent=2))
            wi.assert_lint_clean([gen.path("yaml"), listing], "--issuer", wi.normal_issuer(spec["issuer"]))
