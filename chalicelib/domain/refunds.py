"""Refunds: what a full or partial refund takes back and gives back (the debt rule is in points.py).

Totals are cumulative, so the refunds of one purchase always add up to exactly the purchase: each
refund takes ``total_after - already``. A refund by amount scales the bill's totals by the share
of the gross amount refunded; a refund by items scales each line's own figures (what the line
paid after its discount, the points it earned at its own promotion, the redeemed points charged
to it) by the share of its units returned. A purchase is refunded one way or the other, and the
rest of it can always be refunded in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chalicelib.domain.errors import DomainRefusal


class RefundRejected(DomainRefusal):
    def __init__(self, field: str, message: str, code: str) -> None:
        super().__init__(message, field=field, code=code)


@dataclass(frozen=True)
class LineTotals:
    sku: str
    qty: int
    price_minor: int
    due: int
    points: int
    redeemed: int
    refunded_qty: int = 0


@dataclass(frozen=True)
class PurchaseTotals:
    amount: int
    amount_due: int
    points_earned: int
    points_redeemed: int
    lines: tuple[LineTotals, ...] = ()
    refunded_amount: int = 0
    refunded_money: int = 0
    points_taken_back: int = 0
    points_returned: int = 0


@dataclass(frozen=True)
class RefundQuote:
    amount: int
    money: int
    take_back: int
    give_back: int
    refunded_amount_after: int
    #: Units refunded so far, per line of the purchase.
    refunded_qty_after: tuple[int, ...] = field(default_factory=tuple)


def quote_refund(
    purchase: PurchaseTotals, amount: int | None = None, items: Sequence[tuple[str, int]] | None = None
) -> RefundQuote:
    """What refunding ``amount`` (gross, minor units) or ``items`` (sku, qty) of the purchase does;
    neither means everything that is left."""
    left = purchase.amount - purchase.refunded_amount
    if left <= 0:
        raise RefundRejected("purchase_id", "the purchase is already fully refunded", "already_refunded")
    by_items = any(line.refunded_qty for line in purchase.lines)
    if items:
        if amount is not None:
            raise RefundRejected("items", "give either amount or items, not both", "amount_and_items")
        if purchase.refunded_amount and not by_items:
            raise RefundRejected(
                "items", "this purchase was refunded by amount: refund the rest by amount", "mixed_refund"
            )
        return _by_items(purchase, items)
    if amount is None:
        return _rest(purchase)
    if by_items:
        raise RefundRejected("amount", "this purchase was refunded by items: refund the rest by items", "mixed_refund")
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
        refunded_qty_after=tuple(line.refunded_qty for line in purchase.lines),
    )


def _rest(purchase: PurchaseTotals) -> RefundQuote:
    return RefundQuote(
        amount=purchase.amount - purchase.refunded_amount,
        money=purchase.amount_due - purchase.refunded_money,
        take_back=purchase.points_earned - purchase.points_taken_back,
        give_back=purchase.points_redeemed - purchase.points_returned,
        refunded_amount_after=purchase.amount,
        refunded_qty_after=tuple(line.qty for line in purchase.lines),
    )


def _by_items(purchase: PurchaseTotals, items: Sequence[tuple[str, int]]) -> RefundQuote:
    lines = purchase.lines
    refunded = [line.refunded_qty for line in lines]
    for n, (sku, qty) in enumerate(items):
        matching = [i for i, line in enumerate(lines) if line.sku == sku]
        if not matching:
            raise RefundRejected(f"items.{n}.sku", "not an item of this purchase", "unknown_item")
        wanted = qty
        for i in matching:  # a sku on several lines: the lines in the order they were bought
            taken = min(wanted, lines[i].qty - refunded[i])
            refunded[i] += taken
            wanted -= taken
        if wanted:
            raise RefundRejected(f"items.{n}.qty", "more than was bought and not yet refunded", "qty_over")

    def moved(figure: str) -> int:
        return sum(
            getattr(line, figure) * after // line.qty - getattr(line, figure) * line.refunded_qty // line.qty
            for line, after in zip(lines, refunded, strict=True)
        )

    amount = sum((after - line.refunded_qty) * line.price_minor for line, after in zip(lines, refunded, strict=True))
    if amount == 0:
        raise RefundRejected("items", "these items cost nothing: there is nothing to refund", "nothing_to_refund")
    return RefundQuote(
        amount=amount,
        money=moved("due"),
        take_back=moved("points"),
        give_back=moved("redeemed"),
        refunded_amount_after=purchase.refunded_amount + amount,
        refunded_qty_after=tuple(refunded),
    )
