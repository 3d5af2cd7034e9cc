"""The program's rules (earning, redemption, tiers, cumulative discount) and what follows from them."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date

from chalicelib.domain.currencies import is_active_currency
from chalicelib.domain.errors import DomainRefusal


@dataclass(frozen=True)
class Tier:
    name: str
    #: Spend (minor units) or visits within the tier window that reach this tier; either suffices.
    min_spend_minor: int = 0
    min_visits: int = 0
    #: Earning multiplier in percent (150 = 1.5x), so that point arithmetic stays in integers.
    earn_multiplier_percent: int = 100
    perks: tuple[str, ...] = ()


@dataclass(frozen=True)
class RedemptionRules:
    point_value_minor: int = 1
    min_points: int = 100
    max_share_percent: int = 50


@dataclass(frozen=True)
class CumulativeDiscount:
    """A discount that grows with each visit in a calendar month, back to the base the next."""

    enabled: bool = False
    base_percent: int = 0
    step_percent: int = 1
    max_percent: int = 15
    stacks_with_sale_items: bool = False


@dataclass(frozen=True)
class ExpiryRules:
    """When points expire. ``fifo``: each month's earnings expire ``months`` after that month ends,
    oldest first; ``inactivity``: the whole balance expires ``months`` after the last visit."""

    mode: str = "fifo"
    months: int | None = None


@dataclass(frozen=True)
class TierReview:
    """Tiers go up at once; they go down only at a review, ``every_months`` after the last change,
    and only after ``grace_months`` more below the threshold."""

    every_months: int = 12
    grace_months: int = 1


@dataclass(frozen=True)
class ContactPolicy:
    """How often and when the program may speak to a member (``domain/contact.py`` applies it)."""

    #: Marketing messages per member in any rolling 7 days, counted across every job and campaign.
    marketing_per_week: int = 1
    #: Quiet hours (local wall-clock HH:MM, may wrap midnight) for a member who set none.
    quiet_start: str = "21:00"
    quiet_end: str = "09:00"
    #: The monthly minimum: a consenting member who has heard nothing useful for this many days
    #: gets one ``keep_in_touch`` message (0 turns it off).
    keep_in_touch_after_days: int = 30
    #: Percent of each campaign's audience held out (sent nothing) to measure its lift.
    campaign_holdout_percent: int = 5


@dataclass(frozen=True)
class BirthdayMoment:
    enabled: bool = True
    #: Points given with the greeting (0: a greeting alone).
    bonus_points: int = 100
    #: An offer (trigger ``birthday``) the greeting brings, if the member may get it.
    offer_id: str | None = None


@dataclass(frozen=True)
class SurpriseMoment:
    """A small unexpected reward for regulars: ``min_visits`` within ``within_days``."""

    enabled: bool = True
    min_visits: int = 4
    within_days: int = 30
    points: int = 50
    #: Points all surprises of a calendar month (program time zone) may give, together.
    monthly_budget_points: int = 5000
    #: Never the same member twice within this many months.
    not_again_months: int = 3


@dataclass(frozen=True)
class ReminderMoment:
    """A reminder ``days_before`` the member's predicted next visit."""

    enabled: bool = True
    days_before: int = 2
    #: Visits needed before a member has a rhythm worth predicting from.
    min_visits: int = 3
    offer_id: str | None = None


@dataclass(frozen=True)
class WinbackMoment:
    """A word to a member ``margin_days`` past their predicted visit, once per lapse."""

    enabled: bool = True
    margin_days: int = 14
    offer_id: str | None = None


@dataclass(frozen=True)
class ExpiringPointsMoment:
    """A service message ``days_before`` points expire."""

    enabled: bool = True
    days_before: int = 14


@dataclass(frozen=True)
class Moments:
    """The program's settings for each moment it speaks at (the jobs in ``chalicelib/jobs``)."""

    birthday: BirthdayMoment = field(default_factory=BirthdayMoment)
    surprise: SurpriseMoment = field(default_factory=SurpriseMoment)
    reminder: ReminderMoment = field(default_factory=ReminderMoment)
    winback: WinbackMoment = field(default_factory=WinbackMoment)
    points_expiring: ExpiringPointsMoment = field(default_factory=ExpiringPointsMoment)


