"""generate's identity-binding mode (`identityBinding: true`), each format
read by an outside parser: the Kubernetes YAML by kubernetes-validate and
PyYAML, the az script run with the real Azure CLI judging every command,
Bicep by pycep, Terraform by python-hcl2, ARM and ASO as data. A binding
replaces every federated credential: none may be written."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

import fake_az
import wi_outside as wi
from test_az_script import REAL_AZ, describe, words

SPEC = Path(__file__).resolve().parent / "binding" / "orders.yaml"
BINDING_TYPE = "Microsoft.ContainerService/managedClusters/identityBindings"
BINDING_API = "2026-04-01"
RBAC_GROUP = "cid.wi.aks.azure.com"
BINDING_ANNOTATION = "azure.workload.identity/use-identity-binding"
# The identity name's letters and digits: binding names have no `-`.
BINDING_NAME = "idorders"


@pytest.fixture
def generated(cli, tmp_path) -> wi.Generated:
    return wi.generate(SPEC, tmp_path / "out")


def kubernetes_objects(path: Path) -> dict[str, list[dict]]:
    by_kind: dict[str, list[dict]] = {}
    for d in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        if d:
            by_kind.setdefault(d["kind"], []).append(d)
    return by_kind


def assert_rbac_grants(by_kind: dict[str, list[dict]], client_id: str, service_accounts: set[tuple[str, str]]) -> None:
    """One ClusterRole allowing `use-managed-identity` on the client ID in
    AKS's group, bound to exactly the spec's ServiceAccounts."""
    (role,) = by_kind["ClusterRole"]
    assert role["rules"] == [{"apiGroups": [RBAC_GROUP], "resources": [client_id], "verbs": ["use-managed-identity"]}], role
    (binding,) = by_kind["ClusterRoleBinding"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role["metadata"]["name"]}
    subjects = {(s["namespace"], s["name"]) for s in binding["subjects"] if s["kind"] == "ServiceAccount"}
    assert subjects == service_accounts and len(binding["subjects"]) == len(subjects), binding["subjects"]


def spec_accounts(spec: dict) -> set[tuple[str, str]]:
    return {(s["namespace"], s["name"]) for s in spec["serviceAccounts"]}


def test_kubernetes_yaml(generated):
    spec, path = generated.spec, generated.path("yaml")
    wi.kubernetes_validate(path)
    by_kind = kubernetes_objects(path)
    assert set(by_kind) == {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment"}, set(by_kind)
    for sa in by_kind["ServiceAccount"]:
        assert sa["metadata"]["annotations"][wi.CLIENT_ID_ANNOTATION] == spec["clientId"]
    assert_rbac_grants(by_kind, spec["clientId"], spec_accounts(spec))
    for d in by_kind["Deployment"]:
        meta = d["spec"]["template"]["metadata"]
        assert meta["labels"][wi.USE_LABEL] == "true"
        assert meta["annotations"] == {BINDING_ANNOTATION: "true"}, meta
    # Pods opting in to a binding, with their grant: nothing for lint.
    wi.assert_lint_clean([path])


def test_no_credentials_anywhere(generated):
    for fmt in ("aso", "az", "bicep", "arm", "terraform"):
        text = generated.text(fmt).lower()
        assert "federatedidentitycredential" not in text and "federated-credential" not in text and "federated_identity_credential" not in text, fmt
    assert "issuer" not in json.loads(generated.text("arm"))["parameters"]


def test_bicep(generated):
    bicep = wi.Bicep(wi.parse_bicep(generated.text("bicep")))
    clusters = bicep.of_type("Microsoft.ContainerService/managedClusters")
    ((cluster_symbol, cluster),) = clusters.items()
    assert cluster.get("existing"), cluster
    assert bicep.eval(cluster["config"]["name"], {}) == generated.spec["clusterName"]
    (identity_symbol,) = [k for k, r in bicep.of_type(wi.IDENTITY_TYPE).items() if not r.get("existing")]
    ((_, binding),) = bicep.of_type(BINDING_TYPE).items()
    assert binding["api_version"] == BINDING_API, binding
    body = binding["config"]
    assert body["parent"] == cluster_symbol
    assert bicep.eval(body["name"], {}) == BINDING_NAME
    resource_id = body["properties"]["managedIdentity"]["resourceId"]
    assert json.dumps(resource_id).count(identity_symbol) == 1 and '"id"' in json.dumps(resource_id), resource_id
    assert len(bicep.of_type("Microsoft.Authorization/roleAssignments")) == 1


def test_arm(generated):
    template = json.loads(generated.text("arm"))
    arm = wi.Arm(template)
    (binding,) = arm.resources(BINDING_TYPE)
    assert binding["apiVersion"] == BINDING_API
    assert arm.value(binding["name"]) == f"{generated.spec['clusterName']}/{BINDING_NAME}"
    identity = wi.ResourceId(wi.IDENTITY_TYPE, generated.spec["identityName"])
    assert arm.value(binding["properties"]["managedIdentity"]["resourceId"]) == identity
    assert f"{wi.IDENTITY_TYPE}/{generated.spec['identityName']}".lower() in [
        f"{r.type}/{r.name}".lower() for r in arm.value(binding["dependsOn"])
    ]


def test_terraform(generated):
    spec = generated.spec
    tf = wi.Terraform(wi.parse_hcl(generated.text("terraform")))
    providers = {k: v for block in tf.doc["terraform"] for p in block["required_providers"] for k, v in p.items()}
    assert tf.value(providers["azapi"]["source"]) == "Azure/azapi", providers
    (cluster,) = [(label, body) for t, label, body in tf.blocks("data") if t == "azurerm_kubernetes_cluster"]
    assert tf.value(cluster[1]["name"]) == spec["clusterName"]
    assert tf.value(cluster[1]["resource_group_name"]) == spec["resourceGroup"]
    ((_, binding),) = tf.resources("azapi_resource")
    assert tf.value(binding["type"]) == f"{BINDING_TYPE}@{BINDING_API}"
    assert tf.value(binding["name"]) == BINDING_NAME
    assert tf.refs(binding["parent_id"]) == [f"data.azurerm_kubernetes_cluster.{cluster[0]}.id"]
    ((identity_label, _),) = tf.resources("azurerm_user_assigned_identity")
    resource_id = binding["body"]["properties"]["managedIdentity"]["resourceId"]
    assert tf.refs(resource_id) == [f"azurerm_user_assigned_identity.{identity_label}.id"], binding["body"]


def test_aso(generated):
    objects = wi.aso_objects(generated.text("aso"))
    kinds = Counter(o["kind"] for o in objects)
    assert kinds == Counter({"UserAssignedIdentity": 1, "IdentityBinding": 1}), kinds
    (identity,) = [o for o in objects if o["kind"] == "UserAssignedIdentity"]
    (binding,) = [o for o in objects if o["kind"] == "IdentityBinding"]
    assert binding["apiVersion"] == "containerservice.azure.com/v1api20251002preview"
    assert binding["spec"]["azureName"] == BINDING_NAME
    spec = generated.spec
    assert binding["spec"]["owner"] == {
        "armId": f"/subscriptions/{spec['subscriptionId']}/resourceGroups/{spec['resourceGroup']}/providers/Microsoft.ContainerService/managedClusters/{spec['clusterName']}"
    }
    assert binding["spec"]["properties"]["managedIdentity"]["resourceReference"] == {
        "group": "managedidentity.azure.com", "kind": "UserAssignedIdentity", "name": identity["metadata"]["name"],
    }
    assert binding["metadata"]["namespace"] == identity["metadata"]["namespace"]


@pytest.mark.parametrize("mode", ["fresh", "existing"])
def test_az_script(cli, tmp_path, az_config_dir, mode):
    """The cluster in a resource group of its own: the binding goes there."""
    spec = dict(wi.load_spec(SPEC), clusterResourceGroup="rg-aks")
    gen = wi.generate(spec, tmp_path / "out", fmt="az")
    from test_az_script import run_script

    gen.spec["issuer"] = "https://example.invalid/"  # only the fake's --query issuerUrl answer
    proc, calls = run_script(gen, tmp_path, az_config_dir, mode)
    az_calls = [c for c in calls if c["tool"] == "az"]
    rejected = [c for c in az_calls if c["class"] not in fake_az.WELL_FORMED]
    assert not rejected, "the real Azure CLI rejected:\n" + "\n".join(describe(c) for c in rejected)
    assert proc.returncode == 0, proc.stderr
    kinds = Counter(" ".join(words(c)) for c in az_calls)
    assert kinds["identity federated-credential create"] == 0 and kinds["identity federated-credential show"] == 0, kinds
    assert kinds["aks identity-binding show"] == 1, kinds
    created = [c["args"] for c in az_calls if words(c) == ["aks", "identity-binding", "create"]]
    if mode == "existing":
        assert created == [], created
    else:
        (args,) = created
        assert fake_az.option(args, "--resource-group") == "rg-aks"
        assert fake_az.option(args, "--cluster-name") == spec["clusterName"]
        assert fake_az.option(args, "--name") == BINDING_NAME
        # The ID the script read back from `az identity show --query id`.
        assert fake_az.option(args, "--managed-identity-resource-id").startswith("/subscriptions/"), args

    (apply,) = [c for c in calls if c["tool"] == "kubectl"]
    applied = Path(apply["stdin"])
    by_kind = kubernetes_objects(applied)
    assert_rbac_grants(by_kind, fake_az.fake_guid("clientId"), spec_accounts(spec))
    wi.kubernetes_validate(applied)
    wi.assert_lint_clean([applied])
