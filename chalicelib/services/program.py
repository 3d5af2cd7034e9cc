"""The program's rules (read through the catalog cache), their changes and the tier names they keep."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from chalicelib.domain.clock import Clock
from chalicelib.domain.members import Member
from chalicelib.domain.money import minor_per_major
from chalicelib.domain.offers import Offer
from chalicelib.domain.program import (
    ContactPolicy,
    CumulativeDiscount,
    ExpiryRules,
    FeedbackRules,
    Moments,
    ProgramRules,
    RedemptionRules,
    ReferralRules,
    Tier,
    TierReview,
    check_rules,
    current_tier,
    migrate_tiers,
    retargeted_tiers,
)
from chalicelib.domain.promotions import Promotion
from chalicelib.errors import Conflict, InvalidField, Unavailable
from chalicelib.services.catalog_cache import cache
from chalicelib.store import catalog, ledger


def rules() -> ProgramRules:
    found = cache().program()
    if found is None:
        raise Unavailable("the program has not been set up yet", code="program_not_configured")
    return found


class TierView(TypedDict):
    name: str
    min_spend_minor: int
    min_visits: int
    earn_multiplier_percent: int
    perks: list[str]


class RedemptionView(TypedDict):
    point_value_minor: int
    min_points: int
    max_share_percent: int


class CumulativeDiscountView(TypedDict):
    enabled: bool
    base_percent: int
    step_percent: int
    max_percent: int
    stacks_with_sale_items: bool


class ExpiryView(TypedDict):
    mode: str
    months: int | None


class TierReviewView(TypedDict):
    every_months: int
    grace_months: int


class ProgramRulesView(TypedDict):
    """The rules as the console shows them (``ProgramRulesOut``)."""

    name: str
    currency: str
    default_region: str
    timezone: str
    points_per_currency_unit: int
    redemption: RedemptionView
    tiers: list[TierView]
    tier_window_months: int
    cumulative_discount: CumulativeDiscountView
    expiry: ExpiryView
    tier_review: TierReviewView
    tier_migrations: dict[str, str]
    contact: dict[str, Any]
    moments: dict[str, Any]
    referral: dict[str, Any]
    feedback: dict[str, Any]
    version: int


def current() -> ProgramRulesView:
    return _out(rules())


@dataclass(frozen=True)
class RulesDraft:
    """New rules as the admin writes them. ``version`` is the one they edited (None: save over
    whatever is current); ``tier_migrations`` maps each tier they drop to the kept tier its members
    hold from now on."""

    name: str
    currency: str
    default_region: str
    timezone: str
    points_per_currency_unit: int
    redemption: RedemptionRules
    tiers: tuple[Tier, ...]
    tier_window_months: int
    cumulative_discount: CumulativeDiscount
    expiry: ExpiryRules
    tier_review: TierReview
    tier_migrations: dict[str, str]
    version: int | None
    contact: ContactPolicy = field(default_factory=ContactPolicy)
    moments: Moments = field(default_factory=Moments)
    referral: ReferralRules = field(default_factory=ReferralRules)
    feedback: FeedbackRules = field(default_factory=FeedbackRules)


def update(draft: RulesDraft, *, clock: Clock) -> ProgramRulesView:
    rules = ProgramRules(
        name=draft.name,
        currency=draft.currency,
        default_region=draft.default_region,
        timezone=draft.timezone,
        points_per_currency_unit=draft.points_per_currency_unit,
        redemption=draft.redemption,
        tiers=draft.tiers,
        tier_window_months=draft.tier_window_months,
        cumulative_discount=draft.cumulative_discount,
        expiry=draft.expiry,
        tier_review=draft.tier_review,
        contact=draft.contact,
        moments=draft.moments,
        referral=draft.referral,
        feedback=draft.feedback,
    )
    return _out(save(rules, draft.version, clock=clock, tier_migrations=draft.tier_migrations))


def _out(saved: ProgramRules) -> ProgramRulesView:
    redemption, ladder, expiry, review = saved.redemption, saved.cumulative_discount, saved.expiry, saved.tier_review
    return {
        "name": saved.name,
        "currency": saved.currency,
        "default_region": saved.default_region,
        "timezone": saved.timezone,
        "points_per_currency_unit": saved.points_per_currency_unit,
        "redemption": {
            "point_value_minor": redemption.point_value_minor,
            "min_points": redemption.min_points,
            "max_share_percent": redemption.max_share_percent,
        },
        "tiers": [
            {
                "name": tier.name,
                "min_spend_minor": tier.min_spend_minor,
                "min_visits": tier.min_visits,
                "earn_multiplier_percent": tier.earn_multiplier_percent,
                "perks": list(tier.perks),
            }
            for tier in saved.tiers
        ],
        "tier_window_months": saved.tier_window_months,
        "cumulative_discount": {
            "enabled": ladder.enabled,
            "base_percent": ladder.base_percent,
            "step_percent": ladder.step_percent,
            "max_percent": ladder.max_percent,
            "stacks_with_sale_items": ladder.stacks_with_sale_items,
        },
        "expiry": {"mode": expiry.mode, "months": expiry.months},
        "tier_review": {"every_months": review.every_months, "grace_months": review.grace_months},
        "tier_migrations": dict(saved.tier_migrations),
        "contact": dataclasses.asdict(saved.contact),
        "moments": dataclasses.asdict(saved.moments),
        "referral": dataclasses.asdict(saved.referral),
        "feedback": dataclasses.asdict(saved.feedback),
        "version": saved.version,
    }


def save(
    rules: ProgramRules,
    expected_version: int | None,
    *,
    clock: Clock,
    tier_migrations: Mapping[str, str] | None = None,
) -> ProgramRules:
    """Validate and save new rules; they apply from the save (in every warm Lambda from its next request).

    ``tier_migrations`` maps each tier the new rules drop to the kept tier its members hold from
    now on; the saved rules keep every migration so far (see ``domain.program.current_tier``)."""
    current = catalog.program_rules()
    check_rules(rules)
    _check_moment_offers(rules)
    rules = dataclasses.replace(rules, tier_migrations=migrate_tiers(current, rules, dict(tier_migrations or {})))
    if current is not None and rules.currency != current.currency and ledger.any_purchase():
        raise Conflict(
            f"purchases were recorded in {current.currency}: a new currency would re-denominate every "
            "balance, refund and settlement; the currency is fixed once the program has sold",
            code="currency_locked",
            field="currency",
        )
    retargeted = _retargeted(rules)
    return catalog.save_program(rules, expected_version, clock(), also=retargeted)


#: The trigger an offer a moment names must have, by moment: it is issued through that trigger.
MOMENT_OFFER_TRIGGERS = {"birthday": "birthday", "reminder": "campaign", "winback": "campaign"}


def _check_moment_offers(rules: ProgramRules) -> None:
    for moment, trigger in MOMENT_OFFER_TRIGGERS.items():
        offer_id = getattr(getattr(rules.moments, moment), "offer_id", None)
        if offer_id is None:
            continue
        offer = catalog.get(Offer, offer_id)
        where = f"moments.{moment}.offer_id"
        if offer is None:
            raise InvalidField(where, f"no offer {offer_id!r}", code="offer_not_found")
        if offer.trigger.type != trigger:
            raise InvalidField(
                where, f"the {moment} moment brings an offer with trigger {trigger!r}, not {offer.trigger.type!r}"
            )


def _retargeted(rules: ProgramRules) -> list[Offer | Promotion]:
    """Offers and promotions aimed at a tier the new rules migrate, aimed at the tier it became:
    saved with the rules, so that no targeting is left pointing at a tier nobody holds."""
    changed: list[Offer | Promotion] = []
    for promotion in catalog.list_all(Promotion):
        tiers = retargeted_tiers(rules, promotion.tiers)
        if tiers != promotion.tiers:
            changed.append(dataclasses.replace(promotion, tiers=tiers))
    for offer in catalog.list_all(Offer):
        tiers = retargeted_tiers(rules, offer.targeting.tiers)
        if tiers != offer.targeting.tiers:
            changed.append(dataclasses.replace(offer, targeting=dataclasses.replace(offer.targeting, tiers=tiers)))
    return changed


def local_time(program: ProgramRules, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(program.timezone))


def month_key(program: ProgramRules, moment: datetime) -> str:
    return local_time(program, moment).strftime("%Y-%m")


def with_current_tier(member: Member) -> Member:
    """The member as the current rules see them: a tier that was renamed or dropped since it was
    stored reads as the tier it was migrated to. Services call this on every member they load."""
    tier = current_tier(rules(), member.tier)
    return member if tier == member.tier else dataclasses.replace(member, tier=tier)


class PublicTierView(TypedDict):
    name: str
    min_spend_minor: int
    min_visits: int
    earn_multiplier_percent: int
    perks: list[str]


class PublicProgramView(TypedDict):
    """The rules as members read them: what they earn, how they spend, the tiers and their perks,
    the discount ladder, the birthday gift, and the same in plain sentences."""

    name: str
    currency: str
    points_per_currency_unit: int
    point_value_minor: int
    min_points_to_spend: int
    max_share_percent: int
    tiers: list[PublicTierView]
    tier_window_months: int
    discount_ladder: dict[str, Any]
    points_expire: dict[str, Any]
    birthday_bonus_points: int
    in_plain_terms: list[str]


def public() -> PublicProgramView:
    return public_view(rules())


def public_view(rules: ProgramRules) -> PublicProgramView:
    return {
        "name": rules.name,
        "currency": rules.currency,
        "points_per_currency_unit": rules.points_per_currency_unit,
        "point_value_minor": rules.redemption.point_value_minor,
        "min_points_to_spend": rules.redemption.min_points,
        "max_share_percent": rules.redemption.max_share_percent,
        "tiers": [
            {
                "name": tier.name,
                "min_spend_minor": tier.min_spend_minor,
                "min_visits": tier.min_visits,
                "earn_multiplier_percent": tier.earn_multiplier_percent,
                "perks": list(tier.perks),
            }
            for tier in rules.tiers
        ],
        "tier_window_months": rules.tier_window_months,
        "discount_ladder": dataclasses.asdict(rules.cumulative_discount),
        "points_expire": {"mode": rules.expiry.mode, "months": rules.expiry.months},
        "birthday_bonus_points": rules.moments.birthday.bonus_points if rules.moments.birthday.enabled else 0,
        "in_plain_terms": plain_terms(rules),
    }


def plain_terms(rules: ProgramRules) -> list[str]:
    """The rules in sentences a member reads in the app (amounts in the currency's major unit)."""
    unit = minor_per_major(rules.currency)
    lines = [
        f"You earn {rules.points_per_currency_unit} point{'s' if rules.points_per_currency_unit != 1 else ''} "
        f"for every 1 {rules.currency} you pay.",
        f"From {rules.redemption.min_points} points, each point is worth "
        f"{rules.redemption.point_value_minor / unit:g} {rules.currency} off, up to "
        f"{rules.redemption.max_share_percent}% of a bill.",
    ]
    for tier in rules.tiers[1:]:
        ways = []
        if tier.min_spend_minor:
            ways.append(f"spend {tier.min_spend_minor / unit:g} {rules.currency}")
        if tier.min_visits:
            ways.append(f"visit {tier.min_visits} times")
        perks = f"; perks: {', '.join(tier.perks)}" if tier.perks else ""
        lines.append(
            f"{tier.name}: {' or '.join(ways)} within {rules.tier_window_months} months; you earn "
            f"{tier.earn_multiplier_percent / 100:g}x{perks}."
        )
    ladder = rules.cumulative_discount
    if ladder.enabled:
        lines.append(
            f"Your discount grows with each visit in a month: {ladder.base_percent}% on the first, "
            f"{ladder.step_percent}% more each time, up to {ladder.max_percent}%."
        )
    if rules.expiry.months:
        lines.append(
            f"Points expire {rules.expiry.months} months after the month you earned them."
            if rules.expiry.mode == "fifo"
            else f"Points expire {rules.expiry.months} months after your last visit."
        )
    birthday = rules.moments.birthday
    if birthday.enabled and birthday.bonus_points:
        lines.append(f"On your birthday: {birthday.bonus_points} points from us.")
    return lines
