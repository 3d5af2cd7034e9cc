"""What a purchase comes to: discount, points redeemed, amount due, points earned, tier after.

All amounts are integers in minor units; every division rounds down (in points: the customer
never gets a fraction; in money: the discount is never more than the rule says).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chalicelib.domain.errors import DomainRefusal
from chalicelib.domain.money import minor_per_major
from chalicelib.domain.program import ProgramRules, Tier, cumulative_discount_percent, redeemable_points, tier_for
from chalicelib.domain.promotions import Promotion, multiplier_for


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
