"""Ledger entries: the append-only history every balance is the sum of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Posting:
    """A ledger entry as a rule decides it, before the store numbers it: an entry's id comes from
    the member's revision at commit (see store/ledger.py), which the rules never see."""

    at: datetime
    points: int
    reason: str
    balance_after: int
    purchase_id: str | None = None
    merchant_id: str | None = None
    store_id: str | None = None
    debt_after: int | None = None
    #: What the entry changes in the coalition's settlement (see settlement.py): points issued by
    #: the merchant, and points redeemed at its stores. A refund undoes both in full even when
    #: part of it is left as debt; a debt's repayment, expiry and forfeit change neither.
    settle_issued: int = 0
    settle_redeemed: int = 0
    #: Points a person gave by hand (amends): who, why, and the feedback it answers.
    granted_by: str | None = None
    note: str | None = None
    feedback_id: str | None = None

    def numbered(self, entry_id: str) -> LedgerEntry:
        return LedgerEntry(**vars(self), entry_id=entry_id)


@dataclass(frozen=True, kw_only=True)
class LedgerEntry(Posting):
    """A posting as the ledger holds it: numbered by the store, in the order changes applied."""

    entry_id: str


def entries_for_purchase(
    *,
    at: datetime,
    balance_before: int,
    points_redeemed: int,
    points_earned: int,
    points_repaid: int,
    debt_after: int,
    purchase_id: str,
    merchant_id: str,
    store_id: str,
) -> tuple[Posting, ...]:
    """The redemption, the earning, and the part of the earning that paid off a debt, each with
    the balance after it (only those that moved points)."""
    entries = []
    balance = balance_before
    for points, reason in (
        (-points_redeemed, "redemption"),
        (points_earned, "purchase"),
        (-points_repaid, "debt_repayment"),
    ):
        if points:
            balance += points
            entries.append(
                Posting(
                    at,
                    points,
                    reason,
                    balance,
                    purchase_id=purchase_id,
                    merchant_id=merchant_id,
                    store_id=store_id,
                    debt_after=debt_after if reason == "debt_repayment" else None,
                    settle_issued=points if reason == "purchase" else 0,
                    settle_redeemed=-points if reason == "redemption" else 0,
                )
            )
    return tuple(entries)
