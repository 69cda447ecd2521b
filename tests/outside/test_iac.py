"""The Terraform kubectl-wi reads, checked against python-hcl2 (PyPI), a
parser this project did not write: `kubectl-wi lint -v -o json` lists every
resource with its address and the attribute values it resolved, and those
must be what python-hcl2 reads from the same file (literals, variable
defaults, locals, literal `for_each`); what kubectl-wi reports as not
checked must be an expression python-hcl2 cannot resolve to a literal either."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import wi_outside as wi

TF_FILES = sorted([*(wi.REPO / "bundles/examples/iac").rglob("*.tf"), *(wi.REPO / "tests/fixtures/lint").glob("*.tf")])


def lookup(body: dict, path: str):
    """`body.properties.issuer` in python-hcl2's nested dicts."""
    value = body
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


def substitute(raw, each: tuple | None):
    """`each.key`/`each.value` of one instance, written into the raw value."""
    if each is None:
        return raw
    key, value = each
    if isinstance(raw, list):
        return [substitute(r, each) for r in raw]
    if isinstance(raw, dict):
        return {k: substitute(v, each) for k, v in raw.items()}
    if isinstance(raw, str):
        return raw.replace("${each.key}", str(key)).replace("${each.value}", str(value))
    return raw


def plain(value):
    """python-hcl2's value without its block markers."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def instances(tf: wi.Terraform, body: dict) -> list[tuple[str, tuple | None]] | None:
    """(address suffix, each) per instance; None when the collection is not
    a literal python-hcl2 can give (kubectl-wi then keeps one instance)."""
    if "for_each" in body:
        try:
            collection = tf.value(body["for_each"])
        except wi.OutsideError:
            return None
        if isinstance(collection, dict):
            # python-hcl2 keeps an object's values as written: resolve them.
            resolved = {k.strip('"'): tf.value(v) for k, v in plain(collection).items()}
            return [(f"[{json.dumps(k)}]", (k, v)) for k, v in resolved.items()]
        return [(f"[{json.dumps(k)}]", (k, k)) for k in sorted(set(collection))]
    if "count" in body:
        try:
            n = tf.value(body["count"])
        except wi.OutsideError:
            return None
        return [(f"[{i}]", None) for i in range(min(int(n), 64))]
    return [("", None)]


@pytest.mark.parametrize("path", TF_FILES, ids=lambda p: str(p.relative_to(wi.REPO)))
def test_resources_and_values_match_python_hcl2(cli, path: Path):
    rc, report = wi.lint([path], "-v")
    assert rc in (0, 1), report
    ours = {r["address"]: r for r in report["resources"]}
    tf = wi.Terraform(wi.parse_hcl(path.read_text(encoding="utf-8")))
    expected_addresses = []
    for rtype, label, body in tf.blocks("resource"):
        declaration = f"{rtype}.{label}"
        found = instances(tf, body)
        if found is None:
            # Not a literal collection: one instance stands for all, and
            # nothing that depends on `each` is claimed known.
            matching = [a for a in ours if a.startswith(declaration + "[")]
            assert len(matching) == 1, (declaration, list(ours))
            expected_addresses.append(matching[0])
            continue
        for suffix, each in found:
            address = declaration + suffix
            expected_addresses.append(address)
            assert address in ours, (address, list(ours))
            resource = ours[address]
            assert resource["type"] == rtype
            for attribute, value in resource["attributes"].items():
                raw = substitute(lookup(body, attribute), each)
                assert tf.value(plain(raw)) == value, f"{address}.{attribute}: python-hcl2 reads {raw!r}, kubectl-wi {value!r}"
            for attribute, entry in resource["notChecked"].items():
                raw = substitute(lookup(body, attribute), each)
                with pytest.raises((wi.OutsideError, KeyError)):
                    tf.value(plain(raw))
                assert entry["reason"] and entry["line"] > 0
    assert sorted(expected_addresses) == sorted(ours), "the same resources"
