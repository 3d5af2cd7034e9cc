"""schemathesis over the served OpenAPI document, as each role, against the real local stack.

The same run as ``make fuzz`` (``scripts/fuzz_api.py``), one test per role, so ``make test`` closes on
pytest's own count. A failure's details are in schemathesis's output above pytest's report.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import requests

from scripts.fuzz_api import CALLERS, Caller, operation_names, run_role
from tests.integration.conftest import LocalStack


@pytest.mark.parametrize("caller", CALLERS, ids=[c.role for c in CALLERS])
def test_schemathesis_finds_nothing(running: LocalStack, caller: Caller, tmp_path: Path) -> None:
    document = requests.get(f"{running.base_url}/v1/openapi.json", timeout=10).json()
    names = operation_names(document, caller.role, public=caller is CALLERS[0])
    assert names, f"no operation is open to {caller.role}"
    args = argparse.Namespace(max_examples=30, seed=8)
    assert run_role(running.base_url, caller, names, args, tmp_path) == 0, f"schemathesis failed as {caller.role}"
