"""CRM webhooks (``domain/webhooks.py``): the admin's endpoints, the events the write streams give
them, and their delivery through the webhooks queue with retries, a log, and replay.

An event becomes one delivery per subscribed webhook, written first (its id drawn from the webhook
and the event, so a stream record delivered twice is one delivery) and then put on the queue. The
queue's consumer POSTs it signed; a failure is tried again later (``queues.Later``: 30 s, 2 min,
10 min, 1 h), the fifth failure leaves it ``failed`` in the log for an admin to replay.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict
from urllib.parse import urlsplit

import structlog
import urllib3

from chalicelib import queues
from chalicelib.config import settings
from chalicelib.domain import webhooks as rules
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.webhooks import Event, Webhook
from chalicelib.errors import Conflict, InvalidField, NotFound
from chalicelib.ports import new_id, now
from chalicelib.services import cursors
from chalicelib.store import catalog, ledger
from chalicelib.store import members as member_store
from chalicelib.store import webhooks as store

log = structlog.get_logger("loyalty.webhooks")

#: A receiver has this long to answer.
TIMEOUT = urllib3.Timeout(connect=3.0, read=10.0)
_http = urllib3.PoolManager(timeout=TIMEOUT, retries=False)


@dataclass(frozen=True)
class WebhookDraft:
    url: str
    events: tuple[str, ...]
    secret: str | None = None
    active: bool = True
    description: str | None = None


class WebhookView(TypedDict):
    webhook_id: str
    url: str
    events: list[str]
    active: bool
    description: str | None
    created_at: str | None
    #: Only in the answer that created it (or set a new one): it is never shown again.
    secret: str | None


class WebhookPage(TypedDict):
    items: list[WebhookView]
    next_cursor: str | None


class DeliveryView(TypedDict):
    delivery_id: str
    event_id: str
    event: str
    status: str
    attempts: int
    created_at: str
    last_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: str | None
    body: dict[str, Any]


class DeliveryPage(TypedDict):
    items: list[DeliveryView]
    next_cursor: str | None


# --- the admin's endpoints ----------------------------------------------------------------------


def create(draft: WebhookDraft, *, clock: Clock) -> WebhookView:
    secret = draft.secret or secrets.token_urlsafe(32)
    hook = _checked(new_id("wh", 16), draft, secret, clock())
    catalog.put(hook)
    return view(hook, show_secret=True)


def replace(webhook_id: str, draft: WebhookDraft) -> WebhookView:
    old = _found(webhook_id)
    hook = _checked(webhook_id, draft, draft.secret or old.secret, old.created_at)
    catalog.put(hook)
    return view(hook, show_secret=draft.secret is not None)


def delete(webhook_id: str) -> None:
    catalog.delete(_found(webhook_id))


def get(webhook_id: str) -> WebhookView:
    return view(_found(webhook_id))


def page(identity: Identity, limit: int, cursor: str | None) -> WebhookPage:
    hooks = sorted(catalog.list_all(Webhook), key=lambda h: h.webhook_id)
    after = cursors.position(identity, "webhooks", cursor)
    if after is not None:
        hooks = [h for h in hooks if h.webhook_id > after]
    chosen = hooks[:limit]
    last = chosen[-1].webhook_id if len(hooks) > limit else None
    return {"items": [view(h) for h in chosen], "next_cursor": cursors.next_cursor(identity, "webhooks", last)}


def deliveries(identity: Identity, webhook_id: str, limit: int, cursor: str | None) -> DeliveryPage:
    _found(webhook_id)
    before = cursors.position(identity, "deliveries", cursor)
    found = store.log(webhook_id, limit, before)
    last = found[-1].delivery_id if len(found) == limit else None
    return {
        "items": [delivery_view(d) for d in found],
        "next_cursor": cursors.next_cursor(identity, "deliveries", last),
    }


def replay(webhook_id: str, delivery_id: str, *, clock: Clock) -> DeliveryView:
    """Send a delivery again from its first attempt (a failed one, or one the CRM lost); a
    delivery still under way is 409."""
    _found(webhook_id)
    found = store.get(webhook_id, delivery_id)
    if found is None:
        raise NotFound("no such delivery", code="delivery_not_found")
    if not store.reopen(found, clock()):
        raise Conflict("the delivery is still under way", code="delivery_pending")
    queues.send(queues.WEBHOOKS, [{"webhook_id": webhook_id, "delivery_id": delivery_id}])
    reopened = store.get(webhook_id, delivery_id)
    return delivery_view(reopened or found)


def _checked(webhook_id: str, draft: WebhookDraft, secret: str, created_at: datetime | None) -> Webhook:
    try:
        parts = urlsplit(draft.url)
        parts.port  # noqa: B018 - raises on a port out of range or not a number, as sending would
    except ValueError:  # an unclosed IPv6 bracket, a port past 65535, a host NFKC would change
        raise InvalidField("url", "not a URL", code="invalid_url") from None
    local_host = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and settings().is_local and local_host):
        raise InvalidField("url", "a webhook's URL is https (http only to this machine, locally)", code="not_https")
    if not parts.hostname:
        raise InvalidField("url", "not a URL", code="invalid_url")
    unknown = [e for e in draft.events if e not in rules.EVENTS]
    if unknown:
        raise InvalidField(
            "events", f"unknown events {unknown}; known: {', '.join(rules.EVENTS)}", code="unknown_event"
        )
    if len(secret) < 16:
        raise InvalidField("secret", "at least 16 characters", code="weak_secret")
    return Webhook(
        webhook_id=webhook_id,
        url=draft.url,
        events=tuple(dict.fromkeys(draft.events)),
        secret=secret,
        active=draft.active,
        description=draft.description,
        created_at=created_at,
    )


def _found(webhook_id: str) -> Webhook:
    found = catalog.get(Webhook, webhook_id)
    if found is None:
        raise NotFound("no such webhook", code="webhook_not_found")
    return found


# --- events from the write streams ------------------------------------------------------------


def emit(events: Iterable[Event]) -> int:
    """Each event to every active webhook subscribed to it: a delivery written, then queued;
    returns how many were queued (an event already delivered to a webhook is not again)."""
    events = list(events)
    if not events:
        return 0
    hooks = [h for h in catalog.list_all(Webhook) if h.active]
    bodies = []
    for event in events:
        for hook in hooks:
            if event.type not in hook.events:
                continue
            body = {"event_id": event.event_id, "type": event.type, "at": isoformat(event.at), "data": event.data}
            delivery = store.Delivery(
                webhook_id=hook.webhook_id,
                delivery_id=store.delivery_id(event.at, hook.webhook_id, event.event_id),
                event_id=event.event_id,
                event=event.type,
                body=json.dumps(body, separators=(",", ":"), sort_keys=True),
                status=store.PENDING,
                attempts=0,
                created_at=now(),
            )
            if store.create(delivery):
                bodies.append({"webhook_id": hook.webhook_id, "delivery_id": delivery.delivery_id})
    return queues.send(queues.WEBHOOKS, bodies) if bodies else 0


def safely_emit(events: Iterable[Event]) -> None:
    """For a request's side effect (feedback given): a webhook never fails what it reports."""
    try:
        emit(events)
    except Exception as exc:  # noqa: BLE001 - logged by type; the request's own write stands
        log.warning("webhook_events_not_emitted", error=type(exc).__name__)


