"""Helpers for tests/outside: run `kubectl-wi`, and read what `generate`
writes with tools nobody on this project wrote (PyYAML, pycep, python-hcl2,
kubernetes-validate, the Azure CLI), extracting the federated credentials
(issuer, subject) each format declares."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SPECS = Path(__file__).resolve().parent / "specs"
VENV_BIN = Path(sys.executable).parent

AUDIENCE = "api://AzureADTokenExchange"
IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
FIC_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
ASO_GROUP_VERSION = "managedidentity.azure.com/v1api20230131"
ARM_SCHEMA = re.compile(r"^https://schema\.management\.azure\.com/schemas/\d{4}-\d{2}-\d{2}/deploymentTemplate\.json#$")
AKS_ISSUER_HOST = ".oic.prod-aks.azure.com"

# kubernetes-validate checks against this Kubernetes version's OpenAPI
# schemas (the package ships 1.25 through 1.37); 1.33 is one AKS supports.
KUBERNETES_VERSION = "1.33.0"

FORMAT_FILES = {
    "yaml": "{app}.yaml",
    "aso": "{app}-aso.yaml",
    "az": "{app}.sh",
    "bicep": "{app}.bicep",
    "arm": "{app}.json",
    "terraform": "{app}.tf",
}


class OutsideError(AssertionError):
    """A generated artifact that the outside tool read, but not as expected."""


# --------------------------------------------------------------------------
# The CLI


def cli_path() -> Path:
    raw = os.environ.get("KUBECTL_WI", "target/release/kubectl-wi")
    path = Path(raw)
    if not path.is_absolute():
        path = (Path.cwd() / path) if (Path.cwd() / path).exists() else (REPO / path)
    return path


def cli_problem() -> str | None:
    """Why the CLI cannot be used for these tests, or None."""
    path = cli_path()
    if not path.is_file() or not os.access(path, os.X_OK):
        return (
            f"kubectl-wi not found at {path} (set KUBECTL_WI, or build it: make build); "
            "tests/outside checks what `kubectl-wi generate` writes and cannot run without it"
        )
    try:
        proc = subprocess.run([str(path), "generate", "--help"], capture_output=True, text=True, timeout=60)
    except OSError as e:
        return f"{path} does not run: {e}"
    if proc.returncode != 0:
        return f"{path} has no working `generate` subcommand (`generate --help` exited {proc.returncode}): {proc.stderr.strip()[:500]}"
    return None


def run_cli(args: list[str], *, input: str | None = None, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(cli_path()), *args], input=input, capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


def load_spec(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


@dataclass
class Generated:
    spec: dict
    out_dir: Path
    stdout: str
    stderr: str

    @property
    def app(self) -> str:
        return self.spec["name"]

    def path(self, fmt: str) -> Path:
        return self.out_dir / FORMAT_FILES[fmt].format(app=self.app)

    def text(self, fmt: str) -> str:
        return self.path(fmt).read_text(encoding="utf-8")


def generate(spec: dict | Path, out_dir: Path, *, fmt: str = "all", via_stdin: bool = False, extra: list[str] | None = None) -> Generated:
    """`kubectl-wi generate --spec ... --format FMT -o OUT_DIR`; fails the
    test with the CLI's words when it does not exit 0."""
    if isinstance(spec, Path):
        spec_dict = load_spec(spec)
        spec_arg, stdin = str(spec), None
    else:
        spec_dict = spec
        if via_stdin:
            spec_arg, stdin = "-", json.dumps(spec)
        else:
            out_dir.mkdir(parents=True, exist_ok=True)
            spec_file = out_dir.parent / f"{out_dir.name}-spec.json"
            spec_file.write_text(json.dumps(spec, indent=2), encoding="utf-8")
            spec_arg, stdin = str(spec_file), None
    args = ["generate", "--spec", spec_arg, "--format", fmt, "-o", str(out_dir), *(extra or [])]
    proc = run_cli(args, input=stdin)
    if proc.returncode != 0:
        raise OutsideError(
            f"kubectl-wi {shlex.join(args)} exited {proc.returncode}\nspec: {json.dumps(spec_dict)}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    gen = Generated(spec_dict, out_dir, proc.stdout, proc.stderr)
    wanted = FORMAT_FILES if fmt == "all" else {fmt: FORMAT_FILES[fmt]}
    missing = [str(gen.path(f)) for f in wanted if not gen.path(f).is_file()]
    if missing:
        raise OutsideError(f"generate --format {fmt} -o {out_dir} did not write {missing}; it wrote {sorted(p.name for p in out_dir.iterdir())}")
    return gen


def lint(paths: list[Path], *extra: str) -> tuple[int, dict]:
    """`kubectl-wi lint -f P... -o json`: (exit code, parsed report)."""
    args = ["lint"]
    for p in paths:
        args += ["-f", str(p)]
    args += ["-o", "json", *extra]
    proc = run_cli(args)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise OutsideError(f"kubectl-wi {shlex.join(args)} exited {proc.returncode} without JSON:\n{proc.stdout}\n{proc.stderr}")
    return proc.returncode, report


def assert_lint_clean(paths: list[Path], *extra: str) -> None:
    rc, report = lint(paths, *extra)
    findings = report.get("findings")
    if rc != 0 or findings:
        shown = "\n".join(json.dumps(f) for f in (findings or []))
        raise OutsideError(f"kubectl-wi lint {' '.join(map(str, paths))} {' '.join(extra)} exited {rc} with findings:\n{shown}")


def kubernetes_validate(path: Path, version: str = KUBERNETES_VERSION, *, in_process: bool = False) -> list[str]:
    """`kubernetes-validate --strict` on a file; returns the lines it printed.
    Fails unless it exits 0 and every document was checked against a schema
    (a kind it has no schema for only warns, which would pass vacuously).
    in_process calls the function its command line runs (validate_file),
    sparing the ~0.2 s start-up per file."""
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    if in_process:
        import contextlib
        import io

        from kubernetes_validate import utils as kv

        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            returncode = kv.validate_file(str(path), version, True, False, False)
        text = out.getvalue()
    else:
        proc = subprocess.run(
            [str(VENV_BIN / "kubernetes-validate"), "--strict", "-k", version, str(path)],
            capture_output=True, text=True, timeout=120,
        )
        returncode, text = proc.returncode, proc.stdout + proc.stderr
    lines = text.splitlines()
    passed = [l for l in lines if " passed for resource " in l]
    if returncode != 0 or len(passed) != len(docs) or any(l.startswith(("WARN", "ERROR", "FATAL")) for l in lines):
        raise OutsideError(
            f"kubernetes-validate --strict -k {version} {path} exited {returncode}; "
            f"{len(passed)} of {len(docs)} documents passed:\n" + "\n".join(lines)
        )
    return lines


BUILT_IN_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
USE_LABEL = "azure.workload.identity/use"
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
TENANT_ID_ANNOTATION = "azure.workload.identity/tenant-id"


def check_kubernetes_yaml(spec: dict, path: Path, *, in_process: bool = False) -> None:
    """APP.yaml: valid against the Kubernetes schemas (kubernetes-validate
    --strict), one object per kind/namespace/name (kubectl apply would make
    a later one replace an earlier one), every ServiceAccount of the spec
    annotated, and with an image a Deployment per ServiceAccount whose pods
    opt in."""
    kubernetes_validate(path, in_process=in_process)
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    keys = [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise OutsideError(f"{path.name} holds objects twice (kubectl apply keeps only the last): {twice}")
    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    assert set(by_kind) <= {"Namespace", "ServiceAccount", "Deployment"}, set(by_kind)

    namespaces = {s["namespace"] for s in spec["serviceAccounts"]}
    assert {d["metadata"]["name"] for d in by_kind.get("Namespace", [])} >= namespaces - BUILT_IN_NAMESPACES

    sas = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in by_kind["ServiceAccount"]}
    assert set(sas) == {(s["namespace"], s["name"]) for s in spec["serviceAccounts"]}
    for sa in sas.values():
        annotations = sa["metadata"]["annotations"]
        assert annotations[CLIENT_ID_ANNOTATION] == spec["clientId"]
        if spec.get("tenantId"):
            assert annotations[TENANT_ID_ANNOTATION] == spec["tenantId"]

    deployments = by_kind.get("Deployment", [])
    if not spec.get("image"):
        assert deployments == []
        return
    used = set()
    for d in deployments:
        pod = d["spec"]["template"]
        assert pod["metadata"]["labels"][USE_LABEL] == "true", d["metadata"]
        # The selector must match the pod template (the API server refuses
        # it otherwise; the schema alone cannot tell) and must not hold the
        # opt-in label (a selector is immutable).
        selector = d["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod["metadata"]["labels"].items(), d["metadata"]
        assert USE_LABEL not in selector
        assert {c["image"] for c in pod["spec"]["containers"]} == {spec["image"]}
        used.add((d["metadata"]["namespace"], pod["spec"]["serviceAccountName"]))
    assert used == set(sas), f"ServiceAccounts without a Deployment: {sorted(set(sas) - used)}"


# --------------------------------------------------------------------------
# What a spec should produce


def normal_issuer(issuer: str) -> str:
    """An AKS issuer gets the trailing `/` it always has; others stay."""
    host = issuer.removeprefix("https://").split("/")[0].lower()
    if host.endswith(AKS_ISSUER_HOST) and not issuer.endswith("/"):
        return issuer + "/"
    return issuer


def subject_of(sa: dict) -> str:
    return f"system:serviceaccount:{sa['namespace']}:{sa['name']}"


def expected_pairs(spec: dict) -> list[tuple[str, str]]:
    issuer = normal_issuer(spec["issuer"])
    return sorted((issuer, subject_of(sa)) for sa in spec["serviceAccounts"])


@dataclass
class Fic:
    """One federated credential as a format declares it."""

    name: str | None
    issuer: str
    subject: str
    audiences: list[str]
    symbol: str = ""  # the format's own handle (Terraform label, ARM name, ...)
    depends_on: list[str] = field(default_factory=list)

    @property
    def pair(self) -> tuple[str, str]:
        return (self.issuer, self.subject)


def pairs(fics: list[Fic]) -> list[tuple[str, str]]:
    return sorted(f.pair for f in fics)


def assert_serialized(fics: list[Fic], what: str) -> None:
    """Every two credentials are ordered by dependencies (direct or through
    others): Azure refuses concurrent credential writes on one identity."""
    if len(fics) < 2:
        return
    symbols = {f.symbol for f in fics}
    edges = {f.symbol: {d for d in f.depends_on if d in symbols} for f in fics}

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    closure = {s: reach(s) for s in symbols}
    loose = [
        (a, b) for a in sorted(symbols) for b in sorted(symbols)
        if a < b and b not in closure[a] and a not in closure[b]
    ]
    if loose:
        raise OutsideError(f"{what}: credentials not ordered by dependencies (Azure would write them concurrently): {loose}; dependencies: {edges}")


def az_list_json(fics: list[Fic], *, subscription: str, resource_group: str, identity: str) -> list[dict]:
    """What `az identity federated-credential list` prints for these credentials."""
    out = []
    for f in fics:
        name = f.name or f.symbol
        out.append({
            "audiences": f.audiences,
            "id": f"/subscriptions/{subscription}/resourcegroups/{resource_group}/providers/"
                  f"Microsoft.ManagedIdentity/userAssignedIdentities/{identity}/federatedIdentityCredentials/{name}",
            "issuer": f.issuer,
            "name": name,
            "resourceGroup": resource_group,
            "subject": f.subject,
            "systemData": None,
            "type": FIC_TYPE,
        })
    return out


# --------------------------------------------------------------------------
# ASO (PyYAML)


def aso_objects(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def aso_fics(text: str) -> list[Fic]:
    out = []
    for obj in aso_objects(text):
        if obj.get("kind") != "FederatedIdentityCredential":
            continue
        if obj.get("apiVersion") != ASO_GROUP_VERSION:
            raise OutsideError(f"ASO FederatedIdentityCredential with apiVersion {obj.get('apiVersion')!r}, not {ASO_GROUP_VERSION}")
        spec = obj.get("spec") or {}
        out.append(Fic(
            name=spec.get("azureName") or obj["metadata"]["name"],
            issuer=spec.get("issuer"),
            subject=spec.get("subject"),
            audiences=spec.get("audiences"),
            symbol=obj["metadata"]["name"],
        ))
    return out


# --------------------------------------------------------------------------
# The az script (static: variable assignments substituted, shlex)

_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


class UnknownVariable(KeyError):
    pass


def substitute(segment: str, env: dict[str, str], *, keep_unknown: bool = False) -> str:
    """Replaces $VAR and ${VAR} outside single quotes with the value quoted
    for where it stands, so shlex.split then gives bash's words. A variable
    only known at run time (`$PRINCIPAL_ID`) raises UnknownVariable, or with
    keep_unknown stays as the literal text `${NAME}`."""
    out, i, quote = [], 0, None
    while i < len(segment):
        c = segment[i]
        if quote == "'":
            out.append(c)
            if c == "'":
                quote = None
            i += 1
            continue
        if c == "\\" and i + 1 < len(segment):
            out.append(segment[i : i + 2])
            i += 2
            continue
        if c in "'\"" and (quote is None or quote == c):
            quote = None if quote == c else c
            out.append(c)
            i += 1
            continue
        if c == "$":
            if segment.startswith("$(", i):
                raise UnknownVariable(f"command substitution in {segment!r}")
            m = _VAR.match(segment, i)
            if m:
                name = m.group(1) or m.group(2)
                if name not in env and not keep_unknown:
                    raise UnknownVariable(name)
                value = env.get(name, "${" + name + "}")
                out.append(value.replace("\\", "\\\\").replace('"', '\\"') if quote == '"' else shlex.quote(value))
                i = m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


def shell_command_at(line: str, start: int) -> str:
    """The simple command starting at `start`: up to the first unquoted
    `;`, `&`, `|`, `)`, redirection or comment."""
    i, quote = start, None
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "\\":
            i += 2
            continue
        elif c in ";&|)<>" or (c == "#" and line[i - 1].isspace()):
            break
        elif c == "2" and line.startswith("2>", i) and line[i - 1].isspace():
            break
        i += 1
    return line[start:i]


def script_variables(script: str) -> dict[str, str]:
    """Top-level `NAME=value` assignments whose value is known statically;
    one from a command (`$(az ...)`) or an unknown variable is skipped, so
    the name keeps its earlier value."""
    env: dict[str, str] = {}
    for raw in script.splitlines():
        m = _ASSIGNMENT.match(raw)
        if not m:
            continue
        try:
            words = shlex.split(substitute(m.group(2), env))
        except (UnknownVariable, ValueError):
            continue
        if len(words) <= 1:
            env[m.group(1)] = words[0] if words else ""
    return env


def az_commands(script: str, *subcommand: str) -> list[list[str]]:
    """Every `az SUBCOMMAND...` in the script, as the words bash would pass
    to az (after `az`), with the script's static variables substituted."""
    env = script_variables(script)
    needle = re.compile(r"(?:(?<=^)|(?<=[\s;(!]))az\s+" + r"\s+".join(map(re.escape, subcommand)) + r"(?=\s|$)")
    out = []
    for raw in script.splitlines():
        if raw.lstrip().startswith("#"):
            continue
        for m in needle.finditer(raw):
            command = shell_command_at(raw, m.start())
            words = shlex.split(substitute(command, env, keep_unknown=True))
            out.append(words[1:])
    return out


def option_values(words: list[str], name: str) -> list[str]:
    """Values of `--name V` (az's nargs options may take several)."""
    out, i = [], 0
    while i < len(words):
        if words[i] == name:
            i += 1
            while i < len(words) and not words[i].startswith("--"):
                out.append(words[i])
                i += 1
            continue
        if words[i].startswith(name + "="):
            out.append(words[i].split("=", 1)[1])
        i += 1
    return out


def az_fics(script: str) -> list[Fic]:
    out = []
    for words in az_commands(script, "identity", "federated-credential", "create"):
        def one(name: str) -> str:
            values = option_values(words, name)
            if len(values) != 1:
                raise OutsideError(f"az {shlex.join(words)}: {name} has {values!r}, not one value")
            return values[0]
        out.append(Fic(
            name=one("--name"),
            issuer=one("--issuer"),
            subject=one("--subject"),
            audiences=option_values(words, "--audiences"),
            symbol=one("--name"),
        ))
    return out


# --------------------------------------------------------------------------
# Bicep (pycep)

_BICEP_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BICEP_INTERPOLATION = re.compile(r"(?<!\\)\$\{([^}]*)\}")
_PYCEP_PARSER = None


def parse_bicep(text: str) -> dict:
    global _PYCEP_PARSER
    from pycep import BicepParser

    if _PYCEP_PARSER is None:
        _PYCEP_PARSER = BicepParser()
    return _PYCEP_PARSER.parse(text=text)


class Bicep:
    """Evaluates the few Bicep expressions a credential's issuer and subject
    can be written with: string literals (with `${}` interpolation), params
    (their defaults), variables, loop items and property access."""

    def __init__(self, doc: dict):
        self.doc = doc
        self.params = doc.get("parameters") or {}
        self.vars = doc.get("variables") or {}
        self.resources = doc.get("resources") or {}
        self.outputs = doc.get("outputs") or {}

    def lookup(self, name: str, scope: dict) -> Any:
        if name in scope:
            return scope[name]
        if name in self.vars:
            return self.eval(self.vars[name]["value"], scope)
        if name in self.params:
            p = self.params[name]
            if "default" not in p:
                raise OutsideError(f"Bicep param {name} has no default value")
            return self.eval(p["default"], scope)
        raise OutsideError(f"Bicep name {name!r} is not a param, variable or loop item")

    def path(self, expr: str, scope: dict) -> Any:
        parts = expr.strip().split(".")
        value = self.lookup(parts[0], scope)
        for p in parts[1:]:
            value = value[p]
        return value

    def literal(self, raw: str, scope: dict) -> str:
        def interpolate(m: re.Match) -> str:
            value = self.path(m.group(1), scope)
            if not isinstance(value, str):
                raise OutsideError(f"Bicep interpolation ${{{m.group(1)}}} is {value!r}, not a string")
            return value

        text = _BICEP_INTERPOLATION.sub(interpolate, raw)
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r", "t": "\t"}.get(m.group(1), m.group(1)), text)

    def eval(self, value: Any, scope: dict) -> Any:
        if isinstance(value, str):
            if _BICEP_IDENTIFIER.match(value) and (value in scope or value in self.vars or value in self.params):
                return self.lookup(value, scope)
            return self.literal(value, scope)
        if isinstance(value, list):
            return [self.eval(v, scope) for v in value]
        if isinstance(value, dict):
            op = value.get("operator")
            if isinstance(op, dict) and op.get("type") == "property_accessor":
                base = self.eval(op["operands"]["operand_1"], scope)
                key = op["operands"]["operand_2"]
                while isinstance(key, dict):  # a.b.c: operand_2 is b.c
                    inner = key["operator"]["operands"]
                    base = base[inner["operand_1"]]
                    key = inner["operand_2"]
                return base[key]
            if "operator" in value or "function" in value:
                raise OutsideError(f"Bicep expression this test cannot evaluate: {json.dumps(value)[:300]}")
            return {k: self.eval(v, scope) for k, v in value.items()}
        return value

    def of_type(self, resource_type: str) -> dict[str, dict]:
        return {k: r for k, r in self.resources.items() if str(r.get("type", "")).lower() == resource_type.lower()}

    def fics(self) -> list[Fic]:
        out = []
        for symbol, res in self.of_type(FIC_TYPE).items():
            config = res["config"]
            if "loop_type" in config:
                loop = config["loop_type"]
                detail = loop.get("detail") or {}
                if loop.get("type") != "array" or "array_name" not in detail:
                    raise OutsideError(f"Bicep loop this test cannot evaluate: {json.dumps(loop)}")
                items = self.eval(detail["array_name"], {})
                body = config["config"]
                if config.get("condition") is not None:
                    raise OutsideError(f"Bicep loop {symbol} has a condition: {json.dumps(config['condition'])}")
                scopes = [{detail["item_name"]: item} for item in items]
            else:
                body, scopes = config, [{}]
            for i, scope in enumerate(scopes):
                props = body.get("properties") or {}
                depends = body.get("dependsOn") or []
                out.append(Fic(
                    name=self.eval(body.get("name"), scope),
                    issuer=self.eval(props.get("issuer"), scope),
                    subject=self.eval(props.get("subject"), scope),
                    audiences=self.eval(props.get("audiences"), scope),
                    symbol=f"{symbol}[{i}]" if "loop_type" in config else symbol,
                    depends_on=[d if isinstance(d, str) else json.dumps(d) for d in depends],
                ))
        return out


def bicep_fics(text: str) -> list[Fic]:
    return Bicep(parse_bicep(text)).fics()


# --------------------------------------------------------------------------
# Terraform (python-hcl2)

_HCL_INTERPOLATION = re.compile(r"(?<!\$)\$\{([^}]*)\}")


def parse_hcl(text: str) -> dict:
    import hcl2

    return hcl2.loads(text)


def unquote_label(label: str) -> str:
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


class Terraform:
    """python-hcl2 keeps the quotes of string literals (`'"x"'`) and writes a
    bare expression as `'${expr}'`, so a literal and a reference stay apart."""

    def __init__(self, doc: dict):
        self.doc = doc
        self.variables = {}
        for block in doc.get("variable", []):
            for name, body in block.items():
                self.variables[unquote_label(name)] = body
        self.locals = {}
        for block in doc.get("locals", []):
            self.locals.update({k: v for k, v in block.items() if not k.startswith("__")})

    def blocks(self, kind: str) -> list[tuple[str, str, dict]]:
        """(type, label, body) of `resource`/`data` blocks, in file order."""
        out = []
        for block in self.doc.get(kind, []):
            for rtype, labelled in block.items():
                for label, body in labelled.items():
                    out.append((unquote_label(rtype), unquote_label(label), body))
        return out

    def resources(self, rtype: str) -> list[tuple[str, dict]]:
        return [(label, body) for t, label, body in self.blocks("resource") if t == rtype]

    def outputs(self) -> dict[str, dict]:
        out = {}
        for block in self.doc.get("output", []):
            for name, body in block.items():
                out[unquote_label(name)] = body
        return out

    def reference(self, expr: str) -> Any:
        expr = expr.strip()
        if expr.startswith("var."):
            var = self.variables.get(expr[4:])
            if var is None or "default" not in var:
                raise OutsideError(f"Terraform {expr} has no default")
            return self.value(var["default"])
        if expr.startswith("local."):
            return self.value(self.locals[expr[6:]])
        raise OutsideError(f"Terraform expression this test cannot evaluate to a value: {expr}")

    def value(self, v: Any) -> Any:
        """A literal's value; `var.`/`local.` references resolved."""
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if not isinstance(v, str):
            return v
        if len(v) >= 2 and v[0] == v[-1] == '"':
            inner = v[1:-1]
            inner = _HCL_INTERPOLATION.sub(lambda m: str(self.reference(m.group(1))), inner)
            text = json.loads('"' + inner.replace("\n", "\\n") + '"')
            return text.replace("$${", "${").replace("%%{", "%{")
        if v.startswith("${") and v.endswith("}"):
            return self.reference(v[2:-1])
        return v

    @staticmethod
    def refs(v: Any) -> list[str]:
        """`${a.b.c}` expressions, as `a.b.c`."""
        items = v if isinstance(v, list) else [v]
        return [x[2:-1].strip() for x in items if isinstance(x, str) and x.startswith("${") and x.endswith("}")]

    def fics(self) -> list[Fic]:
        out = []
        for label, body in self.resources("azurerm_federated_identity_credential"):
            audience = self.value(body.get("audience"))
            out.append(Fic(
                name=self.value(body.get("name")),
                issuer=self.value(body.get("issuer")),
                subject=self.value(body.get("subject")),
                audiences=audience if isinstance(audience, list) else [audience],
                symbol=f"azurerm_federated_identity_credential.{label}",
                depends_on=self.refs(body.get("depends_on", [])),
            ))
        return out


def terraform_fics(text: str) -> list[Fic]:
    return Terraform(parse_hcl(text)).fics()


# --------------------------------------------------------------------------
# ARM (json, with a small evaluator for template expressions)


@dataclass(frozen=True)
class ResourceId:
    type: str
    name: str


class Unevaluated(str):
    pass


class Arm:
    def __init__(self, template: dict):
        self.t = template
        self.params = template.get("parameters") or {}
        self.vars = template.get("variables") or {}

    def value(self, v: Any) -> Any:
        """A template value: `[[x` is the literal `[x`; `[expr]` is an expression."""
        if isinstance(v, str):
            if v.startswith("[["):
                return v[1:]
            if v.startswith("[") and v.endswith("]"):
                return ArmExpression(v[1:-1], self).eval()
            return v
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, dict):
            return {k: self.value(x) for k, x in v.items()}
        return v

    def parameter(self, name: str) -> Any:
        p = self.params.get(name)
        if p is None or "defaultValue" not in p:
            raise OutsideError(f"ARM parameter {name!r} is missing or has no defaultValue")
        return self.value(p["defaultValue"])

    def variable(self, name: str) -> Any:
        if name not in self.vars:
            raise OutsideError(f"ARM variable {name!r} is missing")
        return self.value(self.vars[name])

    def resources(self, rtype: str) -> list[dict]:
        return [r for r in self.t.get("resources", []) if str(r.get("type", "")).lower() == rtype.lower()]

    def fics(self) -> list[Fic]:
        out = []
        for r in self.resources(FIC_TYPE):
            if "copy" in r:
                raise OutsideError(f"ARM copy loop for credentials; this test reads one resource per credential: {json.dumps(r['copy'])}")
            name = self.value(r["name"])
            props = r.get("properties") or {}
            depends = []
            for d in r.get("dependsOn", []):
                dv = self.value(d)
                depends.append(f"{dv.type}/{dv.name}".lower() if isinstance(dv, ResourceId) else str(dv).lower())
            out.append(Fic(
                name=name.split("/")[-1] if isinstance(name, str) else name,
                issuer=self.value(props.get("issuer")),
                subject=self.value(props.get("subject")),
                audiences=self.value(props.get("audiences")),
                symbol=f"{FIC_TYPE}/{name}".lower(),
                depends_on=depends,
            ))
        return out


class ArmExpression:
    """Recursive descent over ARM's expression language: calls, 'strings'
    ('' escapes), numbers, `.property` and `[index]`. Evaluates parameters(),
    variables(), concat(), format(), resourceId(); anything else stays an
    Unevaluated string of its source."""

    TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<p>[(),.\[\]]))")

    def __init__(self, src: str, arm: Arm):
        self.src, self.arm, self.pos = src, arm, 0
        self.tokens = []
        i = 0
        while i < len(src):
            if src[i:].strip() == "":
                break
            m = self.TOKEN.match(src, i)
            if not m:
                raise OutsideError(f"ARM expression not understood at {src[i:]!r}: [{src}]")
            kind = m.lastgroup
            self.tokens.append((kind, m.group(kind)))
            i = m.end()

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, want=None):
        tok = self.peek()
        if want is not None and tok[1] != want:
            raise OutsideError(f"ARM expression: expected {want!r} at token {self.pos} of [{self.src}]")
        self.pos += 1
        return tok

    def eval(self) -> Any:
        v = self.expr()
        if self.pos != len(self.tokens):
            raise OutsideError(f"ARM expression has trailing tokens: [{self.src}]")
        return v

    def expr(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            v: Any = text[1:-1].replace("''", "'")
        elif kind == "num":
            v = int(text)
        elif kind == "id":
            self.take("(")
            args = []
            if self.peek()[1] != ")":
                args.append(self.expr())
                while self.peek()[1] == ",":
                    self.take(",")
                    args.append(self.expr())
            self.take(")")
            v = self.call(text, args)
        else:
            raise OutsideError(f"ARM expression: unexpected {text!r} in [{self.src}]")
        while self.peek()[1] in (".", "["):
            if self.take()[1] == ".":
                prop = self.take()[1]
                v = v[prop] if isinstance(v, dict) else Unevaluated(f"{v}.{prop}")
            else:
                idx = self.expr()
                self.take("]")
                v = v[idx] if isinstance(v, (dict, list)) else Unevaluated(f"{v}[{idx}]")
        return v

    def call(self, name: str, args: list) -> Any:
        fn = name.lower()
        if fn == "parameters":
            return self.arm.parameter(args[0])
        if fn == "variables":
            return self.arm.variable(args[0])
        if fn == "concat" and all(isinstance(a, str) for a in args):
            return "".join(args)
        if fn == "format" and all(isinstance(a, str) for a in args):
            return re.sub(r"\{(\d+)\}", lambda m: str(args[int(m.group(1)) + 1]), args[0])
        if fn == "resourceid":
            strings = [a for a in args if isinstance(a, str)]
            # resourceId([subscriptionId], [resourceGroupName], type, name1, name2...)
            types = [i for i, a in enumerate(strings) if "/" in a and "." in a.split("/")[0]]
            if types:
                i = types[0]
                return ResourceId(strings[i], "/".join(strings[i + 1 :]))
        return Unevaluated(f"{name}({', '.join(map(str, args))})")


def arm_fics(text: str) -> list[Fic]:
    return Arm(json.loads(text)).fics()


# --------------------------------------------------------------------------


def all_fics(gen: Generated) -> dict[str, list[Fic]]:
    """The credentials every Azure-side format declares."""
    return {
        "aso": aso_fics(gen.text("aso")),
        "az": az_fics(gen.text("az")),
        "bicep": bicep_fics(gen.text("bicep")),
        "terraform": terraform_fics(gen.text("terraform")),
        "arm": arm_fics(gen.text("arm")),
    }
