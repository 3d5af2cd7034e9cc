"""Push figures: the raw SDK's send_each rate against the local FCM v1 endpoint, our Firebase
sender's, and the whole consumer's (inbox message → claim → token lookup → FCM → dead tokens
removed → state written), in the same run on DynamoDB Local, with DynamoDB requests per message.

    python -m scripts.bench_push
    python -m scripts.bench_push --messages 4000 --records 100

The consumer is fed Lambda-shaped SQS events of ``--records`` records (SQS to Lambda hands over
10 by default, up to 10,000 with a batching window); the SQS server itself is left out (moto's
costs are not ours: see FACTS.md). One device per member, every 20th member with a second, and
every 50th token answered UNREGISTERED (it must leave the member's devices).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime

from scripts import bench_foundation
from scripts.bench_foundation import DynamoCounter, Report, progress


def measure(report: Report, messages: int, records: int) -> None:
    import structlog

    from scripts import fcm_local

    # One log line per message pushed is right in a Lambda, and drowns a benchmark's output.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=open(os.devnull, "w")))  # noqa: SIM115
    server, _ = fcm_local.start()
    os.environ["LOYALTY_FCM_URL"] = server.url
    from chalicelib.push import MAX_BATCH, Push
    from chalicelib.push.firebase import FirebaseSender, _message
    from chalicelib.services import push
    from chalicelib.store import members as member_store
    from chalicelib.store import tables
    from chalicelib.store.members import DeviceModel
    from chalicelib.store.wallet import InboxModel

    tables.create_missing_tables()
    now = datetime.now(UTC)
    progress(f"[push] writing {messages} inbox messages and their members' devices ...")
    with InboxModel.batch_write() as inbox, DeviceModel.batch_write() as devices:
        for n in range(messages):
            customer = f"bench-c{n:06d}"
            inbox.save(
                InboxModel(
                    customer,
                    f"{now:%Y%m%dT%H%M%S.%f}Z-{n:08x}",
                    at=now,
                    kind="campaign",
                    title="Two for one",
                    body="Only this week, at every store of the Kiez.",
                    push=True,
                )
            )
            tokens = [f"{'dead-' if n % 50 == 0 else 'tok-'}{n:06d}-a"] + ([f"tok-{n:06d}-b"] if n % 20 == 0 else [])
            for token in tokens:
                devices.save(DeviceModel(customer, token, platform="android", registered_at=now))
    sender = FirebaseSender()
    pushes = [Push(f"raw-{n:06d}", "android", "Two for one", "Only this week") for n in range(messages)]

    from firebase_admin import messaging

    app = sender._firebase()
    started = time.perf_counter()
    for start in range(0, messages, MAX_BATCH):
        messaging.send_each([_message(p) for p in pushes[start : start + MAX_BATCH]], app=app)
    raw = messages / (time.perf_counter() - started)
    report.add("push", f"raw SDK send_each, batches of {MAX_BATCH}", f"{raw:,.0f} messages/s")

    started = time.perf_counter()
    for start in range(0, messages, MAX_BATCH):
        sender.send(pushes[start : start + MAX_BATCH])
    ours = messages / (time.perf_counter() - started)
    report.add("push", "FirebaseSender.send, same batches", f"{ours:,.0f} messages/s ({ours / raw:.0%} of raw)")

    events = []
    for start in range(0, messages, records):
        events.append(
            {
                "Records": [
                    {
                        "messageId": f"m{n}",
                        "receiptHandle": f"r{n}",
                        "body": json.dumps(
                            {"customer_id": f"bench-c{n:06d}", "message_id": f"{now:%Y%m%dT%H%M%S.%f}Z-{n:08x}"}
                        ),
                        "attributes": {"ApproximateReceiveCount": "1"},
                        "eventSourceARN": "arn:aws:sqs:eu-central-1:000000000000:bench-push",
                    }
                    for n in range(start, min(messages, start + records))
                ]
            }
        )
    counter = DynamoCounter()
    progress(f"[push] the consumer: {len(events)} events of up to {records} records ...")
    with counter.installed(), counter.measure() as calls:
        started = time.perf_counter()
        failures = 0
        for event in events:
            failures += len(push.deliver(event, clock=lambda: datetime.now(UTC))["batchItemFailures"])
        elapsed = time.perf_counter() - started
    pipeline = messages / elapsed
    received = len(server.state.messages)
    dead_left = sum(
        1
        for n in range(0, messages, 50)
        if any(d.token.startswith("dead-") for d in member_store.devices_of(f"bench-c{n:06d}"))
    )
    report.add(
        "push",
        f"consumer, inbox → FCM, {records} records an event",
        f"{pipeline:,.0f} messages/s ({pipeline / raw:.0%} of raw), {failures} failed",
    )
    report.add("push", "DynamoDB requests per message", f"{len(calls) / messages:.2f} ({bench_foundation.ops(calls)})")
    report.add("push", "pushes FCM accepted in all", f"{received:,} (dead tokens still listed: {dead_left})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=bench_foundation.positive, default=2000)
    parser.add_argument("--records", type=bench_foundation.positive, default=100)
    args = parser.parse_args()
    report = Report(title="Push figures")
    bench_foundation.run_phases(
        report,
        [
            (
                "push",
                False,
                lambda: bench_foundation.measure_requests(
                    report, args.messages, lambda r, n, endpoint: measure(r, n, args.records)
                ),
            )
        ],
    )


if __name__ == "__main__":
    main()