def on_member_records(records: Iterable[Mapping[str, Any]]) -> int:
    """The members table's stream: joined, left, tier changed."""
    events = []
    for record in records:
        change = record["dynamodb"]
        new, old = change.get("NewImage"), change.get("OldImage")
        at = _record_time(change)
        event_id = f"member:{record.get('eventID') or change['SequenceNumber']}"
        if record["eventName"] == "INSERT" and new:
            member = member_store.member_from_image(new)
            data = {"customer_id": member.customer_id, "tier": member.tier, "joined_at": isoformat(member.joined_at)}
            events.append(Event(event_id, "member.joined", at, {**data, "referred_by": member.referred_by}))
        elif record["eventName"] == "REMOVE" and old:
            member = member_store.member_from_image(old)
            events.append(Event(event_id, "member.left", at, {"customer_id": member.customer_id}))
        elif record["eventName"] == "MODIFY" and new and old:
            after, before = member_store.member_from_image(new), member_store.member_from_image(old)
            if after.tier != before.tier:
                changed: dict[str, object] = {"customer_id": after.customer_id, "from": before.tier, "to": after.tier}
                events.append(Event(event_id, "tier.changed", at, changed))
    return emit(events)


def on_purchase_records(records: Iterable[Mapping[str, Any]]) -> int:
    """The purchases table's stream: a purchase, and each refund of one."""
    events = []
    for record in records:
        change = record["dynamodb"]
        new = change.get("NewImage")
        if not new or record["eventName"] not in ("INSERT", "MODIFY"):
            continue
        purchase, revision = ledger.purchase_from_image(new)
        data: dict[str, object] = {
            "purchase_id": purchase.purchase_id,
            "customer_id": purchase.customer_id,
            "merchant_id": purchase.merchant_id,
            "store_id": purchase.store_id,
            "currency": purchase.currency,
        }
        if record["eventName"] == "INSERT":
            data |= {
                "amount": purchase.amount,
                "amount_due": purchase.amount_due,
                "points_earned": purchase.points_earned,
                "points_redeemed": purchase.points_redeemed,
                "at": isoformat(purchase.at),
            }
            events.append(Event(f"purchase:{purchase.purchase_id}", "purchase.created", purchase.at, data))
        elif purchase.refunds:
            latest = purchase.refunds[-1]
            data |= {"refund_id": latest.refund_id, "money_refunded": latest.money_refunded, "at": isoformat(latest.at)}
            events.append(Event(f"refund:{purchase.purchase_id}:{revision}", "purchase.refunded", latest.at, data))
    return emit(events)


