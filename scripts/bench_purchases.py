"""Figures for "points are money": DynamoDB requests and units per purchase, purchases over HTTP.

    python -m scripts.bench_purchases
    python -m scripts.bench_purchases --skip-http --samples 10
    python -m scripts.bench_purchases --skip-counts --threads 8 --per-thread 20 --cards 300

1. DynamoDB requests per call of ``POST /v1/purchases`` (a scanned QR, a card number, a phone
   number said, a customer_id; with and without redemption), of a replay of the same
   Idempotency-Key, of ``POST /v1/purchases/{id}/refund`` and of ``GET /v1/me/ledger``: in-process
   on DynamoDB Local through ``chalice.test.Client`` on a warm process (one warm-up call of each
   kind first), counted by wrapping botocore's
   ``BaseClient._make_api_call`` as ``scripts.bench_foundation`` does. Beside DynamoDB Local's own
   ConsumedCapacity, the units AWS would bill, computed from the items' sizes: reads 1 RCU per 4 KB
   (half for eventually consistent ones), transactional writes 2 WCU per KB per item, and the
   writes to global secondary indexes a change of their keys causes.
2. Over HTTP on ``python -m scripts.serve``: (a) one card, N threads at once, each recording
   purchases that redeem a few points (the member made rich first), each with a fresh
   Idempotency-Key; (b) many cards (joined first, in parallel), one purchase each. Purchases a
   second, latency percentiles and the share of each status and error code; afterwards, for the
   one card and a sample of the others, the balance must equal the sum of the ledger.

Everything runs on 127.0.0.1 in temporary directories; Ctrl-C or SIGTERM cleans up children
and files. Progress goes to stdout as it happens, the table of figures comes last.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from scripts import bench_foundation
from scripts.bench_foundation import (
    CASHIER_MERCHANT,
    CASHIER_SUB,
    HTTP_TIMEOUT_S,
    NO_ENDPOINT,
    ROOT,
    ApiCall,
    BenchError,
    DynamoCounter,
    Report,
    Server,
    capacity,
    local_env,
    ms,
    ops,
    percentile,
    positive,
    progress,
)

if TYPE_CHECKING:
    import requests

STORE_ID = "s_kiez_mitte"
CURRENCY = "EUR"
#: The bill of every measured purchase (minor units) and the points each redeems.
AMOUNT = 2_500
REDEEM = 100
#: The purchase that makes a member rich before the redemptions (EUR 100,000: ~100,000 points).
RICH_AMOUNT = 10_000_000
#: Members of the request counts and of the one-card run (phones unlike the many cards' 0151 6xxxxxxx).
COUNT_SUB, COUNT_PHONE = "bench-purchases", "0151 59000001"
ONE_CARD_SUB, ONE_CARD_PHONE = "bench-one-card", "0151 59000002"
#: A purchase may retry its transaction up to six times under contention: allow it time.
PURCHASE_TIMEOUT_S = 30.0
LEDGER_PAGE = 200
#: Members of the many-cards run whose balance is checked against their ledger.
CHECK_SAMPLE = 20
#: Unmeasured purchases per thread before the one-card run (server threads, connections, JIT).
WARMUP_PER_THREAD = 2
KB = 1024
READ_UNIT_BYTES = 4 * KB

COUNTS_SECTION = "DynamoDB requests per call (warm process, in-process on DynamoDB Local)"


# --- 1. DynamoDB requests and units per call ----------------------------------------------------


def _number_size(text: str) -> int:
    digits = text.lower().split("e")[0].lstrip("+-").replace(".", "").strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value as DynamoDB counts them (documented rules; numbers approximate)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in raw)
    if kind == "NS":
        return sum(_number_size(n) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + attribute_size(v) for k, v in raw.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in (item or {}).items())


def read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / READ_UNIT_BYTES)) * (1.0 if consistent else 0.5)


@dataclass
class Schema:
    keys: list[str]
    #: (index name, key attributes, projection type) of each global secondary index.
    indexes: list[tuple[str, list[str], str]]


@dataclass
class SizedCall(ApiCall):
    """A call with the units AWS would bill for it, from the sizes of the items it touched."""

    tables: list[str] = field(default_factory=list)
    rcu: float = 0.0
    wcu: float = 0.0
    index_writes: int = 0
    #: (table, bytes billed) of each item a write touched.
    written: list[tuple[str, int]] = field(default_factory=list)
    failed: bool = False


Probe = Callable[[str, dict[str, Any]], Any]


class UnitCounter(DynamoCounter):
    """:class:`DynamoCounter` that also works out each call's billable units.

    A write's units depend on the larger of the item before and after it, so around each write the
    counter reads the items it touches with uncounted GetItems ("probes"); their time is kept apart
    so it can be taken off the measured time.
    """

    def __init__(self, table_prefix: str) -> None:
        super().__init__()
        self.table_prefix = table_prefix
        self.probe_s = 0.0
        self._schemas: dict[str, Schema] = {}

    def short(self, table: str) -> str:
        return table.removeprefix(self.table_prefix)

    @contextmanager
    def installed(self) -> Iterator[None]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        counter = self

        def counting(client: Any, operation_name: str, api_params: Any) -> Any:
            if not counter._active or client.meta.service_model.service_name != "dynamodb":
                return original(client, operation_name, api_params)

            def probe(operation: str, params: dict[str, Any]) -> Any:
                began = time.perf_counter()
                try:
                    return original(client, operation, params)
                finally:
                    counter.probe_s += time.perf_counter() - began

            items = (len(api_params.get("TransactItems") or ()) or 1) if isinstance(api_params, dict) else 1
            call = SizedCall(operation_name, None, items)
            writes = counter._writes(operation_name, api_params, probe)
            try:
                response = original(client, operation_name, api_params)
            except BaseException:
                call.failed = True
                counter._bill(call, api_params, None, writes, probe)
                counter.calls.append(call)
                raise
            call.capacity = capacity(response)
            counter._bill(call, api_params, response, writes, probe)
            counter.calls.append(call)
            return response

        BaseClient._make_api_call = counting  # type: ignore[method-assign]
        try:
            yield
        finally:
            BaseClient._make_api_call = original  # type: ignore[method-assign]

    @contextmanager
    def measure(self) -> Iterator[list[ApiCall]]:
        self.probe_s = 0.0
        with super().measure() as calls:
            yield calls

    def _schema(self, table: str, probe: Probe) -> Schema:
        if table not in self._schemas:
            described = probe("DescribeTable", {"TableName": table})["Table"]
            self._schemas[table] = Schema(
                keys=[k["AttributeName"] for k in described["KeySchema"]],
                indexes=[
                    (
                        gsi["IndexName"],
                        [k["AttributeName"] for k in gsi["KeySchema"]],
                        gsi.get("Projection", {}).get("ProjectionType", "ALL"),
                    )
                    for gsi in described.get("GlobalSecondaryIndexes", [])
                ],
            )
        return self._schemas[table]

    def _writes(
        self, operation: str, params: Any, probe: Probe
    ) -> list[tuple[str, str, dict[str, Any], dict[str, Any], dict[str, Any] | None]]:
        """(kind, table, key, item before, item put) of each item a write touches, read before it."""
        if not isinstance(params, dict):
            return []
        specs: list[tuple[str, dict[str, Any]]] = []
        if operation == "TransactWriteItems":
            specs = [next(iter(item.items())) for item in params.get("TransactItems", [])]
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            specs = [(operation.removesuffix("Item"), params)]
        found = []
        for kind, spec in specs:
            table = spec["TableName"]
            put = spec.get("Item") if kind == "Put" else None
            key = spec.get("Key") or {k: (put or {})[k] for k in self._schema(table, probe).keys}
            before = probe("GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}).get("Item") or {}
            found.append((kind, table, key, before, put))
        return found

    def _bill(
        self,
        call: SizedCall,
        params: Any,
        response: Any,
        writes: list[tuple[str, str, dict[str, Any], dict[str, Any], dict[str, Any] | None]],
        probe: Probe,
    ) -> None:
        if not isinstance(params, dict):
            return
        operation = call.operation
        if operation in ("GetItem", "Query", "Scan"):
            call.tables = [self.short(params["TableName"])]
            if isinstance(response, dict):
                got = [response["Item"]] if response.get("Item") else response.get("Items", [])
                call.rcu = read_units(sum(item_size(i) for i in got), bool(params.get("ConsistentRead")))
            return
        if operation == "BatchGetItem":
            # Billed as a GetItem per item, each table read as its request asked.
            asked = params.get("RequestItems", {})
            call.tables = sorted(self.short(t) for t in asked)
            found = response.get("Responses", {}) if isinstance(response, dict) else {}
            call.rcu = sum(
                read_units(item_size(item), bool(asked.get(table, {}).get("ConsistentRead")))
                for table, items in found.items()
                for item in items
            )
            return
        per_item = 2 if operation == "TransactWriteItems" else 1
        for kind, table, key, before, put in writes:
            if response is None or kind == "ConditionCheck":
                after = before
            elif kind == "Delete":
                after = {}
            else:
                after = probe("GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}).get("Item") or {}
            size = max(item_size(before), item_size(after), item_size(put) if response is None else 0)
            call.tables.append(self.short(table))
            call.written.append((self.short(table), size))
            call.wcu += per_item * max(1, math.ceil(size / KB))
            if response is not None:
                call.index_writes += _index_writes(self._schema(table, probe), before, after)


def _index_writes(schema: Schema, before: dict[str, Any], after: dict[str, Any]) -> int:
    """Writes to the table's global secondary indexes when an item goes from ``before`` to ``after``."""
    writes = 0
    for _, keys, projection in schema.indexes:
        was = all(k in before for k in keys)
        now = all(k in after for k in keys)
        if was and now:
            if any(before[k] != after[k] for k in keys):
                writes += 2  # the old index entry deleted, the new one put
            elif projection != "KEYS_ONLY" and before != after:
                writes += 1
        elif was or now:
            writes += 1
    return writes


