"""Amends: points a cashier gives an unhappy customer on the spot, within their limits.

A staff member's limits (``/v1/staff/{sub}``): points per grant and, optionally, per day (their
grants of a program-time day together). Within both, the grant is made at once; above either, it
waits for an admin (``pending``), who approves (granted then) or rejects it. Every grant is a
ledger entry saying who gave it, why, and the feedback it answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

PENDING = "pending"
GRANTED = "granted"
REJECTED = "rejected"


@dataclass(frozen=True)
class Compensation:
    compensation_id: str
    customer_id: str
    points: int
    reason: str
    requested_by: str
    requested_at: datetime
    status: str
    merchant_id: str | None = None
    store_id: str | None = None
    feedback_id: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    #: Why an admin rejected it, or why it waited (``over_grant_limit``, ``over_daily_limit``).
    note: str | None = None


@dataclass(frozen=True)
class DailyLimit:
    """The granting staff member's day: ``ceiling`` points at most on ``day`` (program time)."""

    staff_sub: str
    day: str
    ceiling: int


def within_grant_limit(points: int, limit_points: int) -> bool:
    return 0 < points <= limit_points
