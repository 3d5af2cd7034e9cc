"""The work queues (SQS): sending bodies in batches, and handling a received batch the way Lambda
hands it over, with partial-batch failures.

Queues have short names (:data:`PUSH`, :data:`CONTACTS`); the SQS name is the stage's prefix and
the short name (``loyalty-local-push``), each with a dead-letter queue (``...-dlq``) that receives
a message after :data:`MAX_RECEIVES` failed attempts. On AWS the queues come from ``infra/``; the
local stack and the tests create them with :func:`create_missing` (against the local moto SQS
server, or moto's in-process mock). :func:`poll_once` is the local stand-in for Lambda's event
source mapping: it receives a batch, hands it to the same handler in the same event shape, and
deletes only the messages the handler did not report as failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import structlog

from chalicelib.config import settings

T = TypeVar("T")

#: New inbox messages to push to the member's devices.
PUSH = "push"
#: Members a job or a campaign selected, in batches, for the issuing service to decide on.
CONTACTS = "contacts"
#: Events for the CRM's webhooks, one message per (webhook, event).
WEBHOOKS = "webhooks"
QUEUES = (PUSH, CONTACTS, WEBHOOKS)

#: SendMessageBatch's limit.
BATCH_ENTRIES = 10
#: Attempts before a message moves to the dead-letter queue.
MAX_RECEIVES = 5
#: How long a received message stays invisible to others (at least 6x the consumer's timeout on AWS).
VISIBILITY_TIMEOUT_S = 60

log = structlog.get_logger("loyalty.queues")

#: A Lambda SQS handler: takes the event (``{"Records": [...]}``), returns the partial-batch answer.
EventHandler = Callable[[dict[str, Any], Any], Any]


def queue_name(short: str) -> str:
    return f"{settings().table_prefix}{short}"


def dead_letter_name(short: str) -> str:
    return f"{queue_name(short)}-dlq"


@lru_cache(maxsize=1)
def _client() -> Any:
    import boto3  # on first use: 140 ms of a cold start, and the API's routes mostly never send

    s = settings()
    return boto3.client("sqs", region_name=s.aws_region, endpoint_url=s.sqs_endpoint)


@lru_cache(maxsize=16)
def url(short: str) -> str:
    return str(_client().get_queue_url(QueueName=queue_name(short))["QueueUrl"])


def reset_clients() -> None:
    """Forget the client and the queue URLs (tests that start a fresh mock or endpoint)."""
    _client.cache_clear()
    url.cache_clear()


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last shorter): members per message of a fan-out."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def send(short: str, bodies: Iterable[Mapping[str, Any]]) -> int:
    """Put each body (JSON) on the queue, :data:`BATCH_ENTRIES` per request; returns how many.
    Entries SQS refuses are sent again once, then raise: the caller's run is retried whole
    (consumers decide per member exactly once, so a body sent twice contacts nobody twice)."""
    sent = 0
    batch: list[dict[str, str]] = []
    for body in bodies:
        batch.append({"Id": str(len(batch)), "MessageBody": json.dumps(body, separators=(",", ":"))})
        if len(batch) == BATCH_ENTRIES:
            sent += _send_batch(short, batch)
            batch = []
    if batch:
        sent += _send_batch(short, batch)
    return sent


def _send_batch(short: str, entries: list[dict[str, str]]) -> int:
    count = len(entries)
    for _ in range(2):
        answer = _client().send_message_batch(QueueUrl=url(short), Entries=entries)
        failed = {f["Id"] for f in answer.get("Failed", [])}
        if not failed:
            return count
        entries = [e for e in entries if e["Id"] in failed]
    raise RuntimeError(f"SQS refused {len(entries)} message(s) on {queue_name(short)}")


#: SQS's longest visibility timeout: the furthest a received message can be put off.
MAX_DELAY_S = 12 * 60 * 60


class Later(Exception):
    """Raised by a record's handler: not now, hand this record back in ``seconds`` (a push due
    after the member's quiet hours). The record is left on the queue, invisible until then."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"later: {seconds:.0f} s")
        self.seconds = seconds


def handle_batch(event: Mapping[str, Any], handle: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Lambda's partial-batch answer for an SQS ``event``: each record's JSON body goes to
    ``handle``; a record whose handling raises is listed in ``batchItemFailures`` (and comes back
    after the visibility timeout, then to the dead-letter queue), the others are done. A record
    whose handler raises :class:`Later` comes back when it asked to (each return counts as a
    receive: a record put off more than ``MAX_RECEIVES`` times reaches the dead-letter queue)."""
    failures = []
    for record in event.get("Records", []):
        try:
            handle(json.loads(record["body"]))
        except Later as later:
            put_off(record, later.seconds)
            failures.append({"itemIdentifier": record["messageId"]})
        except Exception as exc:  # noqa: BLE001 - one record's failure must not fail its batch
            # The type only: a message may quote personal data.
            log.warning("queue_record_failed", error=type(exc).__name__, receive_count=_receives(record))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def put_off(record: Mapping[str, Any], seconds: float) -> None:
    """Hand ``record`` back to its queue in ``seconds`` (at most 12 hours)."""
    queue = str(record["eventSourceARN"]).rsplit(":", 1)[-1]
    delay = max(0, min(MAX_DELAY_S, round(seconds)))
    queue_url = str(_client().get_queue_url(QueueName=queue)["QueueUrl"])
    _client().change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=delay
    )


def receive_count(record: Mapping[str, Any]) -> int:
    """How many times SQS has handed this record out (1 on its first delivery)."""
    return _receives(record)


def _receives(record: Mapping[str, Any]) -> int:
    return int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))


def create_missing(shorts: Sequence[str] = QUEUES) -> list[str]:
    """Create each queue and its dead-letter queue if missing (local stack and tests)."""
    client = _client()
    created = []
    for short in shorts:
        dlq_url = client.create_queue(QueueName=dead_letter_name(short))["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        client.create_queue(
            QueueName=queue_name(short),
            Attributes={
                "VisibilityTimeout": str(VISIBILITY_TIMEOUT_S),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}),
            },
        )
        created.append(queue_name(short))
    return created


def poll_once(short: str, handler: EventHandler, *, wait_s: int = 0, max_messages: int = BATCH_ENTRIES) -> int:
    """Receive up to ``max_messages`` and hand them to ``handler`` as Lambda would (the same event
    shape), then delete those it did not report as failed; returns how many were received. A
    handler that raises fails the whole batch, as on Lambda: nothing is deleted."""
    client = _client()
    answer = client.receive_message(
        QueueUrl=url(short),
        MaxNumberOfMessages=max_messages,
        WaitTimeSeconds=wait_s,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    messages = answer.get("Messages", [])
    if not messages:
        return 0
    records = [_record(short, m) for m in messages]
    result = handler({"Records": records}, None)
    failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
    done = [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
        for i, m in enumerate(messages)
        if m["MessageId"] not in failed
    ]
    if done:
        client.delete_message_batch(QueueUrl=url(short), Entries=done)
    return len(messages)


def _record(short: str, message: Mapping[str, Any]) -> dict[str, Any]:
    """An SQS message as Lambda's event record has it."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{settings().aws_region}:000000000000:{queue_name(short)}",
        "awsRegion": settings().aws_region,
    }