@dataclass
class Kind:
    label: str
    shape: str
    tables: str
    local_cu: list[float]
    rcu: list[float]
    wcu: list[float]
    #: Units of writes that were refused (a canceled transaction): an upper bound of what AWS bills.
    failed_wcu: list[float]
    index_writes: list[int]
    written: list[tuple[str, int]]
    seconds: list[float]


def _span(values: Sequence[float], unit: str) -> str:
    low, high = min(values), max(values)
    return f"{low:g} {unit}" if low == high else f"{low:g}-{high:g} {unit}"


def _read_tables(calls: list[ApiCall]) -> str:
    reads = Counter(
        f"{c.operation} {'+'.join(c.tables)}"
        for c in calls
        if isinstance(c, SizedCall) and c.operation in ("GetItem", "Query", "Scan", "BatchGetItem") and c.tables
    )
    return ", ".join(f"{name}" + (f" x{n}" if n > 1 else "") for name, n in reads.items()) or "no reads"


def _written(calls: list[ApiCall]) -> list[tuple[str, int]]:
    return [w for c in calls if isinstance(c, SizedCall) for w in c.written]


def measure_requests(report: Report, samples: int) -> None:
    bench_foundation.measure_requests(report, samples, _measure_requests)


def _measure_requests(report: Report, samples: int, endpoint: str) -> None:
    import structlog
    from chalice.test import Client

    from app import app
    from chalicelib.config import settings
    from scripts import seed
    from scripts.token import mint

    # The access log would print a JSON line per call among the progress lines.
    devnull = open(os.devnull, "w")  # noqa: SIM115 - closed below
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=devnull))
    try:
        progress(f"  DynamoDB Local on {endpoint}; creating tables and seeding ...")
        for key, value in seed.seed().items():
            progress(f"  seed {key}: {value}")
        counter = UnitCounter(settings().table_prefix)
        cashier = {
            "Authorization": f"Bearer {mint(CASHIER_SUB, ['cashier'], merchant_id=CASHIER_MERCHANT)}",
            "Content-Type": "application/json",
        }
        customer = {"Authorization": f"Bearer {mint(COUNT_SUB, ['customer'])}"}

        with counter.installed(), Client(app, project_dir=str(ROOT)) as client:
            http = client.http

            def body_of(response: Any) -> Any:
                return json.loads(response.body)

            def purchase(body: dict[str, Any], key: str | None = None) -> Any:
                headers = {**cashier, "Idempotency-Key": key or str(uuid.uuid4())}
                return http.post("/v1/purchases", headers=headers, body=json.dumps(body))

            def checked(label: str, call: Callable[[], Any], status: int) -> tuple[Any, list[ApiCall], float]:
                with counter.measure() as calls:
                    began = time.perf_counter()
                    response = call()
                    took = time.perf_counter() - began - counter.probe_s
                if response.status_code != status:
                    raise BenchError(f"{label}: {response.status_code} {response.body[:300]!r}")
                return response, calls, took

            def kind(label: str, calls: list[Callable[[], Any]], status: int) -> Kind:
                """One warm-up call (reported apart), then the measured ones."""
                _, warmup, _ = checked(label, calls[0], status)
                results = [checked(label, call, status) for call in calls[1:]]
                measured = [r[1] for r in results]
                counts = [len(m) for m in measured]
                shapes = Counter(ops(m) for m in measured)
                extremes = f" (min {min(counts)}, max {max(counts)})" if min(counts) != max(counts) else ""
                shape = shapes.most_common(1)[0][0] + (" (varies)" if len(shapes) > 1 else "")
                first = "same" if ops(warmup) == shape else ops(warmup)
                sized = [[c for c in m if isinstance(c, SizedCall)] for m in measured]
                local = [sum(c.capacity for c in m if c.capacity is not None) for m in measured]
                found = Kind(
                    label=label,
                    shape=shape,
                    tables=_read_tables(measured[-1]),
                    local_cu=local,
                    rcu=[sum(c.rcu for c in m) for m in sized],
                    wcu=[sum(c.wcu for c in m if not c.failed) for m in sized],
                    failed_wcu=[sum(c.wcu for c in m if c.failed) for m in sized],
                    index_writes=[sum(c.index_writes for c in m) for m in sized],
                    written=_written(measured[-1]),
                    seconds=[r[2] for r in results],
                )
                local_text = (
                    _span(local, "CU")
                    if any(c.capacity is not None for m in measured for c in m)
                    else "no ConsumedCapacity"
                )
                value = (
                    f"{statistics.mean(counts):g} req/call{extremes}: {shape} | AWS {_span(found.rcu, 'RCU')}"
                    f" + {_span(found.wcu, 'WCU')}"
                    + (f" + {_span(found.index_writes, 'GSI write(s)')}" if any(found.index_writes) else "")
                    + (
                        f" (+ up to {_span(found.failed_wcu, 'WCU')} if the canceled transaction is billed)"
                        if any(found.failed_wcu)
                        else ""
                    )
                    + f" | DynamoDB Local: {local_text}"
                    f" | {ms(statistics.median(found.seconds))} in-process | warm-up call: {first}"
                )
                report.add(COUNTS_SECTION, label, value)
                detail = f"reads: {found.tables}"
                if found.written:
                    refused = " (refused)" if any(found.failed_wcu) else ""
                    detail += f"; items written{refused}: " + ", ".join(f"{t} {size} B" for t, size in found.written)
                report.add(COUNTS_SECTION, "    which reads, which items", detail)
                progress(f"  {label}: {value}\n    {detail}")
                big = sorted({f"{t} {size} B" for t, size in found.written if size > KB})
                if big:
                    report.notes.append(
                        f"{label}: over 1 KB, so 4 WCU each in the transaction instead of 2: {', '.join(big)}"
                    )
                if any(found.failed_wcu):
                    report.notes.append(
                        f"{label}: a retry reads the card and the member and tries the whole transaction again;"
                        " only its cancellation (the idempotency record exists) leads to the GetItem that replays"
                    )
                return found

            progress("  joining the bench member and making it rich (unmeasured) ...")

            def join(sub: str, phone: str) -> dict[str, Any]:
                headers = {"Authorization": f"Bearer {mint(sub, ['customer'])}", "Content-Type": "application/json"}
                joined = http.post("/v1/me", headers=headers, body=json.dumps(_join_body(phone)))
                if joined.status_code != 201:
                    raise BenchError(f"join: {joined.status_code} {joined.body[:300]!r}")
                return dict(body_of(joined))

            member = join(COUNT_SUB, COUNT_PHONE)
            card, customer_id = member["card_number"], member["customer_id"]
            rich = purchase(_purchase_body(card, RICH_AMOUNT, 0))
            if rich.status_code != 201:
                raise BenchError(f"the big purchase: {rich.status_code} {rich.body[:300]!r}")
            progress(
                f"  balance {body_of(rich)['points_balance']} points; {samples} calls of each kind after a warm-up"
            )

            n = samples + 1
            by_card = _purchase_body(card, AMOUNT, 0)
            by_id = {"customer_id": customer_id, **{k: v for k, v in by_card.items() if k != "card"}}
            # The QR as the app shows it, fetched beforehand (unmeasured): what a till scans.
            scanned = [body_of(http.get("/v1/me/card", headers=customer))["qr_payload"] for _ in range(n)]
            kinds = [
                kind(
                    "POST /v1/purchases (scanned QR, no redemption)",
                    [lambda code=code: purchase({**by_card, "card": code}) for code in scanned],
                    201,
                ),
                kind("POST /v1/purchases (card number, no redemption)", [lambda: purchase(by_card)] * n, 201),
                kind(
                    "POST /v1/purchases (phone number said, no redemption)",
                    [lambda: purchase({**by_card, "card": COUNT_PHONE})] * n,
                    201,
                ),
                kind(
                    f"POST /v1/purchases (card number, redeem {REDEEM})",
                    [lambda: purchase({**by_card, "redeem_points": REDEEM})] * n,
                    201,
                ),
                kind("POST /v1/purchases (customer_id, no redemption)", [lambda: purchase(by_id)] * n, 201),
                kind(
                    f"POST /v1/purchases (customer_id, redeem {REDEEM})",
                    [lambda: purchase({**by_id, "redeem_points": REDEEM})] * n,
                    201,
                ),
            ]
            # A member's first purchase also puts the member into the points-expiry index.
            newcomers = [join(f"{COUNT_SUB}-{i}", f"0151 5910{i:04d}")["card_number"] for i in range(n)]
            kind(
                "POST /v1/purchases (a new member's first, card number)",
                [lambda c=c: purchase(_purchase_body(c, AMOUNT, 0)) for c in newcomers],
                201,
            )

            # Replays: the same key and body again, answered from the idempotency record.
            originals = []
            for _ in range(n):
                key = str(uuid.uuid4())
                if purchase({**by_card, "redeem_points": REDEEM}, key).status_code != 201:
                    raise BenchError("a purchase to replay failed")
                originals.append(key)
            kind(
                "POST /v1/purchases (replay of the same Idempotency-Key)",
                [lambda key=key: purchase({**by_card, "redeem_points": REDEEM}, key) for key in originals],
                201,
            )

            # Refunds in full of purchases that redeemed: earned points back, redeemed ones returned.
            to_refund = []
            for _ in range(n):
                bought = purchase({**by_card, "redeem_points": REDEEM})
                if bought.status_code != 201:
                    raise BenchError("a purchase to refund failed")
                to_refund.append(body_of(bought)["purchase_id"])
            kind(
                "POST /v1/purchases/{id}/refund (in full)",
                [
                    lambda pid=pid: http.post(
                        f"/v1/purchases/{quote(pid, safe='')}/refund",
                        headers={**cashier, "Idempotency-Key": str(uuid.uuid4())},
                        body="{}",
                    )
                    for pid in to_refund
                ],
                201,
            )

            ledger_size = len(body_of(http.get(f"/v1/me/ledger?limit={LEDGER_PAGE}", headers=customer))["items"])
            kind("GET /v1/me/ledger (default limit 50)", [lambda: http.get("/v1/me/ledger", headers=customer)] * n, 200)
            kind(
                f"GET /v1/me/ledger?limit={LEDGER_PAGE} ({min(ledger_size, LEDGER_PAGE)} entries)",
                [lambda: http.get(f"/v1/me/ledger?limit={LEDGER_PAGE}", headers=customer)] * n,
                200,
            )
        _purchase_notes(report, kinds)
    finally:
        structlog.configure(logger_factory=structlog.PrintLoggerFactory())
        devnull.close()


