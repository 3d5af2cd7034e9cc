"""Segments: who an audience is, as a definition over members' facts (API.md's Segment).

A definition is data: every criterion narrows (they are ANDed), an empty definition is every
member. It is evaluated over the members' columnar snapshot (``store/audience.py`` turns it into
SQL), never by reading the live tables on a request.

RFM cells: each member with at least one visit gets a recency, frequency and monetary score from
1 to 5 (quintiles over the program's members with visits: five times the share of them at or
below the member's value, rounded up; 5 = most recent, most visits, most spent). A cell is three
characters, each a score or ``*`` for any: ``"55*"`` is the most recent and most frequent fifth
whatever they spend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

RFM_CELL = re.compile(r"^[1-5*]{3}$")


@dataclass(frozen=True)
class DayRange:
    """A number of days, inclusive at both ends (either may be left open)."""

    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class Definition:
    tiers: tuple[str, ...] = ()
    rfm: tuple[str, ...] = ()
    #: Members who bought in any of these categories.
    categories: tuple[str, ...] = ()
    #: Days since the last visit (program time); members who never visited match no range.
    last_visit_days: DayRange | None = None
    min_visits: int | None = None
    max_visits: int | None = None
    #: Spend over the membership, minor units.
    min_spend: int | None = None
    birthday_month: int | None = None
    home_store_id: str | None = None
    #: Only members who agreed to marketing.
    consent_only: bool = False
    #: Days since joining.
    joined_days: DayRange | None = None
    #: Days until the predicted next visit (negative: overdue), for members the predictor has a
    #: prediction for.
    next_visit_days: DayRange | None = None

    def rfm_cells(self) -> tuple[tuple[int | None, int | None, int | None], ...]:
        """Each cell as (r, f, m) scores, None for any."""
        return tuple(
            (None if c[0] == "*" else int(c[0]), None if c[1] == "*" else int(c[1]), None if c[2] == "*" else int(c[2]))
            for c in self.rfm
        )


@dataclass(frozen=True)
class Segment:
    """A saved audience: offers target it by id, campaigns name it."""

    segment_id: str
    name: str
    definition: Definition
    #: The merchant whose marketer saved it (None: program-wide, the admin's).
    merchant_id: str | None = None
    description: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    status: str = "active"
    #: When the membership run last wrote who is in it, and how many were.
    members_at: datetime | None = None
    members: int | None = None


def problems(definition: Definition) -> list[tuple[str, str]]:
    """(field, what is wrong) for every criterion that can match nobody by construction."""
    found: list[tuple[str, str]] = []
    for name in ("last_visit_days", "joined_days", "next_visit_days"):
        days: DayRange | None = getattr(definition, name)
        if days is not None and days.min is not None and days.max is not None and days.max < days.min:
            found.append((f"{name}.max", "must not be below min"))
    if (
        definition.min_visits is not None
        and definition.max_visits is not None
        and definition.max_visits < definition.min_visits
    ):
        found.append(("max_visits", "must not be below min_visits"))
    for i, cell in enumerate(definition.rfm):
        if not RFM_CELL.match(cell):
            found.append((f"rfm.{i}", "a cell is three characters, each 1-5 or *"))
    return found
