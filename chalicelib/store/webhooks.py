"""Webhook deliveries (the webhooks themselves are catalog items, ``webhook/<id>``).

``webhook_deliveries`` (hash ``webhook_id``, range ``delivery_id``; TTL ``expires_at``)
    One item per (webhook, event): its id is drawn from the two, so an event delivered twice by a
    stream or a queue is one delivery. It keeps the body sent (ids and amounts, no personal data),
    the status (``pending``, ``delivered``, ``failed``), the attempts and the last answer, 30 days:
    the delivery log an admin reads, newest first, and replays from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.domain.clock import isoformat
from chalicelib.store.base import BaseMeta, condition_failed, table_name

KEEP = timedelta(days=30)
PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


class DeliveryModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("webhook_deliveries")

    webhook_id = UnicodeAttribute(hash_key=True)
    delivery_id = UnicodeAttribute(range_key=True)
    event_id = UnicodeAttribute()
    event = UnicodeAttribute()
    body = UnicodeAttribute()
    status = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    last_attempt_at = UTCDateTimeAttribute(null=True)
    last_status_code = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    delivered_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute()


@dataclass(frozen=True)
class Delivery:
    webhook_id: str
    delivery_id: str
    event_id: str
    event: str
    body: str
    status: str
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


def delivery_id(at: datetime, webhook_id: str, event_id: str) -> str:
    """Time-ordered (the log reads newest first) and drawn from the webhook and the event."""
    digest = hashlib.sha256(f"{webhook_id}|{event_id}".encode()).hexdigest()[:12]
    return f"{isoformat(at)}-{digest}"


def _delivery(item: DeliveryModel) -> Delivery:
    return Delivery(
        webhook_id=item.webhook_id,
        delivery_id=item.delivery_id,
        event_id=item.event_id,
        event=item.event,
        body=item.body,
        status=item.status,
        attempts=int(item.attempts or 0),
        created_at=item.created_at,
        last_attempt_at=item.last_attempt_at,
        last_status_code=int(item.last_status_code) if item.last_status_code is not None else None,
        last_error=item.last_error,
        delivered_at=item.delivered_at,
    )


def create(d: Delivery) -> bool:
    """The delivery, unless it exists (False: the event reached this webhook before)."""
    try:
        DeliveryModel(
            d.webhook_id,
            d.delivery_id,
            event_id=d.event_id,
            event=d.event,
            body=d.body,
            status=d.status,
            attempts=0,
            created_at=d.created_at,
            expires_at=d.created_at + KEEP,
        ).save(condition=DeliveryModel.delivery_id.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    return True


def get(webhook_id: str, delivery_id: str) -> Delivery | None:
    try:
        return _delivery(DeliveryModel.get(webhook_id, delivery_id, consistent_read=True))
    except DeliveryModel.DoesNotExist:
        return None


def attempted(d: Delivery, attempt: int, at: datetime, status: str, code: int | None, error: str | None) -> bool:
    """Record attempt ``attempt`` (only if it is the next one: two consumers never both count it)."""
    actions: list[Action] = [
        DeliveryModel.attempts.set(attempt),
        DeliveryModel.status.set(status),
        DeliveryModel.last_attempt_at.set(at),
        DeliveryModel.last_status_code.set(code) if code is not None else DeliveryModel.last_status_code.remove(),
        DeliveryModel.last_error.set(error) if error else DeliveryModel.last_error.remove(),
    ]
    if status == DELIVERED:
        actions.append(DeliveryModel.delivered_at.set(at))
    try:
        DeliveryModel(d.webhook_id, d.delivery_id).update(
            actions=actions, condition=DeliveryModel.attempts == attempt - 1
        )
    except UpdateError as error_:
        if condition_failed(error_):
            return False
        raise
    return True


def reopen(d: Delivery, at: datetime) -> bool:
    """A failed (or delivered) delivery sent again from the start: attempts back to 0, once."""
    try:
        DeliveryModel(d.webhook_id, d.delivery_id).update(
            actions=[
                DeliveryModel.status.set(PENDING),
                DeliveryModel.attempts.set(0),
                DeliveryModel.expires_at.set(at + KEEP),
            ],
            condition=DeliveryModel.status != PENDING,
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def log(webhook_id: str, limit: int, before: str | None) -> list[Delivery]:
    condition = DeliveryModel.delivery_id < before if before else None
    return [
        _delivery(item) for item in DeliveryModel.query(webhook_id, condition, scan_index_forward=False, limit=limit)
    ]
