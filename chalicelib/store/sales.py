"""Sales and points counters per day, kept from the write streams for the reports.

On ``counters`` (its own attributes, its own key prefixes):
``sales#<merchant_id>`` and ``sales#program`` / ``<YYYY-MM-DD>`` (program time)
    from the purchases table's stream: purchases, what members paid and what the bill was before
    the program's discounts, the discounts (the ladder's, offers'), points redeemed and their
    value, points earned, refunds.
``offer#<offer_id>`` / ``<YYYY-MM-DD>``: redemptions of the offer and what those purchases paid.
``points#program`` / ``<YYYY-MM-DD>``: from the ledger's stream, every point given (purchases,
    bonuses, referrals, amends), spent, expired and taken back.
Each stream record counts once (a marker ``seen#sales...`` in the same transaction).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.store.base import BaseMeta, table_name
from chalicelib.store.counters import MARKER_TTL, updated_once

PROGRAM = "program"

#: Everything a day counts.
FIELDS = (
    "purchases",
    "revenue_minor",
    "gross_minor",
    "discount_minor",
    "offer_discount_minor",
    "redeemed_value_minor",
    "points_earned",
    "points_redeemed",
    "refunds",
    "refunded_minor",
    "redemptions",
    "points_given",
    "points_spent",
    "points_expired",
    "points_taken_back",
)


class DayTallyModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("counters")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    purchases = NumberAttribute(null=True)
    revenue_minor = NumberAttribute(null=True)
    gross_minor = NumberAttribute(null=True)
    discount_minor = NumberAttribute(null=True)
    offer_discount_minor = NumberAttribute(null=True)
    redeemed_value_minor = NumberAttribute(null=True)
    points_earned = NumberAttribute(null=True)
    points_redeemed = NumberAttribute(null=True)
    refunds = NumberAttribute(null=True)
    refunded_minor = NumberAttribute(null=True)
    redemptions = NumberAttribute(null=True)
    points_given = NumberAttribute(null=True)
    points_spent = NumberAttribute(null=True)
    points_expired = NumberAttribute(null=True)
    points_taken_back = NumberAttribute(null=True)


def add(marker: str, tallies: Mapping[tuple[str, str], Mapping[str, int]], now: datetime) -> bool:
    """Add each ``(pk, day) -> counts`` once for ``marker``; False if it was added before."""
    updates: list[tuple[Model, list[Action]]] = []
    for (pk, day), counts in tallies.items():
        actions: list[Action] = [getattr(DayTallyModel, n).add(v) for n, v in sorted(counts.items()) if v]
        if actions:
            updates.append((DayTallyModel(pk, day), actions))
    if not updates:
        return True
    return updated_once(f"seen#sales#{marker}", updates, now + MARKER_TTL)


def days(pk: str, first: str, last: str) -> Iterator[tuple[str, dict[str, int]]]:
    """``(day, counts)`` of ``pk`` from ``first`` to ``last`` (ISO days, included), by key."""
    for item in DayTallyModel.query(pk, DayTallyModel.sk.between(first, last)):
        yield item.sk, {name: int(getattr(item, name) or 0) for name in FIELDS}