def _purchase_notes(report: Report, kinds: list[Kind]) -> None:
    shapes = {k.shape for k in kinds}
    reads = {k.tables for k in kinds}
    report.notes.append(
        "POST /v1/purchases: aim one read + one transaction; measured "
        + " / ".join(sorted(shapes))
        + f" (reads: {' / '.join(sorted(reads))}): a scanned QR names the member's key (sealed), so it reads the"
        " member only; a card number, a phone or a customer_id is a claim item naming the member's sub, so"
        " finding the member takes the claim's GetItem and then the member's (the member is read with the"
        " catalog's version in one BatchGetItem)"
    )
    report.notes.append(
        "AWS units are computed from the items' sizes (DynamoDB's documented size rules): GetItem/Query"
        " 1 RCU per 4 KB (0.5 if eventually consistent), transactional writes 2 WCU per started KB per item"
        " (the larger of the item before and after), GSI writes ~1 WCU each (members' by_expiry index, when the"
        " next expiry date changes); DynamoDB Local's own CU figures do not follow AWS's per-item billing of"
        " transactions (two ledger entries cost it no more than one)"
    )


def _join_body(phone: str) -> dict[str, Any]:
    return {"name": "Bench Purchases", "phone": phone, "birthday": "1990-01-01", "marketing_consent": True}


