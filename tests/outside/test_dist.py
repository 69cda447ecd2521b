"""Distribution as users meet it: the krew manifest and release archive
`make dist` writes (checked against krew's validation rules, then unpacked
as krew's installer unpacks it), and the pre-commit hooks run by PyPI's
`pre-commit` in a scratch repository.

krew's rules, from kubernetes-sigs/krew (internal/index/validation/
validate.go, cmd/validate-krew-manifest/main.go, internal/installation/
{install,move}.go, internal/download/downloader.go): apiVersion and kind
exact; name `^[\\w-]+$` and equal to the file name; a one-line
shortDescription; version `v` + semver; at least one platform, each with a
uri, a lowercase 64-hex sha256, a bin, and a selector on os/arch only that
matches a supported pair, no pair matched twice; `files` entries with
`from` and a clean `to`; a gzip tar of regular files and directories with
no absolute or `..` paths; the bin present after the file operations; a
license file (LICENSE, COPYING, ...) installed beside it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import posixpath
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

import wi_outside

DIST = wi_outside.REPO / "target" / "dist"
TEMPLATE = wi_outside.REPO / "bundles" / "krew" / "wi.yaml"
HOOKS = wi_outside.REPO / ".pre-commit-hooks.yaml"

SUPPORTED = {("windows", a) for a in ("386", "amd64", "arm64")} | {("linux", a) for a in ("386", "amd64", "arm", "arm64", "ppc64le")} | {
    ("darwin", a) for a in ("386", "amd64", "arm64")
}
LICENSE_NAMES = {"license", "license.txt", "license.md", "licenses", "licenses.txt", "licenses.md", "copying", "copying.txt"}
SEMVER = re.compile(r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def krew_problems(manifest: dict, file_name: str) -> list[str]:
    """What krew's validate-krew-manifest would refuse in `manifest`."""
    problems = []
    if manifest.get("apiVersion") != "krew.googlecontainertools.github.com/v1alpha2":
        problems.append(f"apiVersion {manifest.get('apiVersion')!r}")
    if manifest.get("kind") != "Plugin":
        problems.append(f"kind {manifest.get('kind')!r}")
    name = (manifest.get("metadata") or {}).get("name", "")
    if not re.fullmatch(r"[\w-]+", name):
        problems.append(f"name {name!r}")
    if file_name != f"{name}.yaml":
        problems.append(f"file {file_name} is not named after the plugin {name!r}")
    spec = manifest.get("spec") or {}
    short = spec.get("shortDescription", "")
    if not short or "\n" in short or "\r" in short:
        problems.append("shortDescription must be one non-empty line")
    if not SEMVER.match(str(spec.get("version", ""))):
        problems.append(f"version {spec.get('version')!r} is not v + semver")
    platforms = spec.get("platforms") or []
    if not platforms:
        problems.append("no platforms")
    matched: dict[tuple[str, str], int] = {}
    for i, p in enumerate(platforms):
        if not p.get("uri"):
            problems.append(f"platform {i}: no uri")
        if not re.fullmatch(r"[a-f0-9]{64}", str(p.get("sha256", ""))):
            problems.append(f"platform {i}: sha256 {p.get('sha256')!r}")
        if not p.get("bin"):
            problems.append(f"platform {i}: no bin")
        selector = p.get("selector") or {}
        labels = selector.get("matchLabels")
        if not labels or set(labels) - {"os", "arch"} or "matchExpressions" in selector:
            problems.append(f"platform {i}: selector must be matchLabels on os and arch")
            continue
        pairs = {(o, a) for o, a in SUPPORTED if labels.get("os", o) == o and labels.get("arch", a) == a}
        if not pairs:
            problems.append(f"platform {i}: selector matches no supported os/arch")
        for pair in pairs:
            if pair in matched:
                problems.append(f"platform {i}: {pair} is matched by platform {matched[pair]} too")
            matched[pair] = i
        files = p.get("files")
        if files is not None:
            if not files:
                problems.append(f"platform {i}: files is empty")
            for f in files:
                if not f.get("from") or not f.get("to"):
                    problems.append(f"platform {i}: a files entry lacks from or to")
                elif posixpath.normpath(f["to"]) != f["to"]:
                    problems.append(f"platform {i}: to {f['to']!r} is not a clean path")
    return problems


