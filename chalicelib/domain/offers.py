"""Which offers fit this customer now: eligibility by trigger, validity, targeting, limits,
budget and cooldown; ranked by priority, then by the customer's affinity to the offer's
categories; at most a few per moment. Pure: the caller brings the offers and what it knows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

#: Check-in triggers: any of them at the store may be answered by a "checkin" offer.
ARRIVALS = ("checkin", "beacon", "geofence_enter")
#: What something issues: a check-in, a purchase, the birthday greeting, a campaign (and the
#: reminders and win-back messages, which bring campaign offers).
ISSUED_TRIGGERS = (*ARRIVALS, "purchase", "birthday", "campaign")


@dataclass(frozen=True)
class Trigger:
    type: str
    store_id: str | None = None
    zone: str | None = None
    merchant_id: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class Targeting:
    tiers: tuple[str, ...] = ()
    segment_id: str | None = None
    categories: tuple[str, ...] = ()
    min_visits: int | None = None
    #: Only customers whose last visit is at least (or at most) this many days ago.
    min_days_since_last_visit: int | None = None
    max_days_since_last_visit: int | None = None


@dataclass(frozen=True)
class Limits:
    per_customer: int | None = None
    budget: int | None = None
    cooldown_hours: int | None = None


@dataclass(frozen=True)
class Offer:
    offer_id: str
    title: str
    trigger: Trigger
    reward: Mapping[str, object]
    merchant_id: str | None = None
    description: str | None = None
    targeting: Targeting = field(default_factory=Targeting)
    limits: Limits = field(default_factory=Limits)
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    priority: int = 0
    status: str = "active"
    #: How many have been issued (the budget's counter, kept atomically by the store).
    issued: int = 0


@dataclass(frozen=True)
class Moment:
    """What happened: the trigger as it occurred, where and when."""

    trigger: str
    at: datetime
    store_id: str | None = None
    zone: str | None = None
    merchant_id: str | None = None
    categories: tuple[str, ...] = ()
    #: Where "a day" is counted (the program's time zone): the default spacing between issues.
    timezone: tzinfo = UTC


@dataclass(frozen=True)
class Customer:
    tier: str
    visits_total: int
    last_visit_at: datetime | None
    #: Purchases per category (affinity); segment ids the customer belongs to.
    category_counts: Mapping[str, int] = field(default_factory=dict)
    segments: frozenset[str] = frozenset()
    #: offer_id -> (times issued to this customer, last time).
    history: Mapping[str, tuple[int, datetime]] = field(default_factory=dict)


def choose_offers(offers: Iterable[Offer], moment: Moment, customer: Customer, at_most: int = 2) -> list[Offer]:
    """The offers to issue now, best first; never one outside its targeting, validity or limits."""
    eligible = [o for o in offers if is_eligible(o, moment, customer)]
    eligible.sort(key=lambda o: (-o.priority, -affinity(o, customer), o.offer_id))
    return eligible[:at_most]


def is_eligible(offer: Offer, moment: Moment, customer: Customer) -> bool:
    return (
        offer.status == "active"
        and _trigger_matches(offer.trigger, moment)
        and _fires_here(offer, moment)
        and (offer.valid_from is None or offer.valid_from <= moment.at)
        and (offer.valid_to is None or moment.at < offer.valid_to)
        and _targets(offer.targeting, customer, moment.at)
        and _within_limits(offer, customer, moment)
    )


def affinity(offer: Offer, customer: Customer) -> int:
    """How much the customer buys of what the offer is about."""
    categories = set(offer.targeting.categories) | ({offer.trigger.category} if offer.trigger.category else set())
    return sum(customer.category_counts.get(c, 0) for c in categories)


def _trigger_matches(trigger: Trigger, moment: Moment) -> bool:
    if trigger.type == "checkin":
        if moment.trigger not in ARRIVALS:
            return False
    elif trigger.type != moment.trigger:
        return False
    return (
        (trigger.store_id is None or trigger.store_id == moment.store_id)
        and (trigger.zone is None or trigger.zone == moment.zone)
        and (trigger.merchant_id is None or trigger.merchant_id == moment.merchant_id)
        and (trigger.category is None or trigger.category in moment.categories)
    )


def _fires_here(offer: Offer, moment: Moment) -> bool:
    """A merchant's offer whose trigger names no store or merchant fires only at that merchant's
    stores (firing at a partner is a cross-promotion, and names the partner); a program-wide
    offer fires anywhere."""
    if offer.merchant_id is None or offer.trigger.store_id is not None or offer.trigger.merchant_id is not None:
        return True
    return moment.merchant_id == offer.merchant_id


def _targets(targeting: Targeting, customer: Customer, at: datetime) -> bool:
    if targeting.tiers and customer.tier not in targeting.tiers:
        return False
    if targeting.segment_id is not None and targeting.segment_id not in customer.segments:
        return False
    if targeting.categories and not any(customer.category_counts.get(c, 0) for c in targeting.categories):
        return False
    if targeting.min_visits is not None and customer.visits_total < targeting.min_visits:
        return False
    if targeting.min_days_since_last_visit is not None or targeting.max_days_since_last_visit is not None:
        if customer.last_visit_at is None:
            return targeting.max_days_since_last_visit is None
        days = (at - customer.last_visit_at).days
        if targeting.min_days_since_last_visit is not None and days < targeting.min_days_since_last_visit:
            return False
        if targeting.max_days_since_last_visit is not None and days > targeting.max_days_since_last_visit:
            return False
    return True


def _within_limits(offer: Offer, customer: Customer, moment: Moment) -> bool:
    """``per_customer`` caps how many in total (none: no cap); the spacing between two issues to
    one customer is ``cooldown_hours`` when set, otherwise one a day: "once, not spam"."""
    limits = offer.limits
    if limits.budget is not None and offer.issued >= limits.budget:
        return False
    count, last = customer.history.get(offer.offer_id, (0, None))
    if limits.per_customer is not None and count >= limits.per_customer:
        return False
    return last is None or spaced(last, moment.at, limits.cooldown_hours, moment.timezone)


def spaced(last: datetime, at: datetime, cooldown_hours: int | None, timezone: tzinfo) -> bool:
    """Whether an issue at ``at`` is far enough from the previous one at ``last``."""
    if cooldown_hours is not None:
        return at - last >= timedelta(hours=cooldown_hours)
    return last.astimezone(timezone).date() < at.astimezone(timezone).date()


#: Why a wallet entry cannot be redeemed, from the least to the most nearly usable.
ALREADY_REDEEMED = "offer_already_redeemed"
EXPIRED = "offer_expired"
WRONG_MERCHANT = "offer_wrong_merchant"
UNUSABLE = (ALREADY_REDEEMED, EXPIRED, WRONG_MERCHANT)


def unusable_because(
    status: str, expires_at: datetime, redeemable_by: str | None, merchant_id: str | None, now: datetime
) -> str | None:
    """Why a wallet entry cannot be redeemed now at a store of ``merchant_id`` (None: it can).
    ``redeemable_by`` is the merchant whose stores take it (None: any); ``merchant_id`` None is
    a caller bound to no merchant (an admin), who may redeem it wherever it is redeemable."""
    if status != "issued":
        return ALREADY_REDEEMED
    if expires_at <= now:
        return EXPIRED
    if redeemable_by is not None and merchant_id is not None and redeemable_by != merchant_id:
        return WRONG_MERCHANT
    return None
