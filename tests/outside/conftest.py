"""tests/outside: what `kubectl wi generate` writes, checked by tools nobody
on this project wrote. Run from the repository root:

    .ci/python-venv && target/venv/bin/python -m pytest -q tests/outside

The CLI is $KUBECTL_WI (default target/release/kubectl-wi); without it
every test fails with that message rather than being skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import wi_outside  # noqa: E402

SPEC_FILES = sorted(p for p in wi_outside.SPECS.iterdir() if p.suffix in (".yaml", ".json"))


def pytest_configure(config):
    # Keep pytest's and hypothesis' caches in target/ (git-ignored), not in
    # the work tree.
    cache = getattr(config, "cache", None)
    if cache is not None and hasattr(cache, "_cachedir"):
        cache._cachedir = wi_outside.REPO / "target" / "pytest-cache"
    from hypothesis import HealthCheck, settings
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(str(wi_outside.REPO / "target" / "hypothesis-home"))
    from hypothesis.database import DirectoryBasedExampleDatabase

    settings.register_profile(
        "outside",
        database=DirectoryBasedExampleDatabase(str(wi_outside.REPO / "target" / "hypothesis")),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile("outside")


@pytest.fixture(scope="session")
def cli() -> Path:
    problem = wi_outside.cli_problem()
    if problem:
        pytest.fail(problem, pytrace=False)
    return wi_outside.cli_path()


@pytest.fixture(scope="session")
def az_config_dir(tmp_path_factory) -> str:
    """One empty Azure CLI config dir for the session (no account in it),
    so the real az builds its command index once."""
    return str(tmp_path_factory.mktemp("azure-config"))


@pytest.fixture(params=SPEC_FILES, ids=[p.name for p in SPEC_FILES])
def spec_file(request) -> Path:
    return request.param


@pytest.fixture
def generated(cli, spec_file, tmp_path) -> wi_outside.Generated:
    """Every format for one spec file, in tmp_path/out."""
    return wi_outside.generate(spec_file, tmp_path / "out")
