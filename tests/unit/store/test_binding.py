"""The store binds to DynamoDB from the settings on first use, never at import: a process may
set its endpoint and tables after importing the application (as tests/store's conftest must)."""

import subprocess
import sys
from pathlib import Path

IMPORT_THEN_CONFIGURE = """
import os
os.environ.pop("LOYALTY_DYNAMODB_ENDPOINT", None)
from chalicelib import config
from chalicelib.services import catalog_cache, checkins, members, purchases, refunds
from chalicelib.store import base, catalog, erasure, ledger, members as member_store, tables, wallet
assert config.settings.cache_info().currsize == 0, "the settings were read at import"
os.environ.update({"LOYALTY_TABLE_PREFIX": "late-", "LOYALTY_DYNAMODB_ENDPOINT": "http://127.0.0.1:9"})
print(catalog.CatalogItem.Meta.table_name, member_store.MemberModel.Meta.table_name)
print(member_store.MemberModel.Meta.host, base.connection().host)
"""


def test_tables_and_endpoint_come_from_the_settings_at_first_use_not_at_import():
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(  # noqa: S603 - our own interpreter on a fixed script
        [sys.executable, "-c", IMPORT_THEN_CONFIGURE], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    names, endpoints = done.stdout.splitlines()
    assert names.split()[:2] == ["late-catalog", "late-members"]
    assert endpoints.split() == ["http://127.0.0.1:9", "http://127.0.0.1:9"]
