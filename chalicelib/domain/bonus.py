"""Points given with a message (a birthday bonus, a surprise): earned like any points, into the
lot of the day's expiry, paying off a debt first, with their ledger entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.domain.changes import PointsAfter
from chalicelib.domain.ledger import Posting
from chalicelib.domain.members import Member
from chalicelib.domain.points import earn, expiry_due, lot_expiry
from chalicelib.domain.program import ProgramRules


@dataclass(frozen=True)
class Bonus:
    points: int
    #: The ledger entry's reason (``birthday_bonus``, ``surprise``, ``compensation``).
    reason: str
    #: Amends: the staff member who granted them, why, and the feedback they answer.
    granted_by: str | None = None
    note: str | None = None
    feedback_id: str | None = None

    def __post_init__(self) -> None:
        if self.points <= 0:
            raise ValueError("a bonus gives points")


def grant(member: Member, rules: ProgramRules, bonus: Bonus, at: datetime) -> PointsAfter:
    """The member's points after ``bonus``: the entry for the bonus, and one for the part of it that
    paid off a debt left by a refund (so the ledger still sums to the balance)."""
    today = at.astimezone(ZoneInfo(rules.timezone)).date()
    points, repaid = earn(member.points, bonus.points, lot_expiry(rules.expiry, today))
    postings = [
        Posting(
            at,
            bonus.points,
            bonus.reason,
            member.points.balance + bonus.points,
            granted_by=bonus.granted_by,
            note=bonus.note,
            feedback_id=bonus.feedback_id,
        )
    ]
    if repaid:
        postings.append(Posting(at, -repaid, "debt_repayment", points.balance, debt_after=points.debt))
    return PointsAfter(points, expiry_due(rules.expiry, None, points, member.expiry_due), tuple(postings))