def _purchase_body(card: str, amount: int, redeem: int) -> dict[str, Any]:
    return {"card": card, "store_id": STORE_ID, "amount": amount, "currency": CURRENCY, "redeem_points": redeem}


# --- 2. purchases over HTTP ---------------------------------------------------------------------


@dataclass
class Reply:
    """One HTTP exchange: ``outcome`` is the status and error code, or the exception's name."""

    outcome: str
    seconds: float
    body: Any = None
    #: Who the exchange was for (the sub of a join).
    tag: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome[:1] == "2"

    @property
    def server_error(self) -> bool:
        return not self.outcome[:1].isdigit() or self.outcome[:1] == "5"


def exchange(
    session: requests.Session,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: Any = None,
    timeout: float = HTTP_TIMEOUT_S,
) -> Reply:
    import requests

    began = time.perf_counter()
    try:
        response = session.request(method, url, json=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return Reply(type(exc).__name__, time.perf_counter() - began)
    took = time.perf_counter() - began
    try:
        payload = response.json()
    except ValueError:
        payload = None
    outcome = str(response.status_code)
    if response.status_code >= 400:
        error = payload.get("error") if isinstance(payload, dict) else None
        outcome += f" {error.get('code')}" if isinstance(error, dict) else " (no error body)"
    return Reply(outcome, took, payload)


Job = Callable[["requests.Session"], Reply]


def run_threads(jobs: list[list[Job]]) -> tuple[list[Reply], float]:
    """Each list of ``jobs`` on a thread of its own with its own kept-alive session, all starting
    together; the replies and the wall time from the start to the last reply."""
    import requests

    replies: list[Reply] = []
    lock = threading.Lock()
    start = threading.Barrier(len(jobs) + 1)
    stop = threading.Event()

    def worker(mine: list[Job]) -> None:
        got: list[Reply] = []
        with requests.Session() as session:
            try:
                start.wait()
            except threading.BrokenBarrierError:
                return
            for job in mine:
                if stop.is_set():
                    break
                got.append(job(session))
        with lock:
            replies.extend(got)

    workers = [threading.Thread(target=worker, args=(mine,), daemon=True) for mine in jobs]
    for w in workers:
        w.start()
    try:
        start.wait()
        began = time.perf_counter()
        for w in workers:
            w.join()
        wall = time.perf_counter() - began
    except BaseException:
        stop.set()
        start.abort()
        raise
    return replies, wall


def split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts)]


