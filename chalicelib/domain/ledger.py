"""Ledger entries: the append-only history every balance is the sum of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LedgerEntry:
    entry_id: str
    at: datetime
    points: int
    reason: str
    balance_after: int
    purchase_id: str | None = None
    merchant_id: str | None = None
    store_id: str | None = None


def entries_for_purchase(
    *,
    entry_ids: tuple[str, str],
    at: datetime,
    balance_before: int,
    points_redeemed: int,
    points_earned: int,
    purchase_id: str,
    merchant_id: str,
    store_id: str,
) -> tuple[LedgerEntry, ...]:
    """The redemption (if any) then the earning (if any), each with the balance after it."""
    entries = []
    balance = balance_before
    if points_redeemed:
        balance -= points_redeemed
        entries.append(
            LedgerEntry(entry_ids[0], at, -points_redeemed, "redemption", balance, purchase_id, merchant_id, store_id)
        )
    if points_earned:
        balance += points_earned
        entries.append(
            LedgerEntry(entry_ids[1], at, points_earned, "purchase", balance, purchase_id, merchant_id, store_id)
        )
    return tuple(entries)
