"""What one change does to a member, as plain values the rules return and the store commits.

A rule (a purchase, a refund, an expiry, a tier review, a greeting) reads a member's
:class:`Standing` and decides the parts below; ``store/ledger.py``'s ``MemberChange`` commits
them exactly once, conditioned on the revision the standing was read at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from chalicelib.domain.ledger import Posting
from chalicelib.domain.points import Points
from chalicelib.domain.program import ProgramRules


@dataclass(frozen=True)
class Standing:
    """The part of a member the points, visit and tier rules read."""

    points: Points
    tier: str
    #: Spend and visits per month (``YYYY-MM``, program time zone), over the tier window.
    monthly: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    expiry_due: str | None = None
    category_counts: Mapping[str, int] = field(default_factory=dict)
    tier_review_due: str | None = None


@dataclass(frozen=True)
class PointsAfter:
    """The member's points after the change, when they next expire (None: nothing will), and the
    ledger postings that explain the difference (their sum is the change of the balance)."""

    points: Points
    expiry_due: str | None
    postings: tuple[Posting, ...] = ()


@dataclass(frozen=True)
class Visit:
    """What a purchase (or its refund) changes on the member besides the points."""

    monthly: dict[str, tuple[int, int]]
    visits_delta: int
    spend_delta_minor: int
    visited_at: datetime | None = None
    #: The member's units bought per category after this change (None leaves them as they are).
    category_counts: dict[str, int] | None = None


@dataclass(frozen=True)
class TierChange:
    """A new tier (or the same, re-reviewed) and when it is next reviewed."""

    tier: str
    review_due: str | None
    grace_until: str | None


@dataclass(frozen=True)
class Notice:
    """A message to the member's inbox; the store gives it its time-ordered id."""

    kind: str
    title: str
    body: str | None = None
    offer_id: str | None = None


def local_day(rules: ProgramRules, moment: datetime) -> date:
    """The program's calendar day at ``moment``: lots, reviews and months are counted in it."""
    return moment.astimezone(ZoneInfo(rules.timezone)).date()


def local_month(rules: ProgramRules, moment: datetime) -> str:
    return local_day(rules, moment).strftime("%Y-%m")
