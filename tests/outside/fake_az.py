"""Stand-ins for `az` and `kubectl` that let a generated az script run to its
end without an Azure login, while the REAL Azure CLI judges every command.

`az ARGS...` (through a wrapper script on PATH) runs the real `az` from the
venv with the same arguments, in a throw-away config dir with no account.
The real CLI parses the whole command line (command, option names, choices,
required options, --query syntax) before it looks for an account, so:

* exit 1 with "Please run 'az login' to setup account." means the command
  line is well-formed;
* exit 2 ("unrecognized arguments", "the following arguments are required",
  "'x' is misspelled or not recognized", "is not a valid value for",
  "expected one argument", "invalid jmespath_type value") means the real CLI
  rejected it.

Each call is appended to a JSON-lines log, and then a plausible result is
faked so the script goes on through every branch (see `fake_result`).

`kubectl ARGS...` saves its standard input (the heredoc the script applies)
to a numbered file and logs its arguments.

Run as `python fake_az.py az ARGS...` or `python fake_az.py kubectl ARGS...`;
configured by the environment variables named in `wrapper_env`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

# What the real CLI prints when the command line is fine but nobody is
# logged in (azure-cli 2.91.0).
NEEDS_LOGIN = "az login"

# Parse errors (argparse and az's own validators); all of them exit 2.
PARSE_ERRORS = (
    "unrecognized arguments",
    "the following arguments are required",
    "is misspelled or not recognized",
    "is not in the",
    "invalid choice",
    "is not a valid value for",
    "expected one argument",
    "invalid jmespath_type value",
    "argument --",
)

# Results the real CLI gives for a well-formed command that Azure itself
# would answer: the command line got past parsing.
RUNTIME_ONLY = ("doesn't exist in cloud",)


def classify(returncode: int, stderr: str) -> str:
    """`accepted` (exit 0), `needs-login` (well-formed), `runtime` (well-formed,
    failed on a lookup), or `rejected` (the real CLI refused the command line)."""
    if returncode == 0:
        return "accepted"
    if returncode == 2 or any(marker in stderr for marker in PARSE_ERRORS):
        return "rejected"
    if NEEDS_LOGIN in stderr:
        return "needs-login"
    if returncode == 1 and any(marker in stderr for marker in RUNTIME_ONLY):
        return "runtime"
    return "rejected"


WELL_FORMED = {"accepted", "needs-login", "runtime"}


def az_environment(config_dir: str) -> dict[str, str]:
    """The environment the real az runs in: its own empty config dir, no
    telemetry, no colour, no survey prompt, no extension auto-install."""
    env = dict(os.environ)
    env.update(
        AZURE_CONFIG_DIR=config_dir,
        AZURE_CORE_COLLECT_TELEMETRY="false",
        AZURE_CORE_NO_COLOR="true",
        AZURE_CORE_SURVEY_MESSAGE="false",
        AZURE_CORE_DISABLE_CONFIRM_PROMPT="true",
        AZURE_EXTENSION_USE_DYNAMIC_INSTALL="no",
    )
    for leak in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_SUBSCRIPTION_ID"):
        env.pop(leak, None)
    return env


def run_real_az(real_az: str, args: list[str], config_dir: str, timeout: float = 120) -> dict:
    """Runs the real CLI and returns what happened, classified."""
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [real_az, *args],
            env=az_environment(config_dir),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        returncode, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired:
        returncode, stdout, stderr = -1, "", f"timed out after {timeout}s"
    seconds = time.monotonic() - start
    return {
        "args": args,
        "returncode": returncode,
        "stdout": stdout,
        "stderr": stderr,
        "seconds": round(seconds, 3),
        "class": classify(returncode, stderr) if returncode != -1 else "timeout",
    }


def option(args: list[str], name: str) -> str | None:
    """The value of `--name VALUE` or `--name=VALUE`."""
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a[len(name) + 1 :]
    return None


def command_words(args: list[str]) -> list[str]:
    """`identity federated-credential create` of `identity federated-credential create --name x`."""
    out = []
    for a in args:
        if a.startswith("-"):
            break
        out.append(a)
    return out


def fake_guid(seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "wi-policy-outside/" + seed))


def fake_result(args: list[str], mode: str, issuer: str) -> tuple[int, str]:
    """A plausible (exit code, stdout) for `az ARGS`.

    mode `fresh`: nothing exists yet. `show` without --query exits 1, cluster
    features are off, no role assignment exists, so every create/update runs.
    mode `existing`: everything exists. `show` exits 0, features are on, role
    assignments are found, so every create is skipped.
    """
    words = command_words(args)
    query = option(args, "--query")
    is_show = bool(words) and words[-1] == "show"
    if is_show and words[:2] == ["aks", "identity-binding"] and mode == "fresh":
        return 1, ""
    if query is not None:
        q = query.strip()
        last = re.split(r"[.\[\]]", q.rstrip("]"))[-1] if q else q
        if q.endswith("issuerUrl"):
            return 0, issuer + "\n"
        if q.endswith(".enabled") or q == "enabled":
            return 0, ("true" if mode == "existing" else "false") + "\n"
        if last in ("clientId", "principalId", "tenantId", "objectId", "appId"):
            return 0, fake_guid(last) + "\n"
        if words[:3] == ["role", "assignment", "list"]:
            if mode == "existing":
                return 0, f"/subscriptions/{fake_guid('sub')}/providers/Microsoft.Authorization/roleAssignments/{fake_guid('ra')}\n"
            return 0, "\n"
        if last in ("id", "resourceId"):
            return 0, f"/subscriptions/{fake_guid('sub')}/resourceGroups/rg/providers/x/y/{fake_guid('id')}\n"
        if is_show and mode == "fresh":
            return 1, ""
        return 0, "fake\n"
    if is_show:
        return (0, "") if mode == "existing" else (1, "")
    return 0, ""


def wrapper_env(*, log: Path, real_az: str, config_dir: str, mode: str, issuer: str, kubectl_dir: Path) -> dict[str, str]:
    return {
        "WI_FAKE_LOG": str(log),
        "WI_FAKE_REAL_AZ": real_az,
        "WI_FAKE_AZ_CONFIG_DIR": config_dir,
        "WI_FAKE_MODE": mode,
        "WI_FAKE_ISSUER": issuer,
        "WI_FAKE_KUBECTL_DIR": str(kubectl_dir),
    }


def write_wrappers(bin_dir: Path) -> None:
    """`az` and `kubectl` scripts in bin_dir that run this file."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for tool in ("az", "kubectl"):
        path = bin_dir / tool
        path.write_text(f'#!/usr/bin/env bash\nexec "{sys.executable}" "{Path(__file__).resolve()}" {tool} "$@"\n')
        path.chmod(0o755)


def log_call(record: dict) -> None:
    with open(os.environ["WI_FAKE_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def main(argv: list[str]) -> int:
    tool, args = argv[0], argv[1:]
    if tool == "kubectl":
        out_dir = Path(os.environ["WI_FAKE_KUBECTL_DIR"])
        out_dir.mkdir(parents=True, exist_ok=True)
        n = len(list(out_dir.glob("stdin-*.yaml")))
        stdin_file = out_dir / f"stdin-{n}.yaml"
        stdin_file.write_bytes(sys.stdin.buffer.read() if not sys.stdin.isatty() else b"")
        log_call({"tool": "kubectl", "args": args, "stdin": str(stdin_file)})
        return 0
    record = run_real_az(os.environ["WI_FAKE_REAL_AZ"], args, os.environ["WI_FAKE_AZ_CONFIG_DIR"])
    code, out = fake_result(args, os.environ.get("WI_FAKE_MODE", "fresh"), os.environ.get("WI_FAKE_ISSUER", ""))
    record.update(tool="az", fake_returncode=code, fake_stdout=out)
    log_call(record)
    sys.stdout.write(out)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