def latencies(replies: list[Reply]) -> str:
    lat = sorted(r.seconds for r in replies)
    if not lat:
        return "no replies"
    return f"p50 {ms(percentile(lat, 50))}  p95 {ms(percentile(lat, 95))}  p99 {ms(percentile(lat, 99))}"


def mix(replies: list[Reply]) -> str:
    outcomes = Counter(r.outcome for r in replies)
    return ", ".join(f"{name} {100 * n / len(replies):.1f}% ({n})" for name, n in sorted(outcomes.items()))


@dataclass
class LedgerCheck:
    ok: bool
    balance: int
    entries: int
    why: str = ""


def check_ledger(session: requests.Session, base_url: str, headers: dict[str, str]) -> LedgerCheck:
    """The balance GET /v1/me shows against the whole ledger (paged with next_cursor)."""
    me = exchange(session, "GET", f"{base_url}/v1/me", headers=headers)
    if not me.ok:
        return LedgerCheck(False, -1, 0, f"GET /v1/me: {me.outcome}")
    balance = int(me.body["points_balance"])
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        url = f"{base_url}/v1/me/ledger?limit={LEDGER_PAGE}" + (f"&cursor={quote(cursor, safe='')}" if cursor else "")
        page = exchange(session, "GET", url, headers=headers)
        if not page.ok:
            return LedgerCheck(False, balance, len(items), f"GET /v1/me/ledger: {page.outcome}")
        items += page.body["items"]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    total = sum(int(e["points"]) for e in items)
    problems = []
    if total != balance:
        problems.append(f"ledger sum {total} != balance {balance}")
    if items and int(items[0]["balance_after"]) != balance:
        problems.append(f"newest balance_after {items[0]['balance_after']} != balance {balance}")
    if any(int(e["balance_after"]) < 0 for e in items):
        problems.append("a negative balance_after")
    if len({e["entry_id"] for e in items}) != len(items):
        problems.append("an entry repeated across pages")
    return LedgerCheck(not problems, balance, len(items), "; ".join(problems))


