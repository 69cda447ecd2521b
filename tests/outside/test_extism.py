"""The Extism plugin (bundles/extism/wi_policy_extism.wasm, `make extism`)
under PyPI's `extism` host, an implementation nobody on this project wrote:
every lint and mutation fixture gives exactly what `kubectl wi lint -o json`
and `kubectl wi mutate -o json` print for it, and bad input is a plugin
error carrying the CLI's message, never a trap."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import extism
import pytest

import wi_outside

PLUGIN = wi_outside.REPO / "bundles" / "extism" / "wi_policy_extism.wasm"
FIXTURES = wi_outside.REPO / "tests" / "fixtures"


def cases(table: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / table).iterdir() if p.suffix in (".yaml", ".json", ".tf") and not p.name.endswith(".expected.json"))


def fixture_args(path: Path) -> list[str]:
    for line in path.read_text().splitlines():
        if line.startswith("# args:"):
            return line[len("# args:"):].split()
    return []


# The CLI's flags, as the plugin's camelCase input fields.
FLAG_FIELDS = {"--issuer": "issuer", "--layout": "layout", "--tenant-id": "tenantId", "--authority-host": "authorityHost", "-n": "namespace", "--kubernetes-version": "kubernetesVersion",
               "--webhook-version": "webhookVersion", "--keda-namespace": "kedaNamespace", "--token-proxy": "tokenProxy",
               "--token-proxy-sni-name": "tokenProxySniName", "--token-proxy-ca-config-map": "tokenProxyCaConfigMap"}


def request(path: Path, args: list[str]) -> dict:
    req: dict = {"files": [{"path": str(path.relative_to(wi_outside.REPO)), "content": path.read_text()}]}
    for flag, value in zip(args[::2], args[1::2]):
        if flag == "--allowed-client-ids":
            namespace, ids = value.split("=", 1)
            req.setdefault("allowedClientIds", {})[namespace] = ids.split(",")
        else:
            req[FLAG_FIELDS[flag]] = value
    return req


@pytest.fixture(scope="module")
def plugin():
    if not PLUGIN.exists():
        pytest.fail(f"{PLUGIN} is missing: run `make extism`", pytrace=False)
    with extism.Plugin(PLUGIN.read_bytes(), wasi=False) as p:
        yield p


def call(plugin, name: str, payload) -> dict:
    return json.loads(bytes(plugin.call(name, json.dumps(payload))).decode())


def run_cli(cli: Path, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(cli), *args], cwd=wi_outside.REPO, capture_output=True, text=True)


@pytest.mark.parametrize("path", cases("lint"), ids=lambda p: p.name)
def test_lint_equals_the_cli(plugin, cli, path):
    args = fixture_args(path)
    printed = run_cli(cli, ["lint", "-f", str(path.relative_to(wi_outside.REPO)), "-o", "json", *args])
    assert printed.returncode in (0, 1), printed.stderr
    assert call(plugin, "lint", request(path, args)) == json.loads(printed.stdout)


@pytest.mark.parametrize("path", cases("mutate"), ids=lambda p: p.name)
def test_mutate_equals_the_cli(plugin, cli, path):
    args = fixture_args(path)
    printed = run_cli(cli, ["mutate", "-f", str(path.relative_to(wi_outside.REPO)), "-o", "json", *args])
    if printed.returncode == 0:
        assert call(plugin, "mutate", request(path, args)) == json.loads(printed.stdout)
    else:
        # A refusal or an input error: the plugin's error carries the CLI's lines.
        with pytest.raises(extism.Error) as refused:
            call(plugin, "mutate", request(path, args))
        for line in printed.stderr.splitlines():
            if ": error: " in line:
                assert line in str(refused.value)


def test_rules_and_explain(plugin, cli):
    printed = json.loads(run_cli(cli, ["rules", "-o", "json"]).stdout)
    assert call(plugin, "rules", "") == printed
    assert call(plugin, "explain", {"topic": "WI030"})["code"] == "WI030"
    assert call(plugin, "explain", {"topic": "70021"})["text"] == run_cli(cli, ["explain", "70021"]).stdout
    explain = FIXTURES / "explain"
    token = {"path": "tests/fixtures/explain/shop-web.jwt", "content": (explain / "shop-web.jwt").read_text()}
    fics = {"path": "tests/fixtures/explain/federated-credentials.json", "content": (explain / "federated-credentials.json").read_text()}
    got = call(plugin, "explain", {"topic": "token", "token": token, "credentials": [fics], "now": "2026-11-18T11:30:00Z"})
    printed = run_cli(cli, ["explain", "token", token["path"], "--fic", fics["path"], "--now", "2026-11-18T11:30:00Z"])
    assert (got["exit"], got["text"]) == (printed.returncode, printed.stdout)


def test_generate_equals_the_cli(plugin, cli):
    values = {"name": "shop", "identityName": "id-shop", "resourceGroup": "rg-shop",
              "issuer": "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/5c6d8e0a-1b2c-4d3e-8f90-a1b2c3d4e5f6/",
              "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "clientId": "4a1e7a39-6c0b-4b2e-9d3c-8f2b5e6d7c10"}
    spec = {**values, "serviceAccounts": [{"namespace": "shop", "name": "web"}]}
    flags = [a for k, v in values.items() for a in ("--" + "".join("-" + c.lower() if c.isupper() else c for c in k), v)]
    flags += ["--namespace", "shop", "--service-account", "web"]
    for fmt in ("yaml", "terraform"):
        got = call(plugin, "generate", {"spec": spec, "format": fmt})
        assert got["artifacts"][0]["content"] == run_cli(cli, ["generate", *flags, "--format", fmt]).stdout


@pytest.mark.parametrize(
    "name,payload,message",
    [
        ("lint", "not json", "the plugin's input"),
        ("lint", {"files": [], "tenantID": "x"}, "unknown field `tenantID`"),
        ("lint", {"files": [{"path": "a.yaml", "content": "kind: [unclosed"}]}, "a.yaml:1"),
        ("lint", {"files": [], "tenantId": "nope"}, "kubectl wi: error: --tenant-id: \"nope\" is not a GUID"),
        ("lint", {"files": [], "layout": "v2"}, "--layout"),
        ("mutate", {"files": [], "kubernetesVersion": "one"}, "--kubernetes-version"),
        ("explain", {"topic": "AADSTS99999"}, "https://login.microsoftonline.com/error?code=99999"),
        ("explain", {"topic": "token", "token": {"path": "t", "content": "x" * (10 << 20)}}, "t"),
        ("generate", {"spec": {"name": 5}}, "kubectl wi: error:"),
        ("explain", {"topic": "WI999"}, 'kubectl wi: error: no rule "WI999"'),
        ("explain", {"topic": "WI003", "now": "2026-01-01T00:00:00Z"}, "go with `explain token` only"),
        # No clock in the plugin: the host must say when.
        ("explain", {"topic": "token", "token": {"path": "t", "content": "a.b.c"}}, "needs `now`"),
    ],
)
def test_bad_input_is_an_error_with_the_cli_message(plugin, name, payload, message):
    with pytest.raises(extism.Error) as error:
        plugin.call(name, payload if isinstance(payload, str) else json.dumps(payload))
    assert message in str(error.value)
    # The plugin is still usable after an error.
    assert call(plugin, "lint", {"files": []})["summary"] == {"errors": 0, "warnings": 0, "infos": 0}


def test_a_path_given_twice_counts_once_as_in_the_cli(plugin, cli):
    path = FIXTURES / "mutate" / "classic-basic.yaml"
    rel = str(path.relative_to(wi_outside.REPO))
    args = fixture_args(path)
    twice = request(path, args)
    twice["files"] = twice["files"] * 2
    printed = run_cli(cli, ["mutate", "-f", rel, "-f", rel, "-o", "json", *args])
    assert call(plugin, "mutate", twice) == json.loads(printed.stdout)
    # `rules` takes any input, bytes that are not UTF-8 included.
    assert len(json.loads(bytes(plugin.call("rules", b"\xff\xfe")).decode())) == len(json.loads(run_cli(cli, ["rules", "-o", "json"]).stdout))
