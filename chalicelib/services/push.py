"""Delivery: the inbox is the outbox. A message the issuing service wrote to a member's inbox
reaches their phones from there, never the other way round.

1. :func:`on_inbox_records` (the inbox table's stream) puts each new message to push on the push
   queue: no push exists without its inbox message, and a dead phone or a down FCM loses nothing.
2. :func:`deliver` (the push queue's consumer, a batch of up to 10 queue messages) claims each
   message once (``store/push.py``), looks up the member's devices, and sends every push of the
   batch through the sender in batches of at most 500. Dead tokens leave the member's devices;
   429s and 5xx are retried with exponential backoff and jitter, honouring ``Retry-After``, within
   a budget that fits a Lambda; what still fails becomes a dead letter an admin can replay.
3. A message due after the member's quiet hours is handed back to the queue until then.

The sender is a port (:func:`sender`, :func:`replaced`): the Firebase one by default, a fake in tests.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

import structlog
from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt, stop_before_delay
from tenacity.wait import wait_exponential_jitter

from chalicelib import metrics, queues
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.errors import NotFound
from chalicelib.push import MAX_BATCH, DeadToken, Delivered, Outcome, Push, Rejected, Retry, Sender
from chalicelib.push.payload import fits
from chalicelib.services import cursors
from chalicelib.store import members as member_store
from chalicelib.store import push as push_store

log = structlog.get_logger("loyalty.push")

#: Messages whose reads and writes go at once (DynamoDB answers each in milliseconds; in a row,
#: a batch of hundreds would wait on them one by one).
PARALLEL = 32
#: Sends of a batch's retryable pushes, the first included.
ATTEMPTS = 4
#: Seconds the retries of one batch may wait in all: well inside a consumer's timeout, and the
#: claim's lease (``store/push.SENDING_LEASE``).
RETRY_BUDGET_S = 20.0

_sender: Sender | None = None


def sender() -> Sender:
    global _sender
    if _sender is None:
        from chalicelib.push.firebase import FirebaseSender

        _sender = FirebaseSender()
    return _sender


@contextmanager
def replaced(replacement: Sender) -> Iterator[Sender]:
    """Within: pushes go through ``replacement`` (a fake in tests, a counting one in benchmarks)."""
    global _sender
    before, _sender = _sender, replacement
    try:
        yield replacement
    finally:
        _sender = before


# --- 1. the inbox's stream -------------------------------------------------------------------


def on_inbox_records(records: Iterable[tuple[str, Mapping[str, Any] | None]]) -> int:
    """Each new inbox message to push onto the push queue; ``records`` as (event name, new image
    in DynamoDB's JSON). Returns how many were queued."""
    bodies = [
        {"customer_id": image["customer_id"]["S"], "message_id": image["message_id"]["S"]}
        for event, image in records
        if event == "INSERT" and image is not None and image.get("push", {}).get("BOOL") is True
    ]
    return queues.send(queues.PUSH, bodies) if bodies else 0


# --- 2. the push queue's consumer ------------------------------------------------------------


@dataclass
class _Job:
    """One queue record's message, claimed, with the pushes to its member's devices."""

    record: Mapping[str, Any]
    message: push_store.Outgoing
    pushes: list[Push] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


def deliver(event: Mapping[str, Any], *, clock: Clock, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """The push queue's consumer: Lambda's partial-batch answer for one SQS ``event``. A batch
    costs one read of all its messages, one transaction claiming them, a devices query per
    member (in parallel), the sender's calls, and one transaction recording the outcomes."""
    records = list(event.get("Records", []))
    failures: list[dict[str, str]] = []
    try:
        jobs = _claimed_jobs(records, failures, clock)
        sendable = [job for job in jobs if job.pushes]
        if sendable:
            outcomes = _send_with_retries([p for job in sendable for p in job.pushes], sleep)
            start = 0
            for job in sendable:
                job.outcomes = outcomes[start : start + len(job.pushes)]
                start += len(job.pushes)
        _settle(jobs, clock)
    except Exception as exc:  # noqa: BLE001 - the batch's records come back (their claims lapse), or give up
        failed = {f["itemIdentifier"] for f in failures}
        for record in records:
            if record["messageId"] not in failed and not _give_up(record, None, exc, clock):
                failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def _claimed_jobs(records: list[Mapping[str, Any]], failures: list[dict[str, str]], clock: Clock) -> list[_Job]:
    """The batch's messages that are due, claimed, with a push per device of their member;
    records to look at again later are put off (and listed in ``failures``)."""
    now = clock()
    keyed: list[tuple[Mapping[str, Any], tuple[str, str]]] = []
    for record in records:
        try:
            body = json.loads(record["body"])
            keyed.append((record, (str(body["customer_id"]), str(body["message_id"]))))
        except (ValueError, KeyError, TypeError):
            # Not a body this app writes: nothing to push, and retrying cannot make it one.
            log.warning("push_record_unreadable")
    found = push_store.read_many(list(dict.fromkeys(key for _, key in keyed)))
    candidates: dict[tuple[str, str], tuple[Mapping[str, Any], push_store.Outgoing]] = {}
    for record, key in keyed:
        message = found.get(key)
        wait = _wait(message, now) if key not in candidates else None
        if wait is not None:
            _later(record, wait, failures)
        elif message is not None and key not in candidates and _claimable(message, now):
            candidates[key] = (record, message)
        # else: gone, not to push, done, or a second record of a message in this batch
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        # The devices are looked up while the claims commit: a message not claimed (rare) only
        # wasted its lookup.
        devices = {key: pool.submit(member_store.devices_of, key[0]) for key in candidates}
        claimed = {
            (m.customer_id, m.message_id): m for m in push_store.claim_many([m for _, m in candidates.values()], now)
        }
        jobs = []
        for key, (record, _) in candidates.items():
            message = claimed.get(key)
            if message is None:
                _later(record, 1, failures)  # another consumer moved it meanwhile: look again
                continue
            job = _Job(record, message)
            job.pushes = [_push(message, device.token, device.platform) for device in devices[key].result()]
            jobs.append(job)
    return jobs


def _claimable(message: push_store.Outgoing, now: datetime) -> bool:
    return message.push and message.state not in push_store.DONE and _wait(message, now) is None


def _wait(message: push_store.Outgoing | None, now: datetime) -> float | None:
    """Seconds until the message may be claimed (quiet hours, another consumer's live claim);
    None when it may be now, or never (then :func:`_claimable` says no)."""
    if message is None or not message.push or message.state in push_store.DONE:
        return None
    if message.push_after is not None and message.push_after > now:
        return (message.push_after - now).total_seconds()
    if message.state == push_store.SENDING and message.claimed_at is not None:
        fresh_until = message.claimed_at + push_store.SENDING_LEASE
        if fresh_until > now:
            return (fresh_until - now).total_seconds() + 1
    return None


def _later(record: Mapping[str, Any], seconds: float, failures: list[dict[str, str]]) -> None:
    queues.put_off(record, seconds)
    failures.append({"itemIdentifier": record["messageId"]})


def _push(message: push_store.Outgoing, token: str, platform: str) -> Push:
    data = {"message_id": message.message_id, "kind": message.kind}
    if message.offer_id:
        data["offer_id"] = message.offer_id
    push = Push(token, platform, message.title, message.body, data, message.message_id)
    body = message.body or ""
    while not fits(push) and body:
        # The inbox keeps the whole text; the notification says as much as fits.
        body = body[: max(0, len(body) - max(16, len(body) // 8))]
        push = Push(token, platform, message.title, f"{body.rstrip()}…" if body else None, data, message.message_id)
    return push


def _send_with_retries(pushes: Sequence[Push], sleep: Callable[[float], None]) -> list[Outcome]:
    """Every push's outcome; ``Retry`` ones sent again with backoff (at least the server's
    ``Retry-After``) while attempts and the budget last."""
    outcomes: list[Outcome] = [Retry(p.token, "not_sent") for p in pushes]

    def round_() -> list[int]:
        pending = [i for i, o in enumerate(outcomes) if isinstance(o, Retry)]
        for start in range(0, len(pending), MAX_BATCH):
            chunk = pending[start : start + MAX_BATCH]
            for i, outcome in zip(chunk, sender().send([pushes[i] for i in chunk]), strict=True):
                outcomes[i] = outcome
        return [i for i in pending if isinstance(outcomes[i], Retry)]

    backoff = wait_exponential_jitter(multiplier=0.5, max=8)

    def wait(state: RetryCallState) -> float:
        asked = [o.retry_after_s for o in outcomes if isinstance(o, Retry) and o.retry_after_s is not None]
        return max([backoff(state), *asked])

    Retrying(
        retry=retry_if_result(bool),
        stop=stop_after_attempt(ATTEMPTS) | stop_before_delay(RETRY_BUDGET_S),
        wait=wait,
        sleep=sleep,
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )(round_)
    return outcomes


def _settle(jobs: list[_Job], clock: Clock) -> None:
    """Dead tokens out of the members' devices, dead letters for what failed, and every claimed
    message's state in one transaction per 100."""
    now = clock()
    dead = [(job.message.customer_id, o.token) for job in jobs for o in job.outcomes if isinstance(o, DeadToken)]
    if dead:
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(dead))) as pool:
            list(pool.map(lambda pair: push_store.forget_token(*pair), dead))
    states: list[tuple[push_store.Outgoing, str]] = []
    for job in jobs:
        delivered = sum(isinstance(o, Delivered) for o in job.outcomes)
        failed = [o for o in job.outcomes if isinstance(o, Retry | Rejected)]
        if delivered:
            state = push_store.SENT
        elif failed:
            reason = ",".join(sorted({o.reason for o in failed}))
            push_store.add_dead_letter(job.message, reason, len(failed), now)
            state = push_store.DEAD_LETTER
        else:
            state = push_store.NO_DEVICE
        states.append((job.message, state))
    push_store.finish_many(states, now)
    outcomes = [o for job in jobs for o in job.outcomes]
    metrics.count(metrics.PUSHES_SENT, sum(isinstance(o, Delivered) for o in outcomes))
    metrics.count(metrics.PUSHES_FAILED, sum(isinstance(o, Retry | Rejected) for o in outcomes))
    counts = Counter(state for _, state in states)
    log.info("pushes_settled", messages=len(states), dead_tokens=len(dead), **counts)


def _give_up(record: Mapping[str, Any], message: push_store.Outgoing | None, error: Exception, clock: Clock) -> bool:
    """A record that failed its last allowed receive becomes a dead letter here, where an admin
    sees it, instead of only in the queue's own dead-letter queue. True if it did."""
    log.warning("push_record_failed", error=type(error).__name__, receive_count=queues.receive_count(record))
    if queues.receive_count(record) < queues.MAX_RECEIVES:
        return False
    if message is None:
        try:
            body = json.loads(record["body"])
            key = (str(body["customer_id"]), str(body["message_id"]))
        except (ValueError, KeyError, TypeError):
            return True  # not a body this app writes: let it go
        message = push_store.outgoing(*key)
        if message is None:
            return True
    push_store.add_dead_letter(message, f"consumer_failed:{type(error).__name__}", 0, clock())
    push_store.finish(message, push_store.DEAD_LETTER, clock())
    return True


# --- dead letters, for the admin -------------------------------------------------------------


class DeadLetterView(TypedDict):
    dead_letter_id: str
    customer_id: str
    message_id: str
    reason: str
    tokens_failed: int
    failed_at: str
    replayed_at: str | None


class DeadLetterPage(TypedDict):
    items: list[DeadLetterView]
    next_cursor: str | None


def dead_letter_view(letter: push_store.DeadLetter) -> DeadLetterView:
    return {
        "dead_letter_id": letter.dead_letter_id,
        "customer_id": letter.customer_id,
        "message_id": letter.message_id,
        "reason": letter.reason,
        "tokens_failed": letter.tokens_failed,
        "failed_at": isoformat(letter.failed_at),
        "replayed_at": isoformat(letter.replayed_at) if letter.replayed_at else None,
    }


def dead_letters(identity: Identity, limit: int, cursor: str | None) -> DeadLetterPage:
    """A page of dead letters, newest first."""
    letters = push_store.dead_letters(limit, cursors.position(identity, "dead_letters", cursor))
    last = letters[-1].dead_letter_id if len(letters) == limit else None
    return {
        "items": [dead_letter_view(letter) for letter in letters],
        "next_cursor": cursors.next_cursor(identity, "dead_letters", last),
    }


def replay(dead_letter_id: str, *, clock: Clock) -> DeadLetterView:
    """Send a dead letter's message to the push queue again, once: a second replay of the same
    letter answers the first."""
    letter = push_store.dead_letter(dead_letter_id)
    if letter is None:
        raise NotFound(f"no dead letter {dead_letter_id!r}", code="dead_letter_not_found", field="dead_letter_id")
    if letter.replayed_at is None and push_store.mark_replayed(letter, clock()):
        queues.send(queues.PUSH, [{"customer_id": letter.customer_id, "message_id": letter.message_id}])
    replayed = push_store.dead_letter(dead_letter_id)
    return dead_letter_view(replayed or letter)
