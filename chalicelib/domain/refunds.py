"""Refunds: what a full or partial refund takes back and gives back (the debt rule is in points.py).

Totals are cumulative, so the refunds of one purchase always add up to exactly the purchase:
each refund takes ``total_after - already``, where ``total_after`` is the purchase's figure scaled
by the share refunded so far (rounded down). A full refund therefore reverses the purchase to the
point, whatever partial refunds came before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from chalicelib.domain.purchases import LineItem


class RefundRejected(ValueError):
    def __init__(self, field: str, message: str, code: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


@dataclass(frozen=True)
class PurchaseTotals:
    amount: int
    amount_due: int
    points_earned: int
    points_redeemed: int
    items: tuple[LineItem, ...] = ()
    refunded_amount: int = 0
    refunded_money: int = 0
    points_taken_back: int = 0
    points_returned: int = 0
    refunded_qty: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundQuote:
    amount: int
    money: int
    take_back: int
    give_back: int
    refunded_amount_after: int
    refunded_qty_after: dict[str, int]


def quote_refund(
    purchase: PurchaseTotals, amount: int | None = None, items: Sequence[tuple[str, int]] | None = None
) -> RefundQuote:
    """What refunding ``amount`` (gross, minor units) or ``items`` (sku, qty) of the purchase does;
    neither means everything that is left."""
    left = purchase.amount - purchase.refunded_amount
    if left <= 0:
        raise RefundRejected("purchase_id", "the purchase is already fully refunded", "already_refunded")
    refunded_qty = dict(purchase.refunded_qty)
    if items:
        if amount is not None:
            raise RefundRejected("items", "give either amount or items, not both", "amount_and_items")
        prices = {i.sku: i for i in purchase.items}
        amount = 0
        for n, (sku, qty) in enumerate(items):
            item = prices.get(sku)
            if item is None:
                raise RefundRejected(f"items.{n}.sku", "not an item of this purchase", "unknown_item")
            if refunded_qty.get(sku, 0) + qty > item.qty:
                raise RefundRejected(f"items.{n}.qty", "more than was bought and not yet refunded", "qty_over")
            refunded_qty[sku] = refunded_qty.get(sku, 0) + qty
            amount += qty * item.price_minor
    elif amount is None:
        amount = left
    if amount <= 0:
        raise RefundRejected("amount", "must be positive", "invalid_amount")
    if amount > left:
        raise RefundRejected("amount", f"at most {left} is left to refund", "refund_over_purchase")
    after = purchase.refunded_amount + amount

    def share(total: int) -> int:
        return total * after // purchase.amount

    return RefundQuote(
        amount=amount,
        money=share(purchase.amount_due) - purchase.refunded_money,
        take_back=share(purchase.points_earned) - purchase.points_taken_back,
        give_back=share(purchase.points_redeemed) - purchase.points_returned,
        refunded_amount_after=after,
        refunded_qty_after=refunded_qty,
    )
