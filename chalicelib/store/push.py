"""The push side of the inbox: claiming a message to push, its state, and the dead letters.

A message is pushed at most once however often the inbox's stream or the queue delivers it: a
consumer claims the inbox item (``push_state`` ``sending``, conditioned on the state it read), and
only the claimer sends. A claim older than :data:`SENDING_LEASE` belongs to a consumer that died
(SQS hands its message back after the visibility timeout, which is longer), and may be taken over.

``dead_letters`` (hash ``queue``, range ``dead_letter_id``, time-ordered; TTL ``expires_at``): pushes
that could not be delivered after their retries, for an admin to list (newest first) and replay.
They hold the member's random ``customer_id`` and the message id, never a device token.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.store.base import BaseMeta, condition_failed, failed_items, table_name, transaction
from chalicelib.store.members import DeviceModel
from chalicelib.store.wallet import InboxModel

PUSH_QUEUE = "push"
#: Longer than a consumer's send with its retries, shorter than the queue's visibility timeout.
SENDING_LEASE = timedelta(seconds=45)
#: How long a dead letter stays for an admin to look at.
DEAD_LETTER_TTL = timedelta(days=30)

SENDING = "sending"
SENT = "sent"
NO_DEVICE = "no_device"
DEAD_LETTER = "dead_letter"
REPLAY = "replay"
#: States after which a delivery of the same message does nothing.
DONE = (SENT, NO_DEVICE, DEAD_LETTER)


class DeadLetterModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("dead_letters")

    queue = UnicodeAttribute(hash_key=True)
    dead_letter_id = UnicodeAttribute(range_key=True)
    customer_id = UnicodeAttribute()
    message_id = UnicodeAttribute()
    reason = UnicodeAttribute()
    tokens_failed = NumberAttribute(default=0)
    failed_at = UTCDateTimeAttribute()
    replayed_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute()


@dataclass(frozen=True)
class Outgoing:
    """An inbox message as the push consumer reads it."""

    customer_id: str
    message_id: str
    kind: str
    title: str
    body: str | None
    offer_id: str | None
    push: bool
    push_after: datetime | None
    state: str | None
    claimed_at: datetime | None


@dataclass(frozen=True)
class DeadLetter:
    dead_letter_id: str
    customer_id: str
    message_id: str
    reason: str
    tokens_failed: int
    failed_at: datetime
    replayed_at: datetime | None


def outgoing(customer_id: str, message_id: str) -> Outgoing | None:
    """The message (None: it is gone with a member who left, or never was)."""
    try:
        item = InboxModel.get(customer_id, message_id, consistent_read=True)
    except InboxModel.DoesNotExist:
        return None
    return _outgoing(item)


def _outgoing(item: InboxModel) -> Outgoing:
    return Outgoing(
        item.customer_id,
        item.message_id,
        item.kind,
        item.title,
        item.body,
        item.offer_id,
        bool(item.push),
        item.push_after,
        item.push_state,
        item.push_claimed_at,
    )


#: TransactWriteItems' limit of actions.
TRANSACTION_ITEMS = 100


def read_many(keys: list[tuple[str, str]]) -> dict[tuple[str, str], Outgoing]:
    """The messages by (customer_id, message_id), read strongly consistent in batches of 100
    (one request for a whole SQS batch, not one per message); missing ones are left out."""
    found: dict[tuple[str, str], Outgoing] = {}
    for item in InboxModel.batch_get(keys, consistent_read=True):
        found[(item.customer_id, item.message_id)] = _outgoing(item)
    return found


def claim_many(messages: list[Outgoing], now: datetime) -> list[Outgoing]:
    """Claim each message, conditioned on the push state it was read in, 100 to a transaction:
    one request for a batch. A message whose state moved meanwhile (a racing consumer) is left
    out, and the others are claimed again without it. Returns the claimed ones."""
    claimed: list[Outgoing] = []
    for start in range(0, len(messages), TRANSACTION_ITEMS):
        chunk = messages[start : start + TRANSACTION_ITEMS]
        while chunk:
            try:
                with transaction() as tx:
                    for message in chunk:
                        tx.update(
                            InboxModel(message.customer_id, message.message_id),
                            actions=[InboxModel.push_state.set(SENDING), InboxModel.push_claimed_at.set(now)],
                            condition=_as_read(message),
                        )
            except TransactWriteError as error:
                failed = set(failed_items(error))
                if not failed:
                    raise
                chunk = [m for i, m in enumerate(chunk) if i not in failed]
                continue
            claimed += [dataclasses.replace(m, state=SENDING, claimed_at=now) for m in chunk]
            break
    return claimed


def finish_many(outcomes: list[tuple[Outgoing, str]], now: datetime) -> None:
    """Each claimed message's outcome, 100 to a transaction; a message gone meanwhile (its member
    left) is left out."""
    for start in range(0, len(outcomes), TRANSACTION_ITEMS):
        chunk = outcomes[start : start + TRANSACTION_ITEMS]
        while chunk:
            try:
                with transaction() as tx:
                    for message, state in chunk:
                        tx.update(
                            InboxModel(message.customer_id, message.message_id),
                            actions=_finished(state, now),
                            condition=InboxModel.message_id.exists(),
                        )
            except TransactWriteError as error:
                failed = set(failed_items(error))
                if not failed:
                    raise
                chunk = [pair for i, pair in enumerate(chunk) if i not in failed]
                continue
            break


def _as_read(message: Outgoing) -> Any:
    state = InboxModel.push_state.does_not_exist() if message.state is None else InboxModel.push_state == message.state
    claimed = (
        InboxModel.push_claimed_at.does_not_exist()
        if message.claimed_at is None
        else InboxModel.push_claimed_at == message.claimed_at
    )
    return InboxModel.message_id.exists() & state & claimed


def _finished(state: str, now: datetime) -> list[Action]:
    actions: list[Action] = [InboxModel.push_state.set(state)]
    if state == SENT:
        actions.append(InboxModel.pushed_at.set(now))
    return actions


def finish(message: Outgoing, state: str, now: datetime) -> None:
    """The claimed message's outcome (a member who left meanwhile has no item to update)."""
    actions: list[Action] = [InboxModel.push_state.set(state)]
    if state == SENT:
        actions.append(InboxModel.pushed_at.set(now))
    try:
        InboxModel(message.customer_id, message.message_id).update(
            actions=actions, condition=InboxModel.message_id.exists()
        )
    except UpdateError as error:
        if not condition_failed(error):
            raise