@dataclass(frozen=True)
class ReferralRules:
    """Friends bring friends: both are rewarded on the friend's first qualifying purchase, never on
    joining (a join costs nothing to fake; a purchase does)."""

    enabled: bool = True
    #: Points to the member who brought the friend, and to the friend.
    referrer_points: int = 200
    friend_points: int = 100
    #: The friend's purchase qualifies from this amount (minor units, after discounts).
    min_purchase_minor: int = 500
    #: ... if made within this many days of joining.
    within_days: int = 90
    #: Friends one member's code may bring (the code is refused after).
    max_friends: int = 25


@dataclass(frozen=True)
class FeedbackRules:
    #: Points for a review of a purchase, once per purchase (0: none).
    review_bonus_points: int = 20


@dataclass(frozen=True)
class ProgramRules:
    name: str
    currency: str
    default_region: str
    timezone: str
    points_per_currency_unit: int = 1
    redemption: RedemptionRules = field(default_factory=RedemptionRules)
    tiers: tuple[Tier, ...] = (Tier("Bronze"),)
    #: Tiers are earned over this many calendar months, the current one included.
    tier_window_months: int = 12
    cumulative_discount: CumulativeDiscount = field(default_factory=CumulativeDiscount)
    expiry: ExpiryRules = field(default_factory=ExpiryRules)
    tier_review: TierReview = field(default_factory=TierReview)
    #: Every tier name members may still hold that the tiers no longer have, mapped to the tier
    #: it became (always a current one). Stored tiers are never rewritten, which would need a
    #: scan of the members: :func:`current_tier` reads them through this instead.
    tier_migrations: dict[str, str] = field(default_factory=dict)
    #: The contact policy and the moments the program speaks at.
    contact: ContactPolicy = field(default_factory=ContactPolicy)
    moments: Moments = field(default_factory=Moments)
    referral: ReferralRules = field(default_factory=ReferralRules)
    feedback: FeedbackRules = field(default_factory=FeedbackRules)
    version: int = 1

    @property
    def base_tier(self) -> Tier:
        return self.tiers[0]


#: The cumulative discount's cap. Above half of every bill, a visit gives away more than the
#: margin of most retail and of every café; a program that means to is a sale, not a ladder.
MAX_CUMULATIVE_DISCOUNT_PERCENT = 50


#: The monthly minimum's shortest silence: under a week it would be a second weekly message.
MIN_KEEP_IN_TOUCH_DAYS = 7


class InvalidRules(DomainRefusal):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field, code="invalid_rules")


def check_rules(rules: ProgramRules) -> None:
    """What a single field's range cannot say: how the fields fit together."""
    if not is_active_currency(rules.currency):
        raise InvalidRules("currency", "not an active ISO 4217 currency with minor units (e.g. EUR, USD, JPY)")
    names = [t.name for t in rules.tiers]
    if len({n.casefold() for n in names}) != len(names):
        raise InvalidRules("tiers", "tier names must be unique")
    base = rules.tiers[0]
    if base.min_spend_minor or base.min_visits:
        raise InvalidRules("tiers.0", "the first tier is where everybody starts: its thresholds must be 0")
    for i, (lower, upper) in enumerate(zip(rules.tiers, rules.tiers[1:], strict=False), start=1):
        if not (upper.min_spend_minor or upper.min_visits):
            raise InvalidRules(f"tiers.{i}", "a tier above the first needs a spend or a visits threshold")
        if upper.min_spend_minor and upper.min_spend_minor <= lower.min_spend_minor:
            raise InvalidRules(f"tiers.{i}.min_spend_minor", "must be above the tier below")
        if upper.min_visits and upper.min_visits <= lower.min_visits:
            raise InvalidRules(f"tiers.{i}.min_visits", "must be above the tier below")
    discount = rules.cumulative_discount
    if discount.max_percent > MAX_CUMULATIVE_DISCOUNT_PERCENT:
        raise InvalidRules(
            "cumulative_discount.max_percent",
            f"at most {MAX_CUMULATIVE_DISCOUNT_PERCENT}: a loyalty discount above half of every bill "
            "gives away more than the margin it is meant to win back",
        )
    if discount.base_percent > discount.max_percent:
        raise InvalidRules(
            "cumulative_discount.base_percent",
            "must not be above max_percent: the first visit would get more than the ladder's top",
        )
    if rules.expiry.mode not in ("fifo", "inactivity"):
        raise InvalidRules("expiry.mode", "must be fifo or inactivity")
    if 0 < rules.contact.keep_in_touch_after_days < MIN_KEEP_IN_TOUCH_DAYS:
        raise InvalidRules(
            "contact.keep_in_touch_after_days",
            f"0 (off) or at least {MIN_KEEP_IN_TOUCH_DAYS}: a member who heard from us days ago has not drifted away",
        )


