"""The purchase as it is kept: what the till was told, and what a refund needs to undo it (its
lines, the lots its redemption took from, the tier before it), with the running totals of the
refunds made so far. The store serialises it; refunds read it back and add to it."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypedDict

from chalicelib.domain.clock import isoformat

RefundStatus = Literal["partially_refunded", "refunded"]


@dataclass(frozen=True)
class RecordedLine:
    sku: str
    qty: int
    price_minor: int
    category: str | None
    on_sale: bool
    #: What the line paid after its discount, the points it earned at its own promotion and the
    #: redeemed points charged to it: what a refund by items scales.
    due: int
    points: int
    redeemed: int
    #: Units refunded so far.
    refunded_qty: int = 0


@dataclass(frozen=True)
class RefundMade:
    refund_id: str
    at: datetime
    amount_refunded: int
    money_refunded: int
    points_taken_back: int
    points_returned: int


@dataclass(frozen=True)
class RecordedPurchase:
    purchase_id: str
    customer_id: str
    store_id: str
    merchant_id: str
    at: datetime
    amount: int
    currency: str
    discount_percent: int
    discount: int
    points_redeemed: int
    redeemed_value: int
    amount_due: int
    points_earned: int
    earn_multiplier_percent: int
    promotion_ids: tuple[str, ...]
    offers_redeemed: tuple[str, ...]
    #: The wallet entries the purchase issued, as the till was shown them.
    offers_issued: tuple[Mapping[str, object], ...]
    offer_discount: int
    points_debt_repaid: int
    #: The member's balance and tier right after the purchase.
    points_balance: int
    tier: str
    tier_upgraded: bool
    #: None on purchases recorded before the tier before was kept.
    tier_before: str | None
    #: The lots (month, points) its redemption took from and no refund has given back yet.
    redeemed_lots: tuple[tuple[str, int], ...] = ()
    #: Empty when the bill came without items (and on purchases recorded before lines were kept).
    lines: tuple[RecordedLine, ...] = ()
    refunded_amount: int = 0
    refunded_money: int = 0
    points_taken_back: int = 0
    points_returned: int = 0
    #: None until the first refund.
    status: RefundStatus | None = None
    refunds: tuple[RefundMade, ...] = ()

    def without_offers(self, offer_ids: Collection[str]) -> RecordedPurchase:
        """The same purchase not listing the issued offers ``offer_ids`` (the store refused them)."""
        kept = tuple(o for o in self.offers_issued if o.get("offer_id") not in offer_ids)
        return dataclasses.replace(self, offers_issued=kept)


class Receipt(TypedDict):
    """What the till is told about a purchase (``PurchaseResult``), as the record keeps it: the
    response, and the first keys of the stored body (``store.ledger.purchase_body``)."""

    purchase_id: str
    customer_id: str
    store_id: str
    merchant_id: str
    at: str
    amount: int
    currency: str
    discount_percent: int
    discount: int
    points_redeemed: int
    redeemed_value: int
    amount_due: int
    points_earned: int
    earn_multiplier_percent: int
    promotion_ids: list[str]
    offers_redeemed: list[str]
    offers_issued: list[Mapping[str, object]]
    offer_discount: int
    points_balance: int
    points_debt_repaid: int
    tier: str
    tier_upgraded: bool


def receipt(record: RecordedPurchase) -> Receipt:
    return {
        "purchase_id": record.purchase_id,
        "customer_id": record.customer_id,
        "store_id": record.store_id,
        "merchant_id": record.merchant_id,
        "at": isoformat(record.at),
        "amount": record.amount,
        "currency": record.currency,
        "discount_percent": record.discount_percent,
        "discount": record.discount,
        "points_redeemed": record.points_redeemed,
        "redeemed_value": record.redeemed_value,
        "amount_due": record.amount_due,
        "points_earned": record.points_earned,
        "earn_multiplier_percent": record.earn_multiplier_percent,
        "promotion_ids": list(record.promotion_ids),
        "offers_redeemed": list(record.offers_redeemed),
        "offers_issued": [dict(offer) for offer in record.offers_issued],
        "offer_discount": record.offer_discount,
        "points_balance": record.points_balance,
        "points_debt_repaid": record.points_debt_repaid,
        "tier": record.tier,
        "tier_upgraded": record.tier_upgraded,
    }
