"""Promotions: time windows that multiply earning (double points), by merchant, store, category
or tier. Promotions do not stack with each other: each part of a bill earns at the highest
multiplier that covers it (the tier's multiplier applies on top)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Promotion:
    promotion_id: str
    name: str
    multiplier_percent: int
    valid_from: datetime
    valid_to: datetime
    merchant_id: str | None = None
    store_ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    status: str = "active"

    def applies(self, at: datetime, merchant_id: str, store_id: str, tier: str) -> bool:
        """Live at ``at`` for this store and tier (categories are judged per item)."""
        return (
            self.status == "active"
            and self.valid_from <= at < self.valid_to
            and (self.merchant_id is None or self.merchant_id == merchant_id)
            and (not self.store_ids or store_id in self.store_ids)
            and (not self.tiers or tier in self.tiers)
        )


def multiplier_for(live: list[Promotion], category: str | None) -> int:
    """The multiplier (percent) for a part of the bill in ``category``; 100 when nothing covers it."""
    best = 100
    for promotion in live:
        if not promotion.categories or (category is not None and category in promotion.categories):
            best = max(best, promotion.multiplier_percent)
    return best