@dataclass
class Http:
    """What the HTTP runs share: the server, the tokens and a session for the checks."""

    server: Server
    secret: str
    session: requests.Session
    cashier: dict[str, str]

    def customer(self, sub: str) -> dict[str, str]:
        from scripts.token import mint

        return {"Authorization": f"Bearer {mint(sub, ['customer'], secret=self.secret)}"}

    def url(self, path: str) -> str:
        return f"{self.server.base_url}/v1{path}"

    def join(self, session: requests.Session, sub: str, phone: str) -> Reply:
        reply = exchange(session, "POST", self.url("/me"), headers=self.customer(sub), body=_join_body(phone))
        reply.tag = sub
        return reply

    def purchase(self, session: requests.Session, card: str, amount: int, redeem: int) -> Reply:
        headers = {**self.cashier, "Idempotency-Key": str(uuid.uuid4())}
        return exchange(
            session,
            "POST",
            self.url("/purchases"),
            headers=headers,
            body=_purchase_body(card, amount, redeem),
            timeout=PURCHASE_TIMEOUT_S,
        )


def _run_line(replies: list[Reply], wall: float, in_app: list[float]) -> str:
    won = [r for r in replies if r.ok]
    line = f"{len(won) / wall:.1f} purchases/s ({len(won)} of {len(replies)} in {wall:.1f} s); all {latencies(replies)}"
    if won and len(won) != len(replies):
        line += f"; 201s {latencies(won)}"
    if in_app:
        handler = sorted(in_app)
        line += f"  | in the app p50 {ms(percentile(handler, 50))} p95 {ms(percentile(handler, 95))}"
    return line