def _record_time(change: Mapping[str, Any]) -> datetime:
    """When the stream says the change happened: epoch seconds in Lambda's event, a datetime from
    the DynamoDB Streams API (the local stack's reader)."""
    stamp = change.get("ApproximateCreationDateTime")
    if isinstance(stamp, datetime):
        return stamp.astimezone(UTC)
    return datetime.fromtimestamp(float(stamp), UTC) if stamp is not None else now()


# --- delivering -------------------------------------------------------------------------------------


def on_delivery(body: Mapping[str, Any]) -> None:
    """A webhooks queue message: the next attempt of one delivery."""
    webhook_id, delivery_id = str(body["webhook_id"]), str(body["delivery_id"])
    delivery = store.get(webhook_id, delivery_id)
    if delivery is None or delivery.status != store.PENDING:
        return  # delivered, failed for good, or gone (30 days)
    hook = catalog.get(Webhook, webhook_id)
    if hook is None or not hook.active:
        store.attempted(delivery, delivery.attempts + 1, now(), store.FAILED, None, "webhook_inactive")
        return
    attempt = delivery.attempts + 1
    payload = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "loyalty-webhooks/1",
        "X-Loyalty-Event": delivery.event,
        "X-Loyalty-Delivery": delivery.delivery_id,
        "X-Loyalty-Signature": rules.signature(hook.secret, int(time.time()), payload),
    }
    code: int | None = None
    error: str | None = None
    try:
        response = _http.request("POST", hook.url, body=payload, headers=headers, redirect=False)
        code = response.status
        if not 200 <= code < 300:
            error = f"http_{code}"
    except urllib3.exceptions.HTTPError as exc:
        error = type(exc).__name__
    if error is None:
        store.attempted(delivery, attempt, now(), store.DELIVERED, code, None)
        return
    wait = rules.backoff(attempt)
    store.attempted(delivery, attempt, now(), store.PENDING if wait is not None else store.FAILED, code, error)
    log.info("webhook_attempt_failed", webhook_id=webhook_id, attempt=attempt, error=error)
    if wait is not None:
        raise queues.Later(wait)


def delivery_view(d: store.Delivery) -> DeliveryView:
    return {
        "delivery_id": d.delivery_id,
        "event_id": d.event_id,
        "event": d.event,
        "status": d.status,
        "attempts": d.attempts,
        "created_at": isoformat(d.created_at),
        "last_attempt_at": isoformat(d.last_attempt_at) if d.last_attempt_at else None,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "delivered_at": isoformat(d.delivered_at) if d.delivered_at else None,
        "body": json.loads(d.body),
    }


def view(h: Webhook, *, show_secret: bool = False) -> WebhookView:
    return {
        "webhook_id": h.webhook_id,
        "url": h.url,
        "events": list(h.events),
        "active": h.active,
        "description": h.description,
        "created_at": isoformat(h.created_at) if h.created_at else None,
        "secret": h.secret if show_secret else None,
    }
