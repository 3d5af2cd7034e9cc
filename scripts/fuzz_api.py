"""Run schemathesis (an OpenAPI fuzzer we did not write) against the real local stack, once per role.

    python -m scripts.fuzz_api                        (make fuzz; part of make test)
    python -m scripts.fuzz_api --roles cashier --max-examples 10
    python -m scripts.fuzz_api --base-url http://127.0.0.1:8000   (a stack already running: make run)

It starts ``scripts.serve`` on a free port with a fresh data directory (the demo data), mints a
token per role with ``scripts.token``, and runs ``schemathesis run <base>/v1/openapi.json`` over the
operations whose ``x-roles`` include that role (a role's 403 on another role's operation is the API
working, not a finding), all four phases, stateful included. The checks that cannot hold for an
operation, and why, are in ``schemathesis.toml`` beside this project's root. Exits non-zero if any
role's run found a failure.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@dataclass(frozen=True)
class Caller:
    role: str
    sub: str
    merchant_id: str | None = None
    store_id: str | None = None


#: Who fuzzes as each role: demo identities, so the seeded stores, members and rules are theirs.
CALLERS = (
    Caller("customer", "alice"),
    Caller("cashier", "demo-cashier-mitte", "m_kiez", "s_kiez_mitte"),
    Caller("marketer", "demo-marketer", "m_kiez"),
    Caller("admin", "demo-admin", "m_kiez"),
)


def operation_names(document: dict[str, Any], role: str, *, public: bool) -> list[str]:
    """schemathesis's names ("GET /v1/me") of the operations the role may call."""
    names = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            roles = op.get("x-roles")
            if (roles is None and public) or (roles is not None and role in roles):
                names.append(f"{method.upper()} {path}")
    return sorted(names)


def run_role(base_url: str, caller: Caller, names: list[str], args: argparse.Namespace, report_dir: Path) -> int:
    from scripts.token import mint

    token = mint(caller.sub, [caller.role], caller.merchant_id, caller.store_id)
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "run",
        f"{base_url}/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        # Every check is on by default; naming them here ("--checks all") would override the
        # per-operation exceptions in schemathesis.toml.
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--include-name-regex",
        "^(" + "|".join(re.escape(name) for name in names) + ")$",
        "--report",
        "junit",
        "--report-junit-path",
        str(report_dir / f"{caller.role}.xml"),
        "--no-color",
    ]
    printable = [part if not part.startswith("Authorization:") else "Authorization: Bearer $TOKEN" for part in command]
    print(f"\n=== {caller.role}: {len(names)} operations\n$ {' '.join(printable)}", flush=True)
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roles", default=",".join(c.role for c in CALLERS), help="comma-separated")
    parser.add_argument("--max-examples", type=int, default=30, help="per operation (default 30)")
    parser.add_argument("--seed", type=int, default=8, help="schemathesis's seed, for a repeatable run")
    parser.add_argument("--base-url", default=None, help="a running stack instead of starting one")
    parser.add_argument("--report-dir", default=None, help="JUnit reports per role (default: a temp dir)")
    args = parser.parse_args()
    wanted = set(args.roles.split(","))
    callers = [c for c in CALLERS if c.role in wanted]

    with tempfile.TemporaryDirectory(prefix="fuzz-api-") as tmp:
        workdir = Path(tmp)
        report_dir = Path(args.report_dir) if args.report_dir else workdir / "reports"
        report_dir.mkdir(parents=True, exist_ok=True)
        stack = None
        base_url = args.base_url
        if base_url is None:
            sys.path.insert(0, str(ROOT))
            from tests.integration.conftest import LocalStack

            stack = LocalStack(workdir)
            print(f"starting the local stack on {stack.base_url} ...", flush=True)
            stack.start()
            base_url = stack.base_url
        results: list[tuple[str, int, int, float]] = []
        try:
            document = requests.get(f"{base_url}/v1/openapi.json", timeout=10).json()
            for i, caller in enumerate(callers):
                names = operation_names(document, caller.role, public=i == 0)
                started = time.monotonic()
                code = run_role(base_url, caller, names, args, report_dir)
                results.append((caller.role, len(names), code, time.monotonic() - started))
        finally:
            if stack is not None:
                stack.close()

    print("\nrole       operations  result  seconds")
    for role, count, code, seconds in results:
        print(f"{role:<10} {count:>10}  {'ok' if code == 0 else 'FAILED':<6}  {seconds:>7.0f}")
    if any(code != 0 for _, _, code, _ in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
