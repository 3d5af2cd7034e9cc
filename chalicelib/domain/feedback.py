"""Feedback: what customers tell the program (a review of a visit, survey answers, a complaint).

A complaint, and any review or survey rated 2 or less, lands ``open`` in the team's inbox; the
team's reply reaches the customer's inbox and closes it. Other feedback is ``received``: read in
reports, nobody owes an answer. A review of a purchase may earn the program's review bonus, once
per purchase.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

OPEN = "open"
RECEIVED = "received"
CLOSED = "closed"
STATUSES = (OPEN, RECEIVED, CLOSED)
#: A rating at or below this needs an answer, whatever its kind.
UNHAPPY_AT_MOST = 2


@dataclass(frozen=True)
class Feedback:
    feedback_id: str
    customer_id: str
    kind: str
    rating: int
    at: datetime
    status: str
    text: str | None = None
    store_id: str | None = None
    purchase_id: str | None = None
    merchant_id: str | None = None
    answers: Mapping[str, object] = field(default_factory=dict)
    reply: str | None = None
    replied_by: str | None = None
    replied_at: datetime | None = None
    bonus_points: int = 0


def first_status(kind: str, rating: int) -> str:
    return OPEN if kind == "complaint" or rating <= UNHAPPY_AT_MOST else RECEIVED