def current_tier(rules: ProgramRules, stored: str) -> str:
    """The tier a member holds under ``rules``, from the name stored on them: a renamed or
    dropped tier reads as the tier it was migrated to. Every read of a member's tier goes
    through here, so no member is ever left holding a tier the program no longer has."""
    if any(t.name == stored for t in rules.tiers):
        return stored
    return rules.tier_migrations.get(stored, rules.base_tier.name)


def migrate_tiers(current: ProgramRules | None, proposed: ProgramRules, requested: dict[str, str]) -> dict[str, str]:
    """The tier migrations the rules keep after ``proposed`` replaces ``current``.

    A tier that ``current`` has and ``proposed`` drops (or renames) may be held by members: it
    must be mapped, in ``requested``, to a tier ``proposed`` keeps. Earlier migrations are kept
    and follow a target that is migrated now; a name that becomes a tier again stops being one.
    ``requested`` may restate earlier migrations, as ``GET /v1/program`` shows them, so that the
    rules can be read, edited and saved back.
    """
    kept = [t.name for t in proposed.tiers]
    before = [t.name for t in current.tiers] if current is not None else []
    earlier = current.tier_migrations if current is not None else {}
    dropped = [name for name in before if name not in kept]
    carried = {old: requested.get(target, target) for old, target in earlier.items() if old not in kept}
    for old, new in requested.items():
        where = f"tier_migrations.{old}"
        if old in kept:
            raise InvalidRules(where, "is a tier of the new rules: only a tier they drop is migrated")
        if old in carried:
            if new not in (earlier[old], carried[old]):
                raise InvalidRules(where, f"was migrated to {carried[old]!r} already: its members hold that tier")
            continue
        if old not in dropped:
            raise InvalidRules(where, "is not a tier of the current rules: no member holds it")
        if new not in kept:
            raise InvalidRules(where, f"{new!r} is not a tier of the new rules; they have {', '.join(kept)}")
    stranded = [name for name in dropped if name not in requested]
    if stranded:
        example = ", ".join(f'"{name}": "{kept[0]}"' for name in stranded)
        raise InvalidRules(
            "tiers",
            f"the new tiers drop {', '.join(stranded)}, which members may hold: keep "
            f"{'it' if len(stranded) == 1 else 'them'}, or say which kept tier each becomes in "
            f"tier_migrations (e.g. {{{example}}})",
        )
    return {**carried, **{old: new for old, new in requested.items() if old in dropped}}


def retargeted_tiers(rules: ProgramRules, tiers: tuple[str, ...]) -> tuple[str, ...]:
    """An offer's or a promotion's tier list with each migrated name replaced by the tier it
    became, so that the members it aimed at still match (a name that never was a tier stays)."""
    names = {t.name for t in rules.tiers}
    return tuple(dict.fromkeys(t if t in names else rules.tier_migrations.get(t, t) for t in tiers))


@dataclass(frozen=True)
class TierProgress:
    tier: str
    next_tier: str | None
    spend_needed_minor: int | None
    visits_needed: int | None


