"""Each generated format read by an outside parser: Kubernetes YAML by
kubernetes-validate (OpenAPI schemas, strict) and PyYAML, ASO by PyYAML,
Bicep by pycep (checkov's parser), Terraform by python-hcl2, ARM by json;
plus kubectl-wi lint over the Kubernetes and ASO files together."""

from __future__ import annotations

import json
import re

import wi_outside as wi


def test_kubernetes_yaml(generated):
    spec = generated.spec
    wi.check_kubernetes_yaml(spec, generated.path("yaml"))
    wi.assert_lint_clean([generated.path("yaml"), generated.path("aso")], "--issuer", wi.normal_issuer(spec["issuer"]))


def test_aso(generated):
    spec = generated.spec
    objects = wi.aso_objects(generated.text("aso"))
    identities = [o for o in objects if o["kind"] == "UserAssignedIdentity"]
    assert len(identities) == 1, [o["kind"] for o in objects]
    identity = identities[0]
    assert identity["apiVersion"] == wi.ASO_GROUP_VERSION
    assert identity["spec"].get("azureName", identity["metadata"]["name"]) == spec["identityName"]
    assert identity["spec"]["location"]
    assert {o["kind"] for o in objects} == {"UserAssignedIdentity", "FederatedIdentityCredential"}

    fics = wi.aso_fics(generated.text("aso"))
    assert wi.pairs(fics) == wi.expected_pairs(spec)
    for f in fics:
        assert f.audiences == [wi.AUDIENCE]
    for o in objects:
        if o["kind"] == "FederatedIdentityCredential":
            assert o["spec"]["owner"]["name"] == identity["metadata"]["name"]
            assert o["metadata"].get("namespace") == identity["metadata"].get("namespace")
    # Kubernetes object names: lowercase RFC 1123 subdomains, unique.
    names = [o["metadata"]["name"] for o in objects]
    assert len(set(names)) == len(names), names
    for n in names:
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", n), n


def test_az_script_static(generated):
    """The credentials the script creates, read without running it."""
    fics = wi.az_fics(generated.text("az"))
    assert wi.pairs(fics) == wi.expected_pairs(generated.spec)
    for f in fics:
        assert f.audiences == [wi.AUDIENCE]


def test_bicep(generated):
    spec = generated.spec
    bicep = wi.Bicep(wi.parse_bicep(generated.text("bicep")))

    identities = {k: r for k, r in bicep.of_type(wi.IDENTITY_TYPE).items() if not r.get("existing")}
    assert len(identities) == 1, list(bicep.resources)
    (identity_symbol, identity), = identities.items()
    assert bicep.eval(identity["config"]["name"], {}) == spec["identityName"]

    fic_resources = bicep.of_type(wi.FIC_TYPE)
    assert fic_resources, "no federatedIdentityCredentials resource"
    for symbol, res in fic_resources.items():
        config = res["config"]
        body = config["config"] if "loop_type" in config else config
        assert body.get("parent") == identity_symbol or str(body.get("name", "")).startswith(spec["identityName"] + "/"), body
        if "loop_type" in config:
            # A loop deploys in parallel unless @batchSize(1).
            batch = [d for d in res.get("decorators", []) if d.get("type") == "batchSize"]
            assert batch and batch[0].get("argument") == 1, f"credential loop {symbol} lacks @batchSize(1): {res.get('decorators')}"
    fics = bicep.fics()
    if not any("loop_type" in r["config"] for r in fic_resources.values()):
        wi.assert_serialized(fics, "bicep")
    assert wi.pairs(fics) == wi.expected_pairs(spec)
    for f in fics:
        assert f.audiences == [wi.AUDIENCE]

    outputs = {k.lower(): v for k, v in bicep.outputs.items()}
    for key in ("clientid", "principalid"):
        assert key in outputs, list(bicep.outputs)
        assert json.dumps(outputs[key]["value"]).count(identity_symbol) == 1
        assert key in json.dumps(outputs[key]["value"]).lower()

    roles = [r for r in bicep.of_type("Microsoft.Authorization/roleAssignments").values()]
    assert len(roles) == len({(r["role"], r["scope"]) for r in spec.get("roles") or []})


