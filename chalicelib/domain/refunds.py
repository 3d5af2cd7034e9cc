"""Refunds: what a full or partial refund takes back and gives back (the debt rule is in points.py).

Totals are cumulative, so the refunds of one purchase always add up to exactly the purchase: each
refund takes ``total_after - already``. A refund by amount scales the bill's totals by the share
of the gross amount refunded; a refund by items scales each line's own figures (what the line
paid after its discount, the points it earned at its own promotion, the redeemed points charged
to it) by the share of its units returned. A purchase is refunded one way or the other, and the
rest of it can always be refunded in full.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.changes import PointsAfter, Standing, TierChange, Visit, local_month
from chalicelib.domain.errors import DomainRefusal
from chalicelib.domain.ledger import Posting
from chalicelib.domain.points import expiry_due, restore, take_back
from chalicelib.domain.program import ProgramRules, current_tier, months_back, tier_for, window_totals
from chalicelib.domain.purchase_record import RecordedPurchase, RefundMade


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


@dataclass(frozen=True)
class Sold:
    """The purchase as recorded: its totals so far and what it did to the member."""

    purchase_id: str
    merchant_id: str
    store_id: str
    at: datetime
    totals: PurchaseTotals
    #: The tier before the purchase and after it (None on a purchase recorded without one).
    tier_before: str | None
    tier: str | None
    tier_upgraded: bool
    #: The lots its redemption took from and no refund has given back yet.
    redeemed_lots: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class RefundDecision:
    quote: RefundQuote
    points: PointsAfter
    #: ``Sold.redeemed_lots`` less what this refund gave back.
    redeemed_lots_left: tuple[tuple[str, int], ...]
    #: Whether the purchase is refunded in full after this refund.
    complete: bool
    #: The member's tier after the refund (``tier_change`` is None when it stays).
    tier: str
    visit: Visit
    tier_change: TierChange | None


def apply_refund(
    rules: ProgramRules,
    member: Standing,
    sold: Sold,
    amount: int | None,
    items: Sequence[tuple[str, int]] | None,
    now: datetime,
) -> RefundDecision:
    """The refund applied to the member: redeemed points return to the lots they came from, earned
    points are taken back (what the balance cannot cover becomes debt), the purchase's month loses
    the money (and the visit, when refunded in full), and an upgrade the purchase bought is undone
    if the window no longer reaches it. ``RefundRejected`` changes nothing."""
    quote = quote_refund(sold.totals, amount, items or None)
    points, lots_left = restore(member.points, sold.redeemed_lots, quote.give_back)
    points, _ = take_back(points, quote.take_back)
    complete = quote.refunded_amount_after == sold.totals.amount
    monthly, tier = _visits_and_tier(rules, member, sold, quote.money, complete, now)
    postings: tuple[Posting, ...] = ()
    delta = points.balance - member.points.balance
    if delta or points.debt != member.points.debt or quote.take_back or quote.give_back:
        postings = (
            Posting(
                now,
                delta,
                "refund",
                points.balance,
                purchase_id=sold.purchase_id,
                merchant_id=sold.merchant_id,
                store_id=sold.store_id,
                debt_after=points.debt,
                settle_issued=-quote.take_back,
                settle_redeemed=-quote.give_back,
            ),
        )
    return RefundDecision(
        quote=quote,
        points=PointsAfter(points, expiry_due(rules.expiry, None, points, member.expiry_due), postings),
        redeemed_lots_left=lots_left,
        complete=complete,
        tier=tier,
        visit=Visit(monthly=monthly, visits_delta=-1 if complete else 0, spend_delta_minor=-quote.money),
        tier_change=TierChange(tier, member.tier_review_due if tier != rules.base_tier.name else None, None)
        if tier != member.tier
        else None,
    )


def _visits_and_tier(
    rules: ProgramRules, member: Standing, sold: Sold, money: int, complete: bool, now: datetime
) -> tuple[dict[str, tuple[int, int]], str]:
    """The monthly totals without what was refunded, and the tier: an upgrade the refunded
    purchase bought is undone if the window no longer reaches it (no buying Gold and returning it)."""
    month = local_month(rules, sold.at)
    monthly = dict(member.monthly)
    if month in monthly:
        spend, visits = monthly[month]
        monthly[month] = (max(0, spend - money), max(0, visits - (1 if complete else 0)))
    current = local_month(rules, now)
    kept = set(months_back(current, rules.tier_window_months))
    monthly = {k: v for k, v in monthly.items() if k in kept}
    tier = member.tier
    names = [t.name for t in rules.tiers]
    bought_tier = current_tier(rules, sold.tier) if sold.tier else None
    if sold.tier_upgraded and bought_tier == member.tier and member.tier in names:
        spend, visits = window_totals(monthly, current, rules.tier_window_months)
        reached = tier_for(rules, spend, visits).name
        before = current_tier(rules, sold.tier_before or rules.base_tier.name)
        floor = before if before in names else rules.base_tier.name
        if names.index(reached) < names.index(member.tier):
            tier = max(reached, floor, key=names.index)
    return monthly, tier


def sold(record: RecordedPurchase) -> Sold:
    """What a refund needs to know of the purchase as it was recorded."""
    return Sold(
        purchase_id=record.purchase_id,
        merchant_id=record.merchant_id,
        store_id=record.store_id,
        at=record.at,
        totals=PurchaseTotals(
            amount=record.amount,
            amount_due=record.amount_due,
            points_earned=record.points_earned,
            points_redeemed=record.points_redeemed,
            lines=tuple(
                LineTotals(
                    line.sku, line.qty, line.price_minor, line.due, line.points, line.redeemed, line.refunded_qty
                )
                for line in record.lines
            ),
            refunded_amount=record.refunded_amount,
            refunded_money=record.refunded_money,
            points_taken_back=record.points_taken_back,
            points_returned=record.points_returned,
        ),
        tier_before=record.tier_before,
        tier=record.tier,
        tier_upgraded=record.tier_upgraded,
        redeemed_lots=record.redeemed_lots,
    )


def with_refund(record: RecordedPurchase, decision: RefundDecision, refund_id: str, at: datetime) -> RecordedPurchase:
    """The purchase with this refund added to its running totals and to its list of refunds."""
    quote = decision.quote
    return dataclasses.replace(
        record,
        refunded_amount=quote.refunded_amount_after,
        refunded_money=record.refunded_money + quote.money,
        points_taken_back=record.points_taken_back + quote.take_back,
        points_returned=record.points_returned + quote.give_back,
        lines=tuple(
            dataclasses.replace(line, refunded_qty=done)
            for line, done in zip(record.lines, quote.refunded_qty_after, strict=True)
        ),
        redeemed_lots=decision.redeemed_lots_left,
        status="refunded" if decision.complete else "partially_refunded",
        refunds=(
            *record.refunds,
            RefundMade(refund_id, at, quote.amount, quote.money, quote.take_back, quote.give_back),
        ),
    )
