"""What a purchase comes to: discount, points redeemed, amount due, points earned, tier after.

All amounts are integers in minor units; every division rounds down (in points: the customer
never gets a fraction; in money: the discount is never more than the rule says).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.changes import PointsAfter, Standing, TierChange, Visit, local_day, local_month
from chalicelib.domain.errors import DomainRefusal
from chalicelib.domain.ledger import entries_for_purchase
from chalicelib.domain.money import minor_per_major
from chalicelib.domain.points import earn, expiry_due, lot_expiry, lots_taken, spend
from chalicelib.domain.program import (
    ProgramRules,
    Tier,
    add_months,
    cumulative_discount_percent,
    months_back,
    redeemable_points,
    tier_for,
    window_totals,
)
from chalicelib.domain.promotions import Promotion, multiplier_for
from chalicelib.domain.purchase_record import RecordedLine, RecordedPurchase


class PurchaseRejected(DomainRefusal):
    """The purchase cannot be recorded as asked; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str, code: str) -> None:
        super().__init__(message, field=field, code=code)


@dataclass(frozen=True)
class LineItem:
    sku: str
    qty: int
    price_minor: int
    category: str | None = None
    on_sale: bool = False

    @property
    def total_minor(self) -> int:
        return self.qty * self.price_minor


@dataclass(frozen=True)
class MemberState:
    """What the rules need to know about the member before this purchase."""

    balance: int
    tier: str
    visits_this_month: int
    spend_in_window_minor: int
    visits_in_window: int


@dataclass(frozen=True)
class LineQuote:
    due: int
    points: int
    redeemed: int


@dataclass(frozen=True)
class PurchaseQuote:
    amount: int
    discount_percent: int
    discount: int
    #: The part of ``discount`` that redeemed wallet offers gave.
    offer_discount: int
    points_redeemed: int
    redeemed_value: int
    amount_due: int
    points_earned: int
    earn_multiplier_percent: int
    promotion_ids: tuple[str, ...]
    #: Per item line (when the bill had items): what it paid, earned and had redeemed on it.
    lines: tuple[LineQuote, ...]
    tier_before: str
    tier_after: str


