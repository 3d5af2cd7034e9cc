"""Store-level tests against AWS's DynamoDB Local, in-process (no HTTP).

DynamoDB Local starts when this conftest is imported, before anything imports ``chalicelib``,
because the settings (and with them the endpoint) are read once per process. Run this folder in
a pytest process of its own (``make store``).
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from scripts import dynamodb_local

_DATA = Path(tempfile.mkdtemp(prefix="store-tests-"))
_PROCESS, _ENDPOINT = dynamodb_local.start(_DATA)


def _stop() -> None:
    dynamodb_local.stop(_PROCESS)
    shutil.rmtree(_DATA, ignore_errors=True)


atexit.register(_stop)
os.environ.update(
    {
        "LOYALTY_STAGE": "local",
        "LOYALTY_DYNAMODB_ENDPOINT": _ENDPOINT,
        "LOYALTY_TABLE_PREFIX": "store-test-",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "eu-central-1",
    }
)

import pytest  # noqa: E402

from chalicelib.store import catalog, tables  # noqa: E402
from scripts import seed  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def catalog_data() -> None:
    tables.create_missing_tables()
    catalog.put(seed.PROGRAM)
    for thing in (*seed.MERCHANTS, *seed.STORES, *seed.STAFF):
        catalog.put(thing)
