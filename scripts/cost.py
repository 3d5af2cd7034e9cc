"""What a stage costs a month on AWS: idle, with 10,000 members, and with 1,000,000 check-ins.

    python -m scripts.cost [--samples 5]

1. **Measured here**, in-process on DynamoDB Local with the handlers Lambda runs: for each thing a
   member, the till or the clock does (a join, an app opening, a purchase at the till, a check-in,
   each scheduled job's run), the API requests, the billable DynamoDB units (``UnitCounter`` of
   ``bench_purchases``: from the sizes of the items read and written, index writes included,
   transactions doubled, as AWS bills them), the queue messages sent, and the work the tables'
   streams do after it (counters, visit rhythm, snapshot, referrals), with the time it all took.
2. **Priced** with AWS's list prices for eu-central-1 (``PRICES``, dated), per month, for the three
   months of ``SCENARIOS``. Lambda time is this machine's in-process time at the stage's memory
   (a slow 2-core machine: an overestimate for Lambda's CPU), one invocation per stream record
   (batches are larger under load: an overestimate too).

Nothing here reaches AWS; the prices are not fetched (no network): check them against the
pricing pages before relying on a figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scripts import bench_foundation
from scripts.bench_foundation import CASHIER_MERCHANT, CASHIER_SUB, BenchError, Report

#: eu-central-1 list prices in USD, as published on aws.amazon.com/pricing and known on this date
#: (not re-checked: no network here). Free tiers are left out (the always-free ones are noted).
PRICES_AS_OF = "2026-12-08 (eu-central-1, USD, list prices without free tiers)"
PRICES = {
    "api_gateway_per_million": 3.70,  # REST API, first 333 M requests
    "lambda_per_million": 0.20,
    "lambda_per_gb_second": 0.0000166667,  # x86
    "dynamodb_write_per_million": 0.7625,  # on-demand write request units
    "dynamodb_read_per_million": 0.1525,  # on-demand read request units
    "dynamodb_gb_month": 0.306,  # storage; the first 25 GB are always free
    "pitr_gb_month": 0.2448,
    "sqs_per_million": 0.40,  # standard queue requests; the first million a month are always free
    "cognito_lite_per_mau": 0.0055,  # above the 10,000 free monthly active users
    "cognito_free_mau": 10_000,
    "secrets_per_month": 0.40,
    "secrets_per_10k_calls": 0.05,
    "logs_per_gb": 0.63,  # CloudWatch Logs ingestion
    "alarm_per_month": 0.10,  # standard alarms; the first 10 are always free
}
#: The memory each kind of work runs at (.chalice/config.json, dev stage), in GB.
API_MEMORY_GB = 1.0
WORKER_MEMORY_GB = 0.5
#: A request's access log line and what else a call logs, on average (bytes).
LOG_BYTES_PER_CALL = 600
#: Bytes a member occupies in the tables after a year of use (member, card, ledger, purchases,
#: wallet, inbox, counters' share): the storage line of the bill.
BYTES_PER_MEMBER = 40_000
#: What each month of a scenario holds, per kind of work.
SCENARIOS: dict[str, dict[str, float]] = {
    "idle (no member does anything)": {"members": 0, "active": 0},
    "10,000 members (each, a month: 8 app openings, 3 purchases, 3 check-ins; 500 join)": {
        "members": 10_000,
        "active": 10_000,
        "join": 500,
        "app_open": 80_000,
        "purchase": 30_000,
        "checkin": 30_000,
    },
    "1,000,000 check-ins (50,000 members, 20 check-ins and 4 purchases each)": {
        "members": 50_000,
        "active": 50_000,
        "join": 2_500,
        "app_open": 200_000,
        "purchase": 200_000,
        "checkin": 1_000_000,
    },
}
#: How often each scheduled function runs in a month of 30 days (app.py's schedules).
SCHEDULED_PER_MONTH = {"campaigns_due": 30 * 24 * 12, "moments_hourly": 30 * 24, "daily": 2 * 30, "weekly": 4.3}


@dataclass
class Work:
    """What one occurrence of a kind of work costs, measured."""

    api_requests: float = 0
    invocations: float = 0
    seconds: float = 0
    gb_seconds: float = 0
    read_units: float = 0
    write_units: float = 0
    queue_requests: float = 0
    samples: list[float] = field(default_factory=list)

    def add_calls(self, calls: list[Any]) -> None:
        self.read_units += sum(getattr(c, "rcu", 0.0) for c in calls)
        self.write_units += sum(getattr(c, "wcu", 0.0) for c in calls)


class QueueCounter:
    """SQS requests sent while active (each SendMessage(Batch) is one request; Lambda's receive
    and delete of the batch add about two more, counted in :meth:`requests`)."""

    def __init__(self) -> None:
        self.sends = 0

    def install(self) -> None:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        counter = self

        def counting(client: Any, operation_name: str, api_params: Any) -> Any:
            if client.meta.service_model.service_name == "sqs" and operation_name.startswith("SendMessage"):
                counter.sends += 1
            return original(client, operation_name, api_params)

        BaseClient._make_api_call = counting  # type: ignore[method-assign]

    def requests(self) -> float:
        return self.sends * 3


def measure(report: Report, samples: int, endpoint: str) -> dict[str, Work]:
    from chalice.test import Client

    from app import app
    from chalicelib import jobs
    from chalicelib.config import settings
    from chalicelib.ports import now
    from chalicelib.services import attribution, member_snapshot, prediction, referrals, reports
    from chalicelib.store import streams
    from chalicelib.store.ledger import LedgerEntryModel, PurchaseModel
    from chalicelib.store.members import MemberModel
    from scripts import bench_checkins
    from scripts.bench_purchases import UnitCounter
    from scripts.token import mint

    counter = UnitCounter(settings().table_prefix)
    queue = QueueCounter()
    queue.install()
    ledger, purchases, members = (streams.StreamReader(m) for m in (LedgerEntryModel, PurchaseModel, MemberModel))

    def on_ledger(records: list[dict[str, Any]]) -> None:
        entries = [(r["eventName"], r["dynamodb"].get("NewImage")) for r in records]
        for service in (reports, prediction, attribution, referrals):
            service.on_ledger_records(entries, clock=now)

    def follow_streams() -> int:
        """What the stream triggers do after a call (app.py's handlers' services); the records seen."""
        seen = ledger.poll(on_ledger)
        seen += purchases.poll(
            lambda rs: (reports.on_purchase_records(rs, clock=now), member_snapshot.on_purchase_records(rs))
        )
        seen += members.poll(lambda rs: member_snapshot.on_member_records(rs, at=now()))
        return seen

    results: dict[str, Work] = {}

    def timed(kind: str, call: Callable[[], Any], api: bool, memory_gb: float) -> None:
        work = results.setdefault(kind, Work())
        sends = queue.sends
        with counter.measure() as calls:
            began = time.perf_counter()
            outcome = call()
            took = time.perf_counter() - began - counter.probe_s
            records = follow_streams()
            streamed = time.perf_counter() - began - counter.probe_s - took
        if outcome is not None and getattr(outcome, "status_code", 200) >= 400:
            raise BenchError(f"{kind}: {outcome.status_code} {outcome.body[:300]!r}")
        work.samples.append(took)
        work.api_requests += 1 if api else 0
        work.invocations += 1 + records
        work.seconds += took + streamed
        work.gb_seconds += took * memory_gb + streamed * WORKER_MEMORY_GB
        work.add_calls(calls)
        work.queue_requests += (queue.sends - sends) * 3

    cashier = {"Authorization": f"Bearer {mint(CASHIER_SUB, ['cashier'], merchant_id=CASHIER_MERCHANT)}"}
    marketer = {"Authorization": f"Bearer {mint('demo-marketer', ['marketer'], merchant_id='m_kiez')}"}
    with counter.installed(), Client(app) as client:
        http = client.http
        http.post("/v1/offers", headers=marketer, body=json.dumps(bench_checkins.OFFER))
        follow_streams()
        for n in range(samples + 1):
            me = {"Authorization": f"Bearer {mint(f'cost-{n}', ['customer'])}"}
            join = {"name": "Cost", "phone": f"0151 5{n:07d}", "birthday": "1990-01-01", "marketing_consent": True}
            steps: list[tuple[str, Callable[[], Any], float]] = [
                ("join", lambda me=me, join=join: http.post("/v1/me", headers=me, body=json.dumps(join)), 1),
                (
                    "app_open",
                    lambda me=me: [http.get(p, headers=me) for p in ("/v1/me", "/v1/me/card", "/v1/me/offers")][-1],
                    3,
                ),
                (
                    "checkin",
                    lambda me=me: http.post("/v1/me/checkins", headers=me, body=json.dumps(bench_checkins.MITTE)),
                    1,
                ),
            ]
            for kind, call, requests in steps:
                timed(kind, call, True, API_MEMORY_GB)
                results[kind].api_requests += requests - 1
            qr = json.loads(http.get("/v1/me/card", headers=me).body)["qr_payload"]

            def purchase(qr: str = qr) -> Any:
                http.get(f"/v1/cards/{qr}?amount=2500", headers=cashier)
                body = {"card": qr, "store_id": "s_kiez_mitte", "amount": 2500, "currency": "EUR", "redeem_points": 0}
                headers = {**cashier, "Idempotency-Key": str(uuid.uuid4())}
                return http.post("/v1/purchases", headers=headers, body=json.dumps(body))

            timed("purchase", purchase, True, API_MEMORY_GB)
            results["purchase"].api_requests += 1
            if n == 0:  # the warm-up: a cold process's first calls are not what a month is made of
                results.clear()
        moment = datetime.now(UTC)
        for job, function in (("campaigns", "campaigns_due"), ("expire_points", "daily"), ("tier_review", "daily")):
            for _ in range(samples):
                timed(function, lambda job=job: jobs.run(job, moment), False, WORKER_MEMORY_GB)
        for _ in range(samples):
            timed(
                "moments_hourly",
                lambda: [jobs.run(name, moment) for name in jobs.HOURLY_AT_MINUTE],
                False,
                WORKER_MEMORY_GB,
            )
    for kind, work in results.items():
        runs = len(work.samples)
        for name in (
            "api_requests",
            "invocations",
            "seconds",
            "gb_seconds",
            "read_units",
            "write_units",
            "queue_requests",
        ):
            setattr(work, name, getattr(work, name) / runs)
        report.add(
            "Measured per occurrence (mean of the samples, stream work included)",
            kind,
            f"{work.api_requests:g} API requests, {work.invocations:.1f} invocations, "
            f"{work.read_units:.1f} RRU, {work.write_units:.1f} WRU, {work.queue_requests:g} SQS requests, "
            f"{1000 * work.seconds:.0f} ms (median call {1000 * statistics.median(work.samples):.0f} ms)",
        )
    return results


def monthly(work: dict[str, Work], scenario: dict[str, float]) -> dict[str, float]:
    """The month's bill, line by line (USD)."""
    counts = {kind: scenario.get(kind, 0.0) for kind in ("join", "app_open", "purchase", "checkin")}
    counts |= {
        "campaigns_due": SCHEDULED_PER_MONTH["campaigns_due"],
        "moments_hourly": SCHEDULED_PER_MONTH["moments_hourly"],
        "daily": SCHEDULED_PER_MONTH["daily"],
    }

    def total(attribute: str) -> float:
        return sum(counts[kind] * getattr(work[kind], attribute) for kind in counts if kind in work)

    invocations, api = total("invocations"), total("api_requests")
    p = PRICES
    storage_gb = scenario["members"] * BYTES_PER_MEMBER / 1e9
    active = scenario["active"]
    return {
        "API Gateway": api / 1e6 * p["api_gateway_per_million"],
        "Lambda": invocations / 1e6 * p["lambda_per_million"] + total("gb_seconds") * p["lambda_per_gb_second"],
        "DynamoDB requests": total("write_units") / 1e6 * p["dynamodb_write_per_million"]
        + total("read_units") / 1e6 * p["dynamodb_read_per_million"],
        "DynamoDB storage + PITR": storage_gb * (p["dynamodb_gb_month"] + p["pitr_gb_month"]),
        "SQS": total("queue_requests") / 1e6 * p["sqs_per_million"],
        "Cognito (Lite)": max(0.0, active - p["cognito_free_mau"]) * p["cognito_lite_per_mau"],
        # Two secrets; each cold start reads the stage's (say one per 1,000 invocations).
        "Secrets Manager": 2 * p["secrets_per_month"] + invocations / 1000 / 1e4 * p["secrets_per_10k_calls"],
        "CloudWatch Logs": invocations * LOG_BYTES_PER_CALL / 1e9 * p["logs_per_gb"],
        "CloudWatch alarms": 5 * p["alarm_per_month"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=bench_foundation.positive, default=5)
    args = parser.parse_args()
    report = Report(title="What a month costs on AWS")
    measured: dict[str, Work] = {}

    def run(report: Report, samples: int, endpoint: str) -> None:
        with bench_foundation.seeded_with_local_sqs():
            measured.update(measure(report, samples, endpoint))

    bench_foundation.measure_requests(report, args.samples, run)
    for name, scenario in SCENARIOS.items():
        bill = monthly(measured, scenario)
        lines = ", ".join(f"{line} {usd:.2f}" for line, usd in bill.items() if usd >= 0.005)
        report.add("Monthly, USD (" + PRICES_AS_OF + ")", name, f"{sum(bill.values()):.2f}  ({lines})")
    report.notes.append(
        "free tiers left out: Lambda's 1 M requests and 400,000 GB-s, DynamoDB's 25 GB, SQS's 1 M requests, "
        "Logs' 5 GB and 10 alarms are free every month (the idle month is then the secrets alone)"
    )
    print(report.render())


if __name__ == "__main__":
    main()