def test_terraform(generated):
    spec = generated.spec
    tf = wi.Terraform(wi.parse_hcl(generated.text("terraform")))

    identities = tf.resources("azurerm_user_assigned_identity")
    assert len(identities) == 1
    (label, identity), = identities
    assert tf.value(identity["name"]) == spec["identityName"]
    assert tf.value(identity["resource_group_name"]) == spec["resourceGroup"]
    assert tf.value(identity["location"]), "identity location is empty"

    fics = tf.fics()
    assert wi.pairs(fics) == wi.expected_pairs(spec)
    for (fic_label, body), f in zip(tf.resources("azurerm_federated_identity_credential"), fics):
        assert f.audiences == [wi.AUDIENCE]
        # azurerm >= 4.x: user_assigned_identity_id; before (deprecated,
        # gone in 5.0): parent_id with resource_group_name.
        owners = [k for k in ("user_assigned_identity_id", "parent_id") if k in body]
        assert len(owners) == 1, f"{fic_label}: identity given by {owners}"
        assert tf.refs(body[owners[0]]) == [f"azurerm_user_assigned_identity.{label}.id"], body[owners[0]]
        if owners[0] == "parent_id":
            assert tf.value(body["resource_group_name"]) == spec["resourceGroup"]
    wi.assert_serialized(fics, "terraform")

    roles = tf.resources("azurerm_role_assignment")
    want = {(r["role"], r["scope"]) for r in spec.get("roles") or []}
    assert len(roles) == len(want)
    for _, body in roles:
        assert tf.value(body["scope"]) in {s for _, s in want}
        assert tf.refs(body["principal_id"]) == [f"azurerm_user_assigned_identity.{label}.principal_id"]
        assert "role_definition_name" in body or "role_definition_id" in body

    outputs = tf.outputs()
    refs = {r for o in outputs.values() for r in tf.refs(o["value"])}
    assert f"azurerm_user_assigned_identity.{label}.client_id" in refs, outputs
    assert f"azurerm_user_assigned_identity.{label}.principal_id" in refs, outputs


def test_arm(generated):
    spec = generated.spec
    template = json.loads(generated.text("arm"))
    assert wi.ARM_SCHEMA.match(template.get("$schema", "")), template.get("$schema")
    assert template.get("contentVersion")
    arm = wi.Arm(template)

    identities = arm.resources(wi.IDENTITY_TYPE)
    assert len(identities) == 1
    assert arm.value(identities[0]["name"]) == spec["identityName"]
    identity_id = f"{wi.IDENTITY_TYPE}/{spec['identityName']}".lower()

    fics = arm.fics()
    assert wi.pairs(fics) == wi.expected_pairs(spec)
    for f, res in zip(fics, arm.resources(wi.FIC_TYPE)):
        assert f.audiences == [wi.AUDIENCE]
        assert arm.value(res["name"]).startswith(spec["identityName"] + "/")
        assert identity_id in f.depends_on, f"{f.symbol} does not depend on the identity: {f.depends_on}"
    wi.assert_serialized(fics, "arm")

    want_roles = {(r["role"], r["scope"]) for r in spec.get("roles") or []}
    assert len(arm.resources("Microsoft.Authorization/roleAssignments")) == len(want_roles)

    outputs = {k.lower(): v for k, v in template.get("outputs", {}).items()}
    for key, prop in (("clientid", "clientId"), ("principalid", "principalId")):
        assert key in outputs, list(template.get("outputs", {}))
        value = outputs[key]["value"]
        assert re.match(r"^\[reference\(.*userAssignedIdentities.*\)\." + prop + r"\]$", value), value
