"""What a purchase comes to: discount, points redeemed, amount due, points earned, tier after.

All amounts are integers in minor units; every division rounds down (in points: the customer
never gets a fraction; in money: the discount is never more than the rule says).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.domain.money import minor_per_major
from chalicelib.domain.program import ProgramRules, Tier, cumulative_discount_percent, redeemable_points, tier_for
from chalicelib.domain.promotions import Promotion, multiplier_for


class PurchaseRejected(ValueError):
    """The purchase cannot be recorded as asked; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str, code: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


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
class PurchaseQuote:
    amount: int
    discount_percent: int
    discount: int
    points_redeemed: int
    redeemed_value: int
    amount_due: int
    points_earned: int
    earn_multiplier_percent: int
    promotion_ids: tuple[str, ...]
    balance_after: int
    tier_before: str
    tier_after: str


def quote_purchase(
    rules: ProgramRules,
    member: MemberState,
    amount: int,
    items: tuple[LineItem, ...] = (),
    redeem_points: int = 0,
    promotions: Sequence[Promotion] = (),
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
    discount = discountable * percent // 100
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
    parts = [(i.total_minor, i.category) for i in items] or [(amount, None)]
    weighted = sum(total * multiplier_for(live, category) for total, category in parts)
    # Each part of the bill earns on its share of what is paid, at its promotion's multiplier and
    # the tier's; one floor at the end, so no point is lost to rounding in between.
    earned = (
        weighted
        * amount_due
        * rules.points_per_currency_unit
        * tier_before.earn_multiplier_percent
        // (amount * 100 * 100 * minor_per_major(rules.currency))
    )
    applied = tuple(
        p.promotion_id
        for p in live
        if any(
            multiplier_for([p], category) > 100 and multiplier_for(live, category) == p.multiplier_percent
            for _, category in parts
        )
    )

    reached = tier_for(rules, member.spend_in_window_minor + amount_due, member.visits_in_window + 1)
    names = [t.name for t in rules.tiers]
    tier_after = reached if names.index(reached.name) > names.index(tier_before.name) else tier_before
    return PurchaseQuote(
        amount=amount,
        discount_percent=percent,
        discount=discount,
        points_redeemed=redeem_points,
        redeemed_value=redeemed_value,
        amount_due=amount_due,
        points_earned=earned,
        earn_multiplier_percent=tier_before.earn_multiplier_percent,
        promotion_ids=applied,
        balance_after=member.balance - redeem_points + earned,
        tier_before=tier_before.name,
        tier_after=tier_after.name,
    )


def _tier(rules: ProgramRules, name: str) -> Tier:
    for tier in rules.tiers:
        if tier.name == name:
            return tier
    return rules.base_tier