def _errors_note(report: Report, label: str, replies: list[Reply]) -> None:
    bad = Counter(r.outcome for r in replies if r.server_error)
    if bad:
        report.notes.append(f"{label}: 5xx or transport errors {dict(bad)}")


def one_card_run(report: Report, http: Http, threads: int, per_thread: int) -> None:
    section = f"HTTP, one card: {threads} threads x {per_thread} purchases (EUR {AMOUNT / 100:.2f}, redeem {REDEEM})"
    progress(f"[one card] joining {ONE_CARD_SUB} and making it rich with one purchase of {RICH_AMOUNT / 100:,.0f} EUR")
    joined = http.join(http.session, ONE_CARD_SUB, ONE_CARD_PHONE)
    if not joined.ok:
        raise BenchError(f"join: {joined.outcome} {joined.body}")
    card = joined.body["card_number"]
    rich = http.purchase(http.session, card, RICH_AMOUNT, 0)
    if not rich.ok:
        raise BenchError(f"the big purchase: {rich.outcome} {rich.body}")
    needed = threads * (per_thread + WARMUP_PER_THREAD) * REDEEM
    progress(f"  balance {rich.body['points_balance']} points (the run redeems at most {needed})")

    def job(session: requests.Session) -> Reply:
        return http.purchase(session, card, AMOUNT, REDEEM)

    def buying(count: int) -> list[list[Job]]:
        return [[job] * count for _ in range(threads)]

    progress(f"  warm-up: {threads} threads x {WARMUP_PER_THREAD} purchases (not counted) ...")
    warm, _ = run_threads(buying(WARMUP_PER_THREAD))
    _errors_note(report, "one card warm-up", warm)
    before = check_ledger(http.session, http.server.base_url, http.customer(ONE_CARD_SUB))
    progress(f"  {threads} threads x {per_thread} purchases on one card ...")
    offset = http.server.log_size()
    replies, wall = run_threads(buying(per_thread))
    in_app = http.server.handler_seconds(offset, "POST", "/v1/purchases")
    line = _run_line(replies, wall, in_app)
    progress(f"    {line}\n    {mix(replies)}")
    report.add(section, "throughput and latency", line)
    report.add(section, "responses", mix(replies))
    _errors_note(report, "one card", replies)

    after = check_ledger(http.session, http.server.base_url, http.customer(ONE_CARD_SUB))
    won = [r.body for r in replies if r.ok]
    moved = sum(int(w["points_earned"]) - int(w["points_redeemed"]) for w in won)
    problems = [p for p in (before.why, after.why) if p]
    if after.balance != before.balance + moved:
        problems.append(f"balance {after.balance} != {before.balance} before + {moved} moved by the 201s")
    verdict = (
        f"OK: balance {after.balance} = sum of {after.entries} ledger entries"
        f" = {before.balance} before {moved:+d} (earned - redeemed of the 201s)"
        if not problems
        else "MISMATCH: " + "; ".join(problems)
    )
    progress(f"  check: {verdict}")
    report.add(section, "balance vs ledger", verdict)
    if problems:
        report.notes.append(f"one card: balance/ledger MISMATCH: {'; '.join(problems)}")