def tier_for(rules: ProgramRules, spend_minor: int, visits: int) -> Tier:
    """The highest tier whose spend or visits threshold the window reaches."""
    reached = rules.base_tier
    for tier in rules.tiers[1:]:
        if _reaches(tier, spend_minor, visits):
            reached = tier
    return reached


def _reaches(tier: Tier, spend_minor: int, visits: int) -> bool:
    by_spend = tier.min_spend_minor > 0 and spend_minor >= tier.min_spend_minor
    by_visits = tier.min_visits > 0 and visits >= tier.min_visits
    return by_spend or by_visits


def tier_progress(rules: ProgramRules, current: str, spend_minor: int, visits: int) -> TierProgress:
    """How far the member is from the tier above the one they hold."""
    names = [t.name for t in rules.tiers]
    index = names.index(current) if current in names else 0
    if index + 1 >= len(rules.tiers):
        return TierProgress(tier=names[index], next_tier=None, spend_needed_minor=None, visits_needed=None)
    nxt = rules.tiers[index + 1]
    return TierProgress(
        tier=names[index],
        next_tier=nxt.name,
        spend_needed_minor=max(0, nxt.min_spend_minor - spend_minor) if nxt.min_spend_minor else None,
        visits_needed=max(0, nxt.min_visits - visits) if nxt.min_visits else None,
    )


def tier_progress_in_window(
    rules: ProgramRules, current: str, monthly: dict[str, tuple[int, int]], month: str
) -> TierProgress:
    """Progress as the purchase and the tier review measure it: over the tier window ending with
    ``month``, not over the member's lifetime (old spend earns no tier)."""
    spend_minor, visits = window_totals(monthly, month, rules.tier_window_months)
    return tier_progress(rules, current, spend_minor, visits)


def cumulative_discount_percent(rules: CumulativeDiscount, visits_this_month: int) -> int:
    """Base plus a step per visit already made this month, capped."""
    if not rules.enabled:
        return 0
    return min(rules.max_percent, rules.base_percent + rules.step_percent * max(0, visits_this_month))


def redeemable_points(balance: int, bill_minor: int, rules: RedemptionRules) -> int:
    """Points the customer may spend on this bill: capped by the balance and the bill share."""
    if bill_minor <= 0 or balance < rules.min_points:
        return 0
    cap_minor = bill_minor * rules.max_share_percent // 100
    return min(balance, cap_minor // rules.point_value_minor)


def months_back(month: str, count: int) -> list[str]:
    """``count`` month keys (``YYYY-MM``) ending with ``month``, newest first."""
    year, mon = (int(part) for part in month.split("-"))
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{mon:02d}")
        year, mon = (year, mon - 1) if mon > 1 else (year - 1, 12)
    return keys


def window_totals(monthly: dict[str, tuple[int, int]], month: str, window_months: int) -> tuple[int, int]:
    """(spend, visits) over the tier window ending with ``month``, from per-month totals."""
    spend = visits = 0
    for key in months_back(month, window_months):
        month_spend, month_visits = monthly.get(key, (0, 0))
        spend += month_spend
        visits += month_visits
    return spend, visits


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day if it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class TierReviewOutcome:
    tier: str
    review_due: date | None
    grace_until: date | None


def review_tier(
    rules: ProgramRules, current: str, spend_minor: int, visits: int, today: date, grace_until: date | None
) -> TierReviewOutcome:
    """A tier review: keep the tier if the window still reaches it; otherwise a grace period
    first (if the rules give one), and at its end the tier the window reaches."""
    names = [t.name for t in rules.tiers]
    held = current if current in names else rules.base_tier.name
    reached = tier_for(rules, spend_minor, visits).name
    review = rules.tier_review
    if names.index(reached) >= names.index(held):
        return TierReviewOutcome(held, add_months(today, review.every_months), None)
    if review.grace_months and grace_until is None:
        grace = add_months(today, review.grace_months)
        return TierReviewOutcome(held, grace, grace)
    due = add_months(today, review.every_months) if reached != rules.base_tier.name else None
    return TierReviewOutcome(reached, due, None)
