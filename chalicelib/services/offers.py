"""Offers: the marketing team's CRUD. Check-ins and purchases issue them, purchases redeem them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict

from chalicelib.domain.catalog import Merchant, Store
from chalicelib.domain.clock import isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.offers import ISSUED_TRIGGERS, Limits, Offer, Targeting, Trigger
from chalicelib.domain.segments import Segment
from chalicelib.errors import InvalidField, NotFound
from chalicelib.ports import new_id
from chalicelib.services import cursors, places, policy
from chalicelib.store import catalog


@dataclass(frozen=True)
class OfferDraft:
    """An offer as the console writes it (create or replace); the issued count is the store's."""

    title: str
    trigger: Trigger
    reward: dict[str, object]
    description: str | None = None
    merchant_id: str | None = None
    targeting: Targeting = field(default_factory=Targeting)
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    limits: Limits = field(default_factory=Limits)
    priority: int = 0
    status: str = "active"


class TriggerView(TypedDict):
    type: str
    store_id: str | None
    zone: str | None
    merchant_id: str | None
    category: str | None


class TargetingView(TypedDict):
    tiers: list[str]
    segment_id: str | None
    categories: list[str]
    min_visits: int | None
    min_days_since_last_visit: int | None
    max_days_since_last_visit: int | None


class LimitsView(TypedDict):
    per_customer: int | None
    budget: int | None
    cooldown_hours: int | None


class OfferView(TypedDict):
    """An offer as the console shows it (``OfferOut``)."""

    offer_id: str
    title: str
    trigger: TriggerView
    reward: Mapping[str, object]
    merchant_id: str | None
    description: str | None
    targeting: TargetingView
    limits: LimitsView
    valid_from: str | None
    valid_to: str | None
    priority: int
    status: str
    issued: int


class OfferPage(TypedDict):
    items: list[OfferView]
    next_cursor: str | None


def create(identity: Identity, body: OfferDraft) -> OfferView:
    offer = _checked(identity, new_id("offer", 16), body)
    catalog.put(offer)
    return view(offer)


def replace(identity: Identity, offer_id: str, body: OfferDraft) -> OfferView:
    policy.owned(identity, Offer, offer_id, "offer")
    offer = _checked(identity, offer_id, body)
    catalog.put(offer)
    return view(catalog.with_issued_count(offer))


def end(identity: Identity, offer_id: str) -> None:
    """Stop issuing an offer; issued ones stay in wallets until they expire (status ``ended``)."""
    catalog.put(dataclasses.replace(policy.owned(identity, Offer, offer_id, "offer"), status="ended"))


def get(identity: Identity, offer_id: str) -> OfferView:
    return view(catalog.with_issued_count(policy.visible(identity, Offer, offer_id, "offer")))


def page(identity: Identity, limit: int, cursor: str | None) -> OfferPage:
    mine = sorted(policy.seen(identity, catalog.offers_with_counts), key=lambda o: o.offer_id)
    after = cursors.position(identity, "offers", cursor)
    if after is not None:
        mine = [o for o in mine if o.offer_id > after]
    chosen = mine[:limit]
    last = chosen[-1].offer_id if len(mine) > limit else None
    return {"items": [view(o) for o in chosen], "next_cursor": cursors.next_cursor(identity, "offers", last)}


def view(offer: Offer) -> OfferView:
    trigger, targeting, limits = offer.trigger, offer.targeting, offer.limits
    return {
        "offer_id": offer.offer_id,
        "title": offer.title,
        "trigger": {
            "type": trigger.type,
            "store_id": trigger.store_id,
            "zone": trigger.zone,
            "merchant_id": trigger.merchant_id,
            "category": trigger.category,
        },
        "reward": offer.reward,
        "merchant_id": offer.merchant_id,
        "description": offer.description,
        "targeting": {
            "tiers": list(targeting.tiers),
            "segment_id": targeting.segment_id,
            "categories": list(targeting.categories),
            "min_visits": targeting.min_visits,
            "min_days_since_last_visit": targeting.min_days_since_last_visit,
            "max_days_since_last_visit": targeting.max_days_since_last_visit,
        },
        "limits": {
            "per_customer": limits.per_customer,
            "budget": limits.budget,
            "cooldown_hours": limits.cooldown_hours,
        },
        "valid_from": isoformat(offer.valid_from) if offer.valid_from else None,
        "valid_to": isoformat(offer.valid_to) if offer.valid_to else None,
        "priority": offer.priority,
        "status": offer.status,
        "issued": offer.issued,
    }


def _checked(identity: Identity, offer_id: str, body: OfferDraft) -> Offer:
    merchant_id = policy.merchant_for(identity, body.merchant_id, "offer")
    if body.valid_from and body.valid_to and body.valid_to <= body.valid_from:
        raise InvalidField("valid_to", "must be after valid_from", code="invalid_window")
    trigger = body.trigger
    if trigger.type not in ISSUED_TRIGGERS:
        raise InvalidField(
            "trigger.type", f"nothing issues {trigger.type} offers yet", code="trigger_not_supported_yet"
        )
    if body.targeting.segment_id is not None:
        try:
            policy.visible(identity, Segment, body.targeting.segment_id, "segment")
        except NotFound:
            raise InvalidField("targeting.segment_id", "no such segment", code="unknown_segment") from None
    _check_where_it_fires(merchant_id, trigger.merchant_id, trigger.store_id)
    return Offer(
        offer_id=offer_id,
        title=body.title,
        description=body.description,
        merchant_id=merchant_id,
        trigger=trigger,
        targeting=body.targeting,
        reward=dict(body.reward),
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        limits=body.limits,
        priority=body.priority,
        status=body.status,
    )


def _check_where_it_fires(merchant_id: str | None, trigger_merchant_id: str | None, store_id: str | None) -> None:
    """A merchant's offer fires at its own stores, or at a partner's that the trigger names; a
    program-wide offer (the admin's) at any merchant's."""
    if trigger_merchant_id is not None:
        named = catalog.get(Merchant, trigger_merchant_id)
        if named is None:
            raise InvalidField("trigger.merchant_id", "no such merchant", code="unknown_merchant")
        if merchant_id is not None and trigger_merchant_id != merchant_id:
            own = catalog.get(Merchant, merchant_id)
            if own is None or trigger_merchant_id not in own.partner_ids:
                raise InvalidField(
                    "trigger.merchant_id", "only a partner of the offer's merchant may be named", code="not_a_partner"
                )
    if store_id is not None:
        store: Store | None = places.store(store_id)
        if store is None:
            raise InvalidField("trigger.store_id", "no such store", code="unknown_store")
        expected = trigger_merchant_id or merchant_id
        if expected is not None and store.merchant_id != expected:
            raise InvalidField(
                "trigger.store_id",
                "the store is not the offer's merchant's (or the partner's the trigger names)",
                code="wrong_merchant",
            )