def many_cards_run(report: Report, http: Http, threads: int, cards: int, sample: int) -> None:
    section = f"HTTP, {cards} cards: {threads} threads, one purchase per card (EUR {AMOUNT / 100:.2f}, no redemption)"
    progress(f"[many cards] joining {cards} members from {threads} threads ...")
    members = [(f"bench-card-{i:05d}", f"0151 6{i:07d}") for i in range(cards)]
    replies, wall = run_threads(
        [
            [lambda session, sub=sub, phone=phone: http.join(session, sub, phone) for sub, phone in share]
            for share in split(members, threads)
        ]
    )
    joined = [{**r.body, "sub": r.tag} for r in replies if r.ok]
    line = f"{wall:.1f} s for {cards} ({len(joined) / wall:.0f} joins/s); {latencies(replies)}"
    if len(joined) != cards:
        line += f"; {mix(replies)}"
        report.notes.append(f"many cards: only {len(joined)} of {cards} joins succeeded: {mix(replies)}")
    progress(f"    {line}")
    report.add(section, f"POST /v1/me x{cards} (joining first)", line)
    if not joined:
        raise BenchError("no member could join")

    # New members have no points yet: these purchases earn only (a redemption would be a 422).
    progress(f"  {len(joined)} purchases, one per card, from {threads} threads ...")
    offset = http.server.log_size()
    replies, wall = run_threads(
        [
            [lambda session, card=m["card_number"]: http.purchase(session, card, AMOUNT, 0) for m in share]
            for share in split(joined, threads)
        ]
    )
    in_app = http.server.handler_seconds(offset, "POST", "/v1/purchases")
    line = _run_line(replies, wall, in_app)
    progress(f"    {line}\n    {mix(replies)}")
    report.add(section, "throughput and latency", line)
    report.add(section, "responses", mix(replies))
    _errors_note(report, "many cards", replies)

    by_customer = {m["customer_id"]: m["sub"] for m in joined}
    earned = {r.body["customer_id"]: int(r.body["points_earned"]) for r in replies if r.ok}
    chosen = random.Random(0).sample(sorted(by_customer), min(sample, len(by_customer)))
    problems = []
    for customer_id in chosen:
        found = check_ledger(http.session, http.server.base_url, http.customer(by_customer[customer_id]))
        if not found.ok:
            problems.append(f"{customer_id}: {found.why}")
        elif found.balance != earned.get(customer_id, 0):
            problems.append(f"{customer_id}: balance {found.balance} != {earned.get(customer_id, 0)} earned")
    verdict = (
        f"OK for {len(chosen)} sampled members: balance = sum of the ledger = points earned by their purchase"
        if not problems
        else f"MISMATCH in {len(problems)} of {len(chosen)}: " + "; ".join(problems[:5])
    )
    progress(f"  check: {verdict}")
    report.add(section, "balance vs ledger", verdict)
    if problems:
        report.notes.append(f"many cards: balance/ledger MISMATCH: {'; '.join(problems[:5])}")


def measure_http(report: Report, base_env: dict[str, str], threads: int, per_thread: int, cards: int) -> None:
    import requests

    from chalicelib.config import from_environ
    from scripts.token import mint

    with tempfile.TemporaryDirectory(prefix="bench-purchases-http-") as tmp:
        server = Server(Path(tmp), base_env)
        progress(f"[http] starting python -m scripts.serve on 127.0.0.1:{server.port} ...")
        server.start()
        try:
            progress(f"  healthy after {server.wait_healthy():.1f} s")
            # The token the server will accept: its settings are ours plus configure_environment's.
            secret = from_environ(local_env(NO_ENDPOINT, base_env)).dev_jwt_secret
            if secret is None:
                raise BenchError("no local JWT secret")
            cashier = {
                "Authorization": f"Bearer {mint(CASHIER_SUB, ['cashier'], merchant_id=CASHIER_MERCHANT, secret=secret)}"
            }
            with requests.Session() as session:
                http = Http(server, secret, session, cashier)
                started = time.perf_counter()
                one_card_run(report, http, threads, per_thread)
                progress(f"[one card] done in {time.perf_counter() - started:.1f} s")
                if cards:
                    started = time.perf_counter()
                    many_cards_run(report, http, threads, cards, CHECK_SAMPLE)
                    progress(f"[many cards] done in {time.perf_counter() - started:.1f} s")
            report.notes.append(
                "http: 'in the app' is the access log's duration_ms; client threads, the Chalice dev server,"
                " the ledger-stream follower and DynamoDB Local's JVM share this machine's "
                f"{os.cpu_count()} cores"
            )
        finally:
            server.stop_and_report(report)


# --- main ---------------------------------------------------------------------------------------


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--samples", type=positive, default=5, help="measured calls per kind for the request counts (5)"
    )
    parser.add_argument("--threads", type=positive, default=16, help="client threads of the HTTP runs (16)")
    parser.add_argument("--per-thread", type=positive, default=30, help="purchases per thread on the one card (30)")
    parser.add_argument("--cards", type=_count, default=1000, help="cards of the many-cards run, 0 to skip it (1000)")
    parser.add_argument("--skip-counts", action="store_true", help="do not count DynamoDB requests")
    parser.add_argument("--skip-http", action="store_true", help="do not measure purchases over HTTP")
    args = parser.parse_args()
    if args.cards > 10_000_000:
        parser.error("--cards: at most 10,000,000 (the phone numbers run out)")

    def interrupted(signum: int, frame: FrameType | None) -> None:
        # Once: a second Ctrl-C must not cut the clean-up short (its waits are all bounded).
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupted)
    base_env = dict(os.environ)
    report = Report(title="Purchase figures")
    phases: list[tuple[str, bool, Callable[[], None]]] = [
        ("requests", args.skip_counts, lambda: measure_requests(report, args.samples)),
        ("http", args.skip_http, lambda: measure_http(report, base_env, args.threads, args.per_thread, args.cards)),
    ]
    # Other work on the machine shows in every figure: say how busy it was when we began.
    report.notes.append(f"load average at the start: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores")
    bench_foundation.run_phases(report, phases)


if __name__ == "__main__":
    main()
