"""The API through ``chalice.test.Client`` on moto's DynamoDB: real routing, real PynamoDB."""

import os

os.environ.update(
    {
        "LOYALTY_STAGE": "local",
        "LOYALTY_TABLE_PREFIX": "test-",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
    }
)
os.environ.pop("LOYALTY_DYNAMODB_ENDPOINT", None)
os.environ.pop("LOYALTY_DEV_JWT_SECRET", None)

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

import app as handlers
from app import app
from chalicelib import ports, queues
from chalicelib.services import member_snapshot, reports
from chalicelib.store import catalog, snapshot, streams, tables
from chalicelib.store.ledger import LedgerEntryModel, PurchaseModel
from chalicelib.store.members import MemberModel
from scripts import seed
from scripts.local_gateway import Gateway
from scripts.token import mint
from tests.functional.aws_calls import pytest_configure, pytest_sessionfinish  # noqa: F401 - the suite's hooks

CASHIER = {"sub": "demo-cashier-mitte", "roles": ["cashier"], "merchant_id": "m_kiez", "store_id": "s_kiez_mitte"}


#: The stage's snapshot bucket (moto's): the suite's snapshot is mirrored there as on AWS.
SNAPSHOT_BUCKET = "loyalty-test-snapshot"


@pytest.fixture
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with mock_aws():
        boto3.client("s3", region_name="eu-central-1").create_bucket(
            Bucket=SNAPSHOT_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
        )
        with snapshot.replaced(tmp_path_factory.mktemp("snapshot"), snapshot.Mirror(SNAPSHOT_BUCKET)):
            tables.create_missing_tables()
            queues.reset_clients()
            queues.create_missing()
            catalog.put(seed.PROGRAM)
            for thing in (*seed.MERCHANTS, *seed.STORES, *seed.BEACONS, *seed.STAFF):
                catalog.put(thing)
            yield


class Api:
    """A thin HTTP client over chalice's test client, speaking JSON with a bearer token."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._members_stream: streams.StreamReader | None = None
        self._report_streams: tuple[streams.StreamReader, streams.StreamReader] | None = None

    def feed_reports(self) -> None:
        """The ledger's and the purchases' streams since the last call into the report counters."""
        if self._report_streams is None:
            self._report_streams = (streams.StreamReader(LedgerEntryModel), streams.StreamReader(PurchaseModel))
        ledger, purchases = self._report_streams
        ledger.poll(
            lambda records: reports.on_ledger_records(
                [(r["eventName"], r["dynamodb"].get("NewImage")) for r in records], clock=ports.now
            )
        )
        purchases.poll(lambda records: reports.on_purchase_records(records, clock=ports.now))

    def feed_snapshot(self) -> int:
        """The members table's stream since the last call, into the members' snapshot (what the
        stream's Lambda does on AWS); returns how many records."""
        if self._members_stream is None:
            self._members_stream = streams.StreamReader(MemberModel)
        return self._members_stream.poll(lambda records: member_snapshot.on_member_records(records, at=ports.now()))

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = self.client.http.request(method.upper(), path, headers=sent, body=payload)
        return response

    def customer(self, sub: str) -> str:
        return mint(sub, ["customer"])

    def cashier(self) -> str:
        return mint(CASHIER["sub"], CASHIER["roles"], CASHIER["merchant_id"], CASHIER["store_id"])

    def join(self, sub: str, phone: str = "0151 23456789", **extra: Any) -> Any:
        body = {"name": f"Member {sub}", "phone": phone, "birthday": "1990-04-12", "marketing_consent": True, **extra}
        return self.call("POST", "/v1/me", self.customer(sub), body)

    def run_job(self, name: str, at: datetime) -> Any:
        """``POST /v1/jobs/{name}/run`` as of ``at`` (an admin), then the contacts queue drained into
        the same handler Lambda calls: what the job fanned out is decided. Returns its summary."""
        answer = self.call("POST", f"/v1/jobs/{name}/run", mint("demo-admin", ["admin"]), {"at": at.isoformat()})
        assert answer.status_code == 200, answer.json_body
        while queues.poll_once(queues.CONTACTS, handlers.contact_members):
            pass
        return answer.json_body["result"]

    def inbox(self, sub: str, kind: str | None = None) -> list[Any]:
        """The member's inbox (of one kind of message, if given), newest first."""
        items = self.call("GET", "/v1/me/inbox", self.customer(sub)).json_body["items"]
        return [m for m in items if kind is None or m["kind"] == kind]


@pytest.fixture
def api(aws: None) -> Iterator[Api]:
    with Client(app) as client:
        # Route as the local server and AWS do: unknown routes 404, any method on a known path 405.
        client.http._local_gateway = Gateway(app, client.http._config)
        yield Api(client)


class FakeClock:
    """The time the API's views pass to the services; tests move it."""

    def __init__(self) -> None:
        # Mid-morning in Berlin, so an hour or two later is still the same local day.
        self.now = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    """Every route, job and handler reads this clock while the test runs (``chalicelib.ports``)."""
    fake = FakeClock()
    with ports.replaced(clock=fake):
        yield fake
