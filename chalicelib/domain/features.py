"""Per-member marketing features: what marketing knows and writes about a member, kept beside the
member rather than on it.

Every purchase, refund and expiry is conditioned on the member item's revision. If a segment job,
a campaign's "last contacted" or the visit predictor wrote there, each such write would make a
till's transaction read again and retry; so they live in their own item (``store/features.py``),
keyed like the member by the token subject, which no till's transaction reads or conditions on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Prediction:
    """When the member is expected back, and which model said so (so a refit can be told apart).
    A fitted model (``domain/anticipation.py``) also says how likely the member is still active and
    how long they typically wait after a visit: between two weekly fits, a new visit moves the
    expected one by that wait, without fitting."""

    next_visit_at: datetime
    model: str
    p_active: float | None = None
    wait_days: int | None = None


@dataclass(frozen=True)
class Features:
    sub: str
    #: Segment ids the member belongs to, as the last segment run found them.
    segments: frozenset[str] = frozenset()
    #: Message kind (``campaign``, ``birthday``, ``receipt``, ...) -> the last time one reached the member.
    last_contact: Mapping[str, datetime] = field(default_factory=dict)
    #: When marketing messages reached the member within the frequency window, oldest first:
    #: what the frequency cap counts.
    marketing_sent: tuple[datetime, ...] = ()
    #: Contact keys (``campaign#<id>``, ``birthday#<year>``) -> when the member got that message:
    #: "once per key", for longer than an idempotency record lives.
    keys: Mapping[str, datetime] = field(default_factory=dict)
    prediction: Prediction | None = None
    #: The day the member is due a keep-in-touch message if nothing useful reaches them before
    #: (the monthly minimum); moved on by every useful contact, in the same write.
    touch_due: date | None = None
    #: The member's recent visit days (a day with a purchase, program time), oldest first.
    visit_days: tuple[date, ...] = ()
    updated_at: datetime | None = None
    #: Bumped by every contact recorded (not by segment or prediction writes): a contact decided
    #: on a stale read of the features never lands, so two racing messages cannot both pass a cap.
    revision: int = 0

    def marketing_since(self, since: datetime) -> int:
        return sum(at > since for at in self.marketing_sent)

    @property
    def last_visit_day(self) -> date | None:
        return self.visit_days[-1] if self.visit_days else None

    def visits_since(self, day: date) -> int:
        return sum(d >= day for d in self.visit_days)
