"""Moments figures, on DynamoDB Local in this process:

1. The issuing side of a campaign-sized batch: members decided on and sent to through the contacts
   consumer (``fanout.on_contacts`` with 100 members a message, as the job enqueues them; the SQS
   hop itself is left out: its cost is moto's), DynamoDB requests per message, messages/s.
2. ``birthdays`` for one day at 1,000 and at 100,000 members: the index queries, the items they
   read, the members enqueued, and the batch sizes sent (members per queue message, messages per
   SendMessageBatch).

    python -m scripts.bench_moments
    python -m scripts.bench_moments --campaign 2000 --members 1000 100000
"""

from __future__ import annotations

import argparse
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

from scripts import bench_foundation
from scripts.bench_foundation import DynamoCounter, Report, progress

#: When the birthdays are counted: noon UTC, so two month-days are "today" somewhere.
AT = datetime(2026, 6, 15, 12, tzinfo=UTC)


def measure(report: Report, campaign: int, sizes: list[int]) -> None:
    import structlog

    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=open(os.devnull, "w")))  # noqa: SIM115
    from scripts import seed

    seed.seed()
    measure_issuing(report, campaign)
    for size in sizes:
        measure_birthdays(report, size)


def measure_issuing(report: Report, members: int) -> None:
    from chalicelib.domain import contact
    from chalicelib.domain.members import Member
    from chalicelib.jobs import fanout
    from chalicelib.services import issuing
    from chalicelib.store import members as member_store

    progress(f"[issuing] {members} members ...")
    now = datetime.now(UTC)

    def join(n: int) -> str:
        sub = f"bench-campaign-{n:06d}"
        member = Member(
            customer_id=f"bc{n:06d}",
            sub=sub,
            name=f"Member {n}",
            phone=f"+4915100{n:06d}",
            birthday=date(1990, 1, 1),
            card_number=f"99{n:014d}",
            referral_code=f"BC{n:06d}",
            joined_at=now - timedelta(days=40),
            marketing_consent=True,
            consent_updated_at=now - timedelta(days=40),
            timezone="UTC",
            tier="Bronze",
            quiet_hours=None,
        )
        member_store.create_member(member, None)
        return sub

    with ThreadPoolExecutor(max_workers=8) as pool:
        subs = list(pool.map(join, range(members)))
    at = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC).replace(hour=12)
    bench = fanout.Fanout(
        "bench_campaign",
        lambda _: subs,
        lambda sub, when: issuing.send(
            sub, "campaign", contact.campaign_key("bench"), "Two for one", clock=lambda: when
        ),
    )
    fanout.MOMENTS[bench.name] = bench
    bodies = [{"job": bench.name, "at": at.isoformat(), "subs": subs[i : i + 100]} for i in range(0, members, 100)]
    counter = DynamoCounter()
    with counter.installed(), counter.measure() as calls:
        started = time.perf_counter()
        for body in bodies:
            fanout.on_contacts(body)
        elapsed = time.perf_counter() - started
    report.add("issuing", f"campaign to {members} members, one consumer", f"{members / elapsed:,.0f} messages/s")
    report.add(
        "issuing", "DynamoDB requests per message", f"{len(calls) / members:.2f} ({bench_foundation.ops(calls)})"
    )


def measure_birthdays(report: Report, members: int) -> None:
    import boto3

    from chalicelib.domain.moments import birthday_month_days
    from chalicelib.jobs import birthdays
    from chalicelib.store.base import BaseMeta
    from chalicelib.store.members import MemberModel

    prefix = f"bench-bd-{members}-"
    progress(f"[birthdays] writing {members:,} members' index keys ...")
    client = boto3.client("dynamodb", region_name=BaseMeta.region, endpoint_url=BaseMeta.host)
    table = MemberModel.Meta.table_name
    start = date(2000, 1, 1)

    def write(chunk: range) -> None:
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "sub": {"S": f"{prefix}{n:07d}"},
                        # Birthdays spread evenly over a leap year's 366 days.
                        "birthday_md": {"S": (start + timedelta(days=n % 366)).strftime("%m-%d")},
                    }
                }
            }
            for n in chunk
        ]
        while requests:
            answer = client.batch_write_item(RequestItems={table: requests})
            requests = answer.get("UnprocessedItems", {}).get(table, [])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, [range(i, min(members, i + 25)) for i in range(0, members, 25)]))
    counter = DynamoCounter()
    with counter.installed(), counter.measure() as calls:
        selected = [sub for sub in birthdays.select(AT) if sub.startswith(prefix)]
    queries = [c for c in calls if c.operation == "Query"]
    read = sum(c.read for c in queries)
    days = birthday_month_days(AT)
    messages = math.ceil(len(selected) / 100)
    report.add(
        "birthdays",
        f"{members:,} members, {AT:%d %B %H:%M} UTC",
        f"{len(queries)} index queries ({', '.join(days)}), {read:,} items read, {len(selected):,} members enqueued",
    )
    report.add(
        "birthdays",
        "  batches sent",
        f"{messages} queue messages of <= 100 members, {math.ceil(messages / 10)} SendMessageBatch call(s) of <= 10",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaign", type=bench_foundation.positive, default=1000)
    parser.add_argument("--members", type=bench_foundation.positive, nargs="+", default=[1000, 100_000])
    args = parser.parse_args()
    report = Report(title="Moments figures")

    def run(r: Report, n: int, endpoint: str) -> Any:
        return measure(r, args.campaign, args.members)

    bench_foundation.run_phases(
        report, [("moments", False, lambda: bench_foundation.measure_requests(report, args.campaign, run))]
    )


if __name__ == "__main__":
    main()
