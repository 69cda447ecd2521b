"""The generated az script, run by bash with `az` and `kubectl` replaced by
fake_az.py: every az command line is judged by the real Azure CLI (which
parses it fully before it asks for a login), then a plausible result is
faked so the script runs through all of its branches."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

import fake_az
import wi_outside as wi

REAL_AZ = str(wi.VENV_BIN / "az")


# -- the classifier, against the real CLI ---------------------------------

# Command lines the real CLI must refuse, and the words it refuses them with.
MALFORMED = [
    (["identity", "list", "--resource-group", "rg", "--query", "x", "--bogus"], "unrecognized arguments: --bogus"),
    (["identity", "create", "--resource-group", "rg"], "the following arguments are required: -n/--name/--resource-name"),
    (["identity", "federatedcredential", "list"], "'federatedcredential' is misspelled or not recognized by the system"),
    (["identity", "show", "--resource-group", "rg", "--name", "id", "--output", "yamlx"], "'yamlx' is not a valid value for '--output'"),
    (["identity", "show", "--resource-group", "rg", "--name", "id", "--query", "[0"], "argument --query: invalid jmespath_type value"),
    (["identity", "create", "--resource-group", "rg", "--name", "id", "--location"], "argument --location/-l: expected one argument"),
    (
        ["role", "assignment", "create", "--assignee-object-id", "00000000-0000-0000-0000-000000000001",
         "--assignee-principal-type", "Bogus", "--role", "Reader", "--scope", "/subscriptions/x"],
        "'Bogus' is not a valid value for '--assignee-principal-type'",
    ),
]

# Well-formed command lines: the real CLI gets past parsing and stops at
# the missing login.
WELL_FORMED = [
    ["identity", "show", "--resource-group", "rg", "--name", "id", "--output", "none"],
    ["identity", "list", "--resource-group", "rg", "--query", "x"],
    ["identity", "federated-credential", "create", "--name", "f", "--identity-name", "id", "--resource-group", "rg",
     "--issuer", "https://example.com/", "--subject", "system:serviceaccount:a:b", "--audiences", "api://AzureADTokenExchange"],
    ["aks", "show", "--resource-group", "rg", "--name", "c", "--query", "oidcIssuerProfile.issuerUrl", "--output", "tsv"],
]


@pytest.mark.parametrize("args,message", MALFORMED, ids=[" ".join(a[:3]) for a, _ in MALFORMED])
def test_real_az_rejects_malformed_command(args, message, az_config_dir):
    result = fake_az.run_real_az(REAL_AZ, args, az_config_dir)
    assert result["class"] == "rejected", result
    assert result["returncode"] == 2, result
    assert message in result["stderr"], result["stderr"]


@pytest.mark.parametrize("args", WELL_FORMED, ids=[" ".join(a[:3]) for a in WELL_FORMED])
def test_real_az_accepts_well_formed_command_until_login(args, az_config_dir):
    result = fake_az.run_real_az(REAL_AZ, args, az_config_dir)
    assert result["class"] == "needs-login", result
    assert result["returncode"] == 1, result
    assert "Please run 'az login' to setup account." in result["stderr"], result["stderr"]


def test_wrapper_records_a_malformed_command_as_rejected(tmp_path, az_config_dir):
    """The same wrapper the script runs, on a seed-style bad command."""
    bin_dir = tmp_path / "bin"
    fake_az.write_wrappers(bin_dir)
    log = tmp_path / "calls.jsonl"
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    env.update(fake_az.wrapper_env(log=log, real_az=REAL_AZ, config_dir=az_config_dir, mode="fresh",
                                   issuer="https://example.com/", kubectl_dir=tmp_path / "kubectl"))
    script = "az identity list --resource-group rg --query x --bogus\naz identity show --resource-group rg --name id --query clientId --output tsv\n"
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    calls = [json.loads(l) for l in log.read_text().splitlines()]
    assert [c["class"] for c in calls] == ["rejected", "needs-login"], calls
    assert "unrecognized arguments: --bogus" in calls[0]["stderr"]
    assert proc.stdout.splitlines()[-1] == fake_az.fake_guid("clientId")


# -- the generated script ---------------------------------------------------


def run_script(gen: wi.Generated, tmp_path: Path, az_config_dir: str, mode: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    bin_dir = tmp_path / f"bin-{mode}"
    fake_az.write_wrappers(bin_dir)
    log = tmp_path / f"calls-{mode}.jsonl"
    log.touch()
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    env.update(fake_az.wrapper_env(
        log=log, real_az=REAL_AZ, config_dir=az_config_dir, mode=mode,
        issuer=wi.normal_issuer(gen.spec["issuer"]), kubectl_dir=tmp_path / f"kubectl-{mode}",
    ))
    proc = subprocess.run(["bash", str(gen.path("az"))], env=env, cwd=tmp_path, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=600)
    return proc, [json.loads(l) for l in log.read_text().splitlines()]


def describe(call: dict) -> str:
    first = (call["stderr"].strip().splitlines() or ["(no stderr)"])[0]
    return f"  az {shlex.join(call['args'])}\n    -> exit {call['returncode']}: {first}"


def words(call: dict) -> list[str]:
    return fake_az.command_words(call["args"])


def test_az_script_is_bash(generated):
    proc = subprocess.run(["bash", "-n", str(generated.path("az"))], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    text = generated.text("az")
    assert "set -euo pipefail" in text


@pytest.mark.parametrize("mode", ["fresh", "existing"])
def test_az_script(generated, tmp_path, az_config_dir, mode):
    spec = generated.spec
    proc, calls = run_script(generated, tmp_path, az_config_dir, mode)
    az_calls = [c for c in calls if c["tool"] == "az"]
    kubectl_calls = [c for c in calls if c["tool"] == "kubectl"]

    rejected = [c for c in az_calls if c["class"] not in fake_az.WELL_FORMED]
    assert not rejected, (
        f"the real Azure CLI rejected {len(rejected)} of {len(az_calls)} commands of {generated.path('az').name}:\n"
        + "\n".join(describe(c) for c in rejected)
    )
    assert proc.returncode == 0, f"script exited {proc.returncode} ({mode})\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"

    n_sa = len(spec["serviceAccounts"])
    roles = {(r["role"], r["scope"]) for r in spec.get("roles") or []}
    cluster = bool(spec.get("clusterName"))
    kinds = Counter(" ".join(words(c)) for c in az_calls)
    if mode == "fresh":
        # Nothing exists: the identity, each role assignment and each
        # credential is created; the cluster's features are turned on.
        least = 2 + 2 * n_sa + 2 * len(roles) + (2 if cluster else 0)
        assert kinds["identity create"] == 1, kinds
        assert kinds["role assignment create"] == len(roles), kinds
        assert kinds["identity federated-credential create"] == n_sa, kinds
        if cluster:
            assert kinds["aks update"] >= 1, kinds
    else:
        # Everything exists: nothing is created again.
        least = 2 + n_sa + len(roles) + (1 if cluster else 0)
        assert kinds["identity create"] == 0, kinds
        assert kinds["role assignment create"] == 0, kinds
        assert kinds["aks update"] == 0, kinds
    assert len(az_calls) >= least, f"only {len(az_calls)} az commands ran ({mode}), expected at least {least}: {kinds}"
    if cluster:
        assert any(fake_az.option(c["args"], "--query") == "oidcIssuerProfile.issuerUrl" for c in az_calls), kinds

    # The credentials created, as az received them.
    created = [c["args"] for c in az_calls if words(c) == ["identity", "federated-credential", "create"]]
    if mode == "fresh":
        got = sorted((fake_az.option(a, "--issuer"), fake_az.option(a, "--subject")) for a in created)
        assert got == wi.expected_pairs(spec)
        for a in created:
            assert wi.option_values(a, "--audiences") == [wi.AUDIENCE], a
            assert fake_az.option(a, "--identity-name") == spec["identityName"], a
            assert fake_az.option(a, "--resource-group") == spec["resourceGroup"], a
    for c in az_calls:
        if words(c)[:2] == ["role", "assignment"]:
            assert (fake_az.option(c["args"], "--role"), fake_az.option(c["args"], "--scope")) in roles, c["args"]

    # The ServiceAccounts the script applies.
    assert len(kubectl_calls) == 1 and kubectl_calls[0]["args"][:3] == ["apply", "-f", "-"], kubectl_calls
    applied = Path(kubectl_calls[0]["stdin"])
    assert applied.stat().st_size > 0, "kubectl apply got nothing on stdin"
    docs = [d for d in yaml.safe_load_all(applied.read_text()) if d]
    sas = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in docs if d["kind"] == "ServiceAccount"}
    assert set(sas) == {(s["namespace"], s["name"]) for s in spec["serviceAccounts"]}
    for sa in sas.values():
        # The client ID is the one the script read back from Azure.
        assert sa["metadata"]["annotations"]["azure.workload.identity/client-id"] == fake_az.fake_guid("clientId"), sa
    wi.assert_lint_clean([applied])
    wi.kubernetes_validate(applied)

    seconds = [c["seconds"] for c in az_calls]
    print(f"{len(az_calls)} real az calls, {sum(seconds):.1f}s, {sum(seconds) / len(seconds):.2f}s each")
