"""A member's points as money: balance, debt and the lots that expire first-in, first-out.

Invariant: ``balance == sum of the lots`` and both are never negative. Earnings first pay off a
debt (left by a refund of points already spent), then land in the lot of their expiry date;
spending takes from the oldest lot first.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date

from chalicelib.domain.program import ExpiryRules

#: The expiry date of points that never expire.
NEVER = "9999-12-31"


class NotEnoughPoints(ValueError):
    pass


@dataclass(frozen=True)
class Points:
    balance: int = 0
    debt: int = 0
    #: (expires_on ``YYYY-MM-DD``, remaining), oldest first.
    lots: tuple[tuple[str, int], ...] = ()

    @property
    def next_expiry(self) -> str | None:
        return next((day for day, _ in self.lots if day != NEVER), None)


def expiry_date(earned_on: date, months: int | None) -> str:
    """Points earned in a month expire at the end of the month ``months`` later (never if None)."""
    if months is None:
        return NEVER
    month_index = earned_on.year * 12 + earned_on.month - 1 + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, last_day).isoformat()


def lot_expiry(rules: ExpiryRules, today: date) -> str:
    """The lot new points go to: FIFO expiry dates them; inactivity expiry does not."""
    return expiry_date(today, rules.months) if rules.mode == "fifo" else NEVER


def expiry_due(rules: ExpiryRules, visit_day: date | None, points: Points, current: str | None) -> str | None:
    """When the member's points next expire: the oldest lot (FIFO), or ``months`` after the last
    visit (inactivity; ``visit_day`` None keeps ``current``); None when nothing will."""
    if rules.months is None or points.balance == 0:
        return None
    if rules.mode == "inactivity":
        return expiry_date(visit_day, rules.months) if visit_day is not None else current
    return points.next_expiry


def earn(points: Points, amount: int, expires_on: str) -> tuple[Points, int]:
    """Add earned points; returns the new points and how much of them repaid the debt."""
    if amount < 0:
        raise ValueError("earn a negative amount")
    repaid = min(points.debt, amount)
    kept = amount - repaid
    lots = dict(points.lots)
    if kept:
        lots[expires_on] = lots.get(expires_on, 0) + kept
    return Points(points.balance + kept, points.debt - repaid, _sorted(lots)), repaid


def spend(points: Points, amount: int) -> Points:
    """Take points the member has (a redemption); oldest lots first."""
    if amount > points.balance:
        raise NotEnoughPoints(f"{amount} points asked, {points.balance} held")
    return replace(points, balance=points.balance - amount, lots=_take(points.lots, amount))


def lots_taken(points: Points, amount: int) -> tuple[tuple[str, int], ...]:
    """Which lots a spend of ``amount`` takes from (oldest first): kept with a redemption so a
    refund returns the points with the expiry they had, not a fresh one."""
    left = amount
    taken = []
    for day, n in points.lots:
        used = min(n, left)
        if used:
            taken.append((day, used))
        left -= used
    return tuple(taken)


def restore(
    points: Points, lots: tuple[tuple[str, int], ...], amount: int
) -> tuple[Points, tuple[tuple[str, int], ...]]:
    """Give back ``amount`` redeemed points into the lots they were taken from (the latest-expiring
    first; a debt is paid off first). Returns the new points and the lots still not given back."""
    remaining = list(lots)
    give: dict[str, int] = {}
    left = amount
    for i in range(len(remaining) - 1, -1, -1):
        day, n = remaining[i]
        used = min(n, left)
        give[day] = give.get(day, 0) + used
        remaining[i] = (day, n - used)
        left -= used
    if left:  # more than the recorded lots (a purchase from before they were kept): never expire
        give[NEVER] = give.get(NEVER, 0) + left
    for day, n in sorted(give.items()):
        points, _ = earn(points, n, day)
    return points, tuple((day, n) for day, n in remaining if n)


def take_back(points: Points, amount: int) -> tuple[Points, int]:
    """Take points back (a refund of points that were earned); what the balance cannot cover
    becomes debt. Returns the new points and how many actually left the balance."""
    taken = min(points.balance, amount)
    return Points(points.balance - taken, points.debt + amount - taken, _take(points.lots, taken)), taken


def expire(points: Points, on: date) -> tuple[Points, int]:
    """Expire every lot whose last day has passed by ``on`` (points dated the 30th are usable all
    day on the 30th); returns the new points and how many expired."""
    today = on.isoformat()
    expired = sum(n for day, n in points.lots if day < today)
    kept = tuple((day, n) for day, n in points.lots if day >= today)
    return replace(points, balance=points.balance - expired, lots=kept), expired


def expire_all(points: Points) -> tuple[Points, int]:
    """Expire the whole balance (inactivity)."""
    return replace(points, balance=0, lots=()), points.balance


def _take(lots: tuple[tuple[str, int], ...], amount: int) -> tuple[tuple[str, int], ...]:
    left = amount
    kept = []
    for day, n in lots:
        used = min(n, left)
        left -= used
        if n - used:
            kept.append((day, n - used))
    return tuple(kept)


def _sorted(lots: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((day, n) for day, n in lots.items() if n > 0))
