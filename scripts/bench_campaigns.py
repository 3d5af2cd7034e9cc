"""Campaign figures, on DynamoDB Local and moto's SQS server in this process:

1. Launch to N members (default 100,000 synthetic members in the snapshot, 60 % consenting, 5 %
   held out): the run's start as the contacts consumer does it (``campaigns.on_run``): the audience
   from the snapshot, the hold-out group recorded, the rest enqueued in messages of 100; the time
   to enqueue and its parts, the queue messages and SendMessageBatch calls.
2. The pipeline for a campaign to M real members (default 2,000 joined into DynamoDB Local): launch,
   then the contacts queue drained by the same handler Lambda calls, each member decided through
   the issuing service into their inbox: messages per second end to end, DynamoDB requests per
   message.

    python -m scripts.bench_campaigns
    python -m scripts.bench_campaigns --audience 100000 --members 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from scripts import bench_foundation
from scripts.bench_foundation import DynamoCounter, Report, progress


def measure(report: Report, audience: int, members: int) -> None:
    with bench_foundation.seeded_with_local_sqs():
        with tempfile.TemporaryDirectory(prefix="bench-campaign-") as tmp:
            measure_launch(report, Path(tmp), audience)
        with tempfile.TemporaryDirectory(prefix="bench-campaign-") as tmp:
            measure_pipeline(report, Path(tmp), members)


def _campaign(name: str, holdout: int) -> Any:
    from chalicelib.domain.campaigns import Campaign, Message
    from chalicelib.domain.segments import Definition
    from chalicelib.store import campaigns as store

    now = datetime.now(UTC)
    campaign = Campaign(
        campaign_id=f"cmp_bench_{name}",
        name=name,
        message=Message("Hi {name}", "Two for one this week, {balance} points waiting"),
        segment=Definition(),
        holdout_percent=holdout,
        created_at=now,
        status="sent",
    )
    store.save(campaign, None)
    return campaign


def _drain_counting(short: str) -> int:
    """Receive and delete every message on the queue; returns how many (the enqueue's output)."""
    from chalicelib import queues

    client, url, total = queues._client(), queues.url(short), 0
    while True:
        got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return total
        client.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)]
        )
        total += len(got)


def measure_launch(report: Report, root: Path, audience: int) -> None:
    from chalicelib import queues
    from chalicelib.services import campaigns, segments
    from chalicelib.store import snapshot
    from scripts.bench_segments import synthetic

    section = f"launch to {audience:,} members"
    progress(f"[{section}] building the snapshot ...")
    with snapshot.replaced(root):
        snapshot.current().replace_with_query(snapshot.MEMBERS, synthetic(audience))
        campaign = _campaign("launch", 5)
        at = datetime.now(UTC)
        started = time.perf_counter()
        selected = segments.members_of(campaign.segment, at)
        audience_s = time.perf_counter() - started
        counter = DynamoCounter()
        sends: list[float] = []
        original = queues._send_batch

        def timed(short: str, entries: list[dict[str, str]]) -> int:
            t = time.perf_counter()
            try:
                return original(short, entries)
            finally:
                sends.append(time.perf_counter() - t)

        queues._send_batch = timed
        try:
            with counter.installed(), counter.measure() as calls:
                started = time.perf_counter()
                campaigns.on_run({"campaign_id": campaign.campaign_id, "run": "once", "at": at.isoformat()})
                total = time.perf_counter() - started
        finally:
            queues._send_batch = original
        messages = _drain_counting(queues.CONTACTS)
    writes = [c for c in calls if c.operation in ("UpdateItem", "PutItem", "BatchWriteItem")]
    report.add(section, "time to enqueue (the run's start, whole)", f"{total:.2f} s")
    report.add(
        section, "  reading the audience from the snapshot", f"{audience_s * 1000:.0f} ms ({len(selected):,} members)"
    )
    report.add(section, "  hold-out group recorded", f"one Parquet file; {len(writes)} DynamoDB writes in all")
    report.add(
        section,
        "  enqueued",
        f"{messages:,} queue messages of <= 100 members in {len(sends)} SendMessageBatch calls, {sum(sends):.2f} s",
    )
    report.add(section, "  members handed to the contact policy per second", f"{(messages * 100) / total:,.0f}")


def measure_pipeline(report: Report, root: Path, members: int) -> None:
    import app as handlers
    from chalicelib import queues
    from chalicelib.domain.members import Member
    from chalicelib.services import campaigns
    from chalicelib.store import members as member_store
    from chalicelib.store import snapshot

    section = f"pipeline, {members:,} real members"
    progress(f"[{section}] joining the members ...")
    now = datetime.now(UTC)

    def join(n: int) -> None:
        member = Member(
            customer_id=f"cp{n:06d}",
            sub=f"bench-pipeline-{n:06d}",
            name=f"Member {n}",
            phone=f"+4915122{n:06d}",
            birthday=date(1990, 1, 1),
            card_number=f"98{n:014d}",
            referral_code=f"CP{n:06d}",
            joined_at=now - timedelta(days=40),
            marketing_consent=True,
            consent_updated_at=now - timedelta(days=40),
            timezone="UTC",
            tier="Bronze",
            quiet_hours=None,
        )
        member_store.create_member(member, None)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(join, range(members)))
    with snapshot.replaced(root):
        snapshot.rebuild_if_missing(snapshot.current())
        campaign = _campaign("pipeline", 0)
        at = datetime.now(UTC).replace(hour=12, minute=0)
        counter = DynamoCounter()
        with counter.installed(), counter.measure() as calls:
            started = time.perf_counter()
            campaigns.on_run({"campaign_id": campaign.campaign_id, "run": "once", "at": at.isoformat()})
            enqueued = time.perf_counter() - started
            while queues.poll_once(queues.CONTACTS, handlers.contact_members):
                pass
            elapsed = time.perf_counter() - started
    from chalicelib.store import counters

    sent = counters.campaign_tallies(campaign.campaign_id)["once"]["sent"]
    report.add(section, "launch to the last member decided", f"{elapsed:.1f} s ({enqueued:.2f} s to enqueue)")
    report.add(
        section, "messages per second through the pipeline, one consumer", f"{sent / elapsed:,.0f} ({sent:,} sent)"
    )
    report.add(
        section, "DynamoDB requests per message", f"{len(calls) / max(sent, 1):.2f} ({bench_foundation.ops(calls)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audience", type=bench_foundation.positive, default=100_000)
    parser.add_argument("--members", type=bench_foundation.positive, default=2_000)
    args = parser.parse_args()
    report = Report(title="Campaign figures")

    def run(r: Report, n: int, endpoint: str) -> None:
        measure(r, args.audience, args.members)

    bench_foundation.run_phases(
        report, [("campaigns", False, lambda: bench_foundation.measure_requests(report, 0, run))]
    )


if __name__ == "__main__":
    main()