def install_like_krew(archive: Path, platform: dict, into: Path) -> Path:
    """Unpacks `archive` and applies the platform's file operations as krew's
    installer does; returns the installed bin."""
    staging = into / "staging"
    staging.mkdir(parents=True)
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            assert member.isreg() or member.isdir(), f"{member.name}: krew refuses links and special files"
            assert not member.name.startswith(("/", "\\")) and ".." not in member.name.split("/"), member.name
        tar.extractall(staging, filter="data")
    installed = into / "installed"
    installed.mkdir()
    for op in platform.get("files") or [{"from": "*", "to": "."}]:
        source = staging / op["from"]
        if source.is_file():
            target = installed / (source.name if op["to"] == "." else op["to"])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, target)
            continue
        matches = [p for p in staging.rglob("*") if fnmatch.fnmatch(str(p.relative_to(staging)), op["from"])]
        assert matches, f"files entry {op} matches nothing in the archive"
        for m in matches:
            shutil.move(m, installed / op["to"] / m.name)
    bin_path = installed / platform["bin"]
    assert bin_path.is_file(), f"bin {platform['bin']} is not in the archive after the file operations"
    assert any(p.name.lower() in LICENSE_NAMES and p.is_file() for p in installed.iterdir()), "no license file installed"
    return bin_path


@pytest.fixture(scope="module")
def dist() -> tuple[dict, Path]:
    manifest_path = DIST / "wi.yaml"
    assert manifest_path.exists(), f"{manifest_path} is missing: run `make dist` (make test does)"
    manifest = yaml.safe_load(manifest_path.read_text())
    return manifest, manifest_path


def test_the_checked_in_manifest_is_valid_but_for_its_digest():
    manifest = yaml.safe_load(TEMPLATE.read_text())
    problems = krew_problems(manifest, TEMPLATE.name)
    assert [p for p in problems if "sha256" not in p] == []
    # The template's digest is a placeholder that make dist replaces.
    assert all(p["sha256"] == "0" * 64 for p in manifest["spec"]["platforms"])


def test_make_dist_writes_a_manifest_krew_accepts(dist):
    manifest, path = dist
    assert krew_problems(manifest, path.name) == []
    template = yaml.safe_load(TEMPLATE.read_text())
    # Everything but the filled-in digest is the template's.
    for p in template["spec"]["platforms"]:
        p.pop("sha256")
    filled = yaml.safe_load(path.read_text())
    for p in filled["spec"]["platforms"]:
        p.pop("sha256")
    assert filled == template