def forget_token(customer_id: str, token: str) -> bool:
    """The token leaves this member's devices (FCM said it is dead); False if it was gone."""
    try:
        DeviceModel(customer_id, token).delete(condition=DeviceModel.token.exists())
    except DeleteError as error:
        if condition_failed(error):
            return False
        raise
    return True


def add_dead_letter(message: Outgoing, reason: str, tokens_failed: int, now: datetime) -> DeadLetter:
    letter = DeadLetter(
        f"{now.astimezone(UTC):%Y%m%dT%H%M%S.%f}Z-{uuid.uuid4().hex[:8]}",
        message.customer_id,
        message.message_id,
        reason,
        tokens_failed,
        now,
        None,
    )
    DeadLetterModel(
        PUSH_QUEUE,
        letter.dead_letter_id,
        customer_id=letter.customer_id,
        message_id=letter.message_id,
        reason=reason,
        tokens_failed=tokens_failed,
        failed_at=now,
        expires_at=now + DEAD_LETTER_TTL,
    ).save()
    return letter


def dead_letters(limit: int, before: str | None) -> list[DeadLetter]:
    """Newest first, ``limit`` of them, older than ``before`` (a dead letter id) if given."""
    condition = DeadLetterModel.dead_letter_id < before if before else None
    return [
        _letter(item) for item in DeadLetterModel.query(PUSH_QUEUE, condition, scan_index_forward=False, limit=limit)
    ]


def dead_letter(dead_letter_id: str) -> DeadLetter | None:
    try:
        return _letter(DeadLetterModel.get(PUSH_QUEUE, dead_letter_id, consistent_read=True))
    except DeadLetterModel.DoesNotExist:
        return None


def mark_replayed(letter: DeadLetter, now: datetime) -> bool:
    """In one transaction: the letter is replayed, and its message may be claimed again. False if
    the letter was replayed meanwhile. A message whose member left is not there to reset: the
    letter is marked alone (the consumer then finds nothing to push)."""
    try:
        with transaction() as tx:
            tx.update(
                DeadLetterModel(PUSH_QUEUE, letter.dead_letter_id),
                actions=[DeadLetterModel.replayed_at.set(now)],
                condition=DeadLetterModel.replayed_at.does_not_exist(),
            )
            if _exists(letter):
                tx.update(
                    InboxModel(letter.customer_id, letter.message_id),
                    actions=[InboxModel.push_state.set(REPLAY), InboxModel.push_claimed_at.remove()],
                    condition=InboxModel.message_id.exists(),
                )
    except TransactWriteError:
        return False
    return True


def _exists(letter: DeadLetter) -> bool:
    return outgoing(letter.customer_id, letter.message_id) is not None


def _letter(item: DeadLetterModel) -> DeadLetter:
    return DeadLetter(
        item.dead_letter_id,
        item.customer_id,
        item.message_id,
        item.reason,
        int(item.tokens_failed or 0),
        item.failed_at,
        item.replayed_at,
    )
