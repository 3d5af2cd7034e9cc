"""Outbound webhooks for a CRM: what happened, signed so the receiver can trust it.

Events: ``member.joined``, ``member.left``, ``tier.changed``, ``purchase.created``,
``purchase.refunded``, ``feedback.created``, ``referral.rewarded``. A payload names members by their
random ``customer_id`` only, never a name, phone or token: the CRM joins it to the consenting
members it imported (``GET /v1/reports/members.csv``).

Each delivery is a POST of the JSON body with ``X-Loyalty-Event``, ``X-Loyalty-Delivery`` (the same
for every attempt, so a receiver can drop a repeat) and ``X-Loyalty-Signature: t=<unix time>,
v1=<hex HMAC-SHA256 of "<t>.<body>" under the webhook's secret>``; a receiver checks the HMAC and
refuses a ``t`` older than a few minutes (a replayed capture).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

EVENTS = (
    "member.joined",
    "member.left",
    "tier.changed",
    "purchase.created",
    "purchase.refunded",
    "feedback.created",
    "referral.rewarded",
)
#: Attempts per delivery, and the wait before each retry (seconds): about 1 h 15 min in all.
MAX_ATTEMPTS = 5
BACKOFF_S = (30, 120, 600, 3600)


@dataclass(frozen=True)
class Webhook:
    webhook_id: str
    url: str
    events: tuple[str, ...]
    secret: str
    active: bool = True
    description: str | None = None
    created_at: datetime | None = None
    #: The catalog's ownership: webhooks are the program's (the admin's).
    merchant_id: str | None = None


@dataclass(frozen=True)
class Event:
    event_id: str
    type: str
    at: datetime
    data: dict[str, object]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance_s: int = 300) -> bool:
    """What a receiver does (the tests use it): the HMAC matches and ``t`` is recent."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")


def backoff(attempt: int) -> int | None:
    """Seconds before attempt ``attempt + 1`` after attempt ``attempt`` failed (None: give up)."""
    return BACKOFF_S[attempt - 1] if attempt < MAX_ATTEMPTS else None