def test_the_archive_installs_and_runs_as_krew_would_install_it(dist, tmp_path):
    manifest, _ = dist
    ran = 0
    for platform in manifest["spec"]["platforms"]:
        archive = DIST / platform["uri"].rsplit("/", 1)[1]
        if not archive.exists():
            continue
        assert hashlib.sha256(archive.read_bytes()).hexdigest() == platform["sha256"]
        bin_path = install_like_krew(archive, platform, tmp_path / platform["uri"].rsplit("/", 1)[1])
        assert os.access(bin_path, os.X_OK)
        # krew links it as kubectl-wi; kubectl finds it as `kubectl wi`.
        out = subprocess.run([str(bin_path), "lint", "-f", str(wi_outside.REPO / "bundles/examples/good")], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.endswith("0 errors, 0 warnings, 0 infos in 1 file\n")
        ran += 1
    assert ran == 1, "make dist builds this machine's archive, which the manifest names"


def test_krew_rules_catch_what_krew_refuses(dist):
    # The checker itself: each rule fires on a manifest that breaks it.
    manifest, _ = dist
    import copy

    def broken(change) -> list[str]:
        m = copy.deepcopy(manifest)
        change(m)
        return krew_problems(m, "wi.yaml")

    assert broken(lambda m: m["spec"].update(version="0.1.0"))
    assert broken(lambda m: m["spec"].update(shortDescription="two\nlines"))
    assert broken(lambda m: m["spec"]["platforms"][0].update(sha256=m["spec"]["platforms"][0]["sha256"].upper()))
    assert broken(lambda m: m["spec"]["platforms"][0]["selector"]["matchLabels"].update(distro="debian"))
    assert broken(lambda m: m["spec"]["platforms"].append(copy.deepcopy(m["spec"]["platforms"][0])))
    assert broken(lambda m: m["spec"]["platforms"][0]["files"][0].update(to="./"))
    assert krew_problems(manifest, "kubectl-wi.yaml")


# --------------------------------------------------------------------------
# pre-commit


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", *args], cwd=cwd, check=True, capture_output=True)


BROKEN_POD = """apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: shop
  annotations:
    azure.workload.identity/use: "true"
spec:
  serviceAccountName: api
  containers:
  - name: api
    image: shop/api:1.0
"""

SERVICE_ACCOUNT = """apiVersion: v1
kind: ServiceAccount
metadata:
  name: api
  namespace: shop
  annotations:
    azure.workload.identity/client-id: 6f2b7a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b
"""


def test_pre_commit_runs_the_hooks_on_changed_manifests(tmp_path):
    env = dict(os.environ)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl-wi").symlink_to(wi_outside.cli_path())
    env["PATH"] = f"{bin_dir}:{wi_outside.VENV_BIN}:{env['PATH']}"
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["KUBECTL_WI_CONFIG_DIR"] = str(tmp_path / "no-config")
    env.update(GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@example.com", GIT_COMMITTER_NAME="test", GIT_COMMITTER_EMAIL="test@example.com")

    # The hooks as a hook repository is published: a git repository whose
    # tip carries .pre-commit-hooks.yaml.
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    shutil.copy(HOOKS, hooks / ".pre-commit-hooks.yaml")
    git(hooks, "init", "-q")
    git(hooks, "add", ".")
    git(hooks, "commit", "-qm", "hooks")
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hooks, capture_output=True, text=True, check=True).stdout.strip()

    team = tmp_path / "team"
    (team / "k8s").mkdir(parents=True)
    (team / ".github").mkdir()
    (team / ".github" / "ci.yaml").write_text("on: push\njobs: {}\n")
    (team / "k8s" / "pod.yaml").write_text(BROKEN_POD)
    (team / "k8s" / "sa.yaml").write_text(SERVICE_ACCOUNT)
    (team / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hooks}\n  rev: {rev}\n  hooks:\n  - id: kubectl-wi-lint\n    files: ^k8s/\n"
        f"  - id: kubectl-wi-lint-all\n    args: [-f, k8s/, -R, -o, json]\n"
    )
    git(team, "init", "-q")
    subprocess.run([str(wi_outside.VENV_BIN / "pre-commit"), "install"], cwd=team, env=env, check=True, capture_output=True)
    git(team, "add", ".")

    # The commit is refused: the pod carries the use label as an annotation.
    commit = subprocess.run(["git", "commit", "-m", "add api"], cwd=team, env=env, capture_output=True, text=True)
    said = commit.stdout + commit.stderr  # git shows hook output on stderr
    assert commit.returncode != 0, said
    assert "kubectl wi lint (Workload ID)" in said and "Failed" in said, said
    assert "k8s/pod.yaml:7: error[WI002]" in said, said
    assert '"rule": "WI002"' in said, "the whole-tree hook reports too"
    assert ".github" not in said, "CI files are out of the hook's scope"

    # Fixed, it goes through.
    (team / "k8s" / "pod.yaml").write_text(BROKEN_POD.replace("  annotations:\n    azure.workload.identity/use", "  labels:\n    azure.workload.identity/use"))
    git(team, "add", ".")
    commit = subprocess.run(["git", "commit", "-m", "add api"], cwd=team, env=env, capture_output=True, text=True)
    said = commit.stdout + commit.stderr
    assert commit.returncode == 0, said
    assert said.count("Passed") == 2, said

    # The manifest of the hooks is what pre-commit validates.
    check = subprocess.run([str(wi_outside.VENV_BIN / "pre-commit"), "validate-manifest", str(HOOKS)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