def quote_purchase(
    rules: ProgramRules,
    member: MemberState,
    amount: int,
    items: tuple[LineItem, ...] = (),
    redeem_points: int = 0,
    promotions: Sequence[Promotion] = (),
    rewards: Sequence[Mapping[str, object]] = (),
) -> PurchaseQuote:
    """``promotions`` are those live for this store, moment and tier (see ``Promotion.applies``)."""
    if amount <= 0:
        raise PurchaseRejected("amount", "must be positive", "invalid_amount")
    if items and sum(i.total_minor for i in items) != amount:
        raise PurchaseRejected("items", "the items do not add up to the amount", "items_total_mismatch")
    if redeem_points < 0:
        raise PurchaseRejected("redeem_points", "must not be negative", "invalid_redeem_points")

    percent = cumulative_discount_percent(rules.cumulative_discount, member.visits_this_month)
    discountable = amount
    if items and not rules.cumulative_discount.stacks_with_sale_items:
        discountable = sum(i.total_minor for i in items if not i.on_sale)
    member_discount = discountable * percent // 100
    # Wallet offers redeemed on this bill: money off what is left after the member's discount,
    # bonus points, or a multiplier on the points (the best one).
    offer_off = bonus_points = 0
    factor_percent = 100
    for reward in rewards:
        left = amount - member_discount - offer_off
        kind = reward.get("type")
        if kind == "percent_off":
            offer_off += left * int(str(reward["percent"])) // 100
        elif kind == "amount_off":
            offer_off += min(left, int(str(reward["amount"])))
        elif kind == "free_item":
            unit = next((i.price_minor for i in items if i.sku == reward["sku"]), None)
            if unit is None:
                raise PurchaseRejected("offer_ids", f"the free {reward['sku']} is not on the bill", "free_item_missing")
            offer_off += min(left, unit)
        elif kind == "bonus_points":
            bonus_points += int(str(reward["points"]))
        elif kind == "multiplier":
            factor_percent = max(factor_percent, round(float(str(reward["factor"])) * 100))
    discount = member_discount + offer_off
    after_discount = amount - discount

    if redeem_points:
        allowed = redeemable_points(member.balance, after_discount, rules.redemption)
        if redeem_points > allowed:
            raise PurchaseRejected(
                "redeem_points",
                f"at most {allowed} points can be redeemed on this bill (balance {member.balance}, "
                f"cap {rules.redemption.max_share_percent}% of the bill, minimum {rules.redemption.min_points})",
                "redeem_over_limit",
            )
    redeemed_value = redeem_points * rules.redemption.point_value_minor
    amount_due = after_discount - redeemed_value

    tier_before = _tier(rules, member.tier)
    live = list(promotions)
    # Each line's share of the discount, the redemption, what was paid and the points earned, so
    # that a refund of some items gives back exactly what those items cost and earned.
    lines = [
        (i.total_minor, i.category, i.on_sale and not rules.cumulative_discount.stacks_with_sale_items) for i in items
    ] or [(amount, None, False)]
    member_parts = allocate(member_discount, [0 if excluded else total for total, _, excluded in lines])
    after_member = [total - d for (total, _, _), d in zip(lines, member_parts, strict=True)]
    offer_parts = allocate(offer_off, after_member, caps=after_member)
    line_after = [a - o for a, o in zip(after_member, offer_parts, strict=True)]
    point_value = rules.redemption.point_value_minor
    line_redeemed = allocate(redeem_points, line_after, caps=[a // point_value for a in line_after])
    line_due = [a - r * point_value for a, r in zip(line_after, line_redeemed, strict=True)]
    weights = [due * multiplier_for(live, category) for due, (_, category, _) in zip(line_due, lines, strict=True)]
    # One floor for the whole bill, so no point is lost to rounding line by line.
    earned = (
        sum(weights)
        * rules.points_per_currency_unit
        * tier_before.earn_multiplier_percent
        * factor_percent
        // (100 * 100 * 100 * minor_per_major(rules.currency))
    ) + bonus_points
    line_points = allocate(earned, weights if sum(weights) else [1] * len(weights))
    applied = tuple(
        p.promotion_id
        for p in live
        if any(
            multiplier_for([p], category) > 100 and multiplier_for(live, category) == p.multiplier_percent
            for _, category, _ in lines
        )
    )

    reached = tier_for(rules, member.spend_in_window_minor + amount_due, member.visits_in_window + 1)
    names = [t.name for t in rules.tiers]
    tier_after = reached if names.index(reached.name) > names.index(tier_before.name) else tier_before
    return PurchaseQuote(
        amount=amount,
        discount_percent=percent,
        discount=discount,
        offer_discount=offer_off,
        points_redeemed=redeem_points,
        redeemed_value=redeemed_value,
        amount_due=amount_due,
        points_earned=earned,
        earn_multiplier_percent=tier_before.earn_multiplier_percent,
        promotion_ids=applied,
        lines=tuple(
            LineQuote(due, points, redeemed)
            for due, points, redeemed in zip(line_due, line_points, line_redeemed, strict=True)
        )
        if items
        else (),
        tier_before=tier_before.name,
        tier_after=tier_after.name,
    )


@dataclass(frozen=True)
class Sale:
    """What the till rang up, where, under which purchase id."""

    purchase_id: str
    merchant_id: str
    store_id: str
    amount: int
    items: tuple[LineItem, ...] = ()
    redeem_points: int = 0


@dataclass(frozen=True)
class PurchaseDecision:
    """Everything a purchase changes on its member, decided from the standing read."""

    quote: PurchaseQuote
    points: PointsAfter
    #: Of the points earned, those that paid off a debt instead of landing in a lot.
    points_repaid: int
    #: The lots the redemption took from, kept with the purchase so a refund restores them.
    redeemed_lots: tuple[tuple[str, int], ...]
    visit: Visit
    tier_change: TierChange | None


#: Categories kept per member for affinity (the most bought), so the item stays small.
MAX_CATEGORIES = 50


def apply_purchase(
    rules: ProgramRules,
    member: Standing,
    sale: Sale,
    promotions: Sequence[Promotion],
    rewards: Sequence[Mapping[str, object]],
    now: datetime,
) -> PurchaseDecision:
    """The purchase applied to the member: the quote, then the points (the redemption spends the
    oldest lots, the earning repays a debt first), the ledger postings, this month's visit and
    spend (the months beyond the tier window dropped), the category counts and an upgrade, which
    is reviewed ``tier_review.every_months`` later. ``PurchaseRejected`` changes nothing."""
    month = local_month(rules, now)
    today = local_day(rules, now)
    window_spend, window_visits = window_totals(dict(member.monthly), month, rules.tier_window_months)
    state = MemberState(
        balance=member.points.balance,
        tier=member.tier,
        visits_this_month=member.monthly.get(month, (0, 0))[1],
        spend_in_window_minor=window_spend,
        visits_in_window=window_visits,
    )
    quote = quote_purchase(rules, state, sale.amount, sale.items, sale.redeem_points, promotions, rewards)

    redeemed_lots = lots_taken(member.points, quote.points_redeemed)
    points, repaid = earn(
        spend(member.points, quote.points_redeemed), quote.points_earned, lot_expiry(rules.expiry, today)
    )
    postings = entries_for_purchase(
        at=now,
        balance_before=member.points.balance,
        points_redeemed=quote.points_redeemed,
        points_earned=quote.points_earned,
        points_repaid=repaid,
        debt_after=points.debt,
        purchase_id=sale.purchase_id,
        merchant_id=sale.merchant_id,
        store_id=sale.store_id,
    )
    monthly = dict(member.monthly)
    month_spend, month_visits = monthly.get(month, (0, 0))
    monthly[month] = (month_spend + quote.amount_due, month_visits + 1)
    kept = set(months_back(month, rules.tier_window_months))
    upgraded = quote.tier_after != quote.tier_before
    return PurchaseDecision(
        quote=quote,
        points=PointsAfter(points, expiry_due(rules.expiry, today, points, member.expiry_due), postings),
        points_repaid=repaid,
        redeemed_lots=redeemed_lots,
        visit=Visit(
            monthly={k: v for k, v in monthly.items() if k in kept},
            visits_delta=1,
            spend_delta_minor=quote.amount_due,
            visited_at=now,
            category_counts=_with_categories(member.category_counts, sale.items),
        ),
        tier_change=TierChange(quote.tier_after, add_months(today, rules.tier_review.every_months).isoformat(), None)
        if upgraded
        else None,
    )


def _with_categories(counts: Mapping[str, int], items: tuple[LineItem, ...]) -> dict[str, int] | None:
    if not any(i.category for i in items):
        return None
    merged = dict(counts)
    for item in items:
        if item.category:
            merged[item.category] = merged.get(item.category, 0) + item.qty
    return dict(sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CATEGORIES])


def _tier(rules: ProgramRules, name: str) -> Tier:
    for tier in rules.tiers:
        if tier.name == name:
            return tier
    return rules.base_tier


def allocate(total: int, weights: Sequence[int], caps: Sequence[int] | None = None) -> list[int]:
    """``total`` split in proportion to ``weights``, in integers that add up to it exactly (the
    largest remainders get the odd units), none above its cap. Zero weights get nothing."""
    weight = sum(weights)
    if total == 0 or weight == 0:
        return [0] * len(weights)
    limits = list(caps) if caps is not None else [total] * len(weights)
    parts = [min(total * w // weight, cap) for w, cap in zip(weights, limits, strict=True)]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % weight), i))
    left = total - sum(parts)
    while left > 0:
        progressed = False
        for i in order:
            if left and weights[i] and parts[i] < limits[i]:
                parts[i] += 1
                left -= 1
                progressed = True
        if not progressed:  # the caps cannot hold it all (a 100% cap on tiny lines): ignore them
            limits = [total] * len(weights)
    return parts


def record_of(
    customer_id: str,
    sale: Sale,
    decision: PurchaseDecision,
    currency: str,
    offers_redeemed: tuple[str, ...],
    offers_issued: tuple[Mapping[str, object], ...],
    at: datetime,
) -> RecordedPurchase:
    """The purchase as refunds will read it: what the till is told, and what a refund needs to undo it."""
    quote = decision.quote
    return RecordedPurchase(
        purchase_id=sale.purchase_id,
        customer_id=customer_id,
        store_id=sale.store_id,
        merchant_id=sale.merchant_id,
        at=at,
        amount=quote.amount,
        currency=currency,
        discount_percent=quote.discount_percent,
        discount=quote.discount,
        points_redeemed=quote.points_redeemed,
        redeemed_value=quote.redeemed_value,
        amount_due=quote.amount_due,
        points_earned=quote.points_earned,
        earn_multiplier_percent=quote.earn_multiplier_percent,
        promotion_ids=quote.promotion_ids,
        offers_redeemed=offers_redeemed,
        offers_issued=offers_issued,
        offer_discount=quote.offer_discount,
        points_debt_repaid=decision.points_repaid,
        points_balance=decision.points.points.balance,
        tier=quote.tier_after,
        tier_upgraded=quote.tier_after != quote.tier_before,
        tier_before=quote.tier_before,
        redeemed_lots=decision.redeemed_lots,
        lines=tuple(
            RecordedLine(
                item.sku, item.qty, item.price_minor, item.category, item.on_sale, line.due, line.points, line.redeemed
            )
            for item, line in zip(sale.items, quote.lines, strict=True)
        ),
    )
