"""Promotions (double points and the like): the marketing team's CRUD and what is live at the till."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.promotions import Promotion
from chalicelib.errors import InvalidField
from chalicelib.ports import new_id
from chalicelib.services import cursors, places, policy, program
from chalicelib.services.catalog_cache import cache
from chalicelib.store import catalog


def all_promotions() -> list[Promotion]:
    return cache().promotions()


def live(at: datetime, merchant_id: str, store_id: str, tier: str) -> list[Promotion]:
    return [p for p in all_promotions() if p.applies(at, merchant_id, store_id, tier)]


@dataclass(frozen=True)
class PromotionDraft:
    """A promotion as the console writes it (create or replace)."""

    name: str
    multiplier_percent: int
    valid_from: datetime
    valid_to: datetime
    merchant_id: str | None = None
    store_ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    status: str = "active"


class PromotionView(TypedDict):
    promotion_id: str
    name: str
    multiplier_percent: int
    valid_from: str
    valid_to: str
    merchant_id: str | None
    store_ids: list[str]
    categories: list[str]
    tiers: list[str]
    status: str
    #: The status as of now: an active promotion is scheduled, live or expired.
    state: str


class PromotionPage(TypedDict):
    items: list[PromotionView]
    next_cursor: str | None


def create(identity: Identity, body: PromotionDraft, *, clock: Clock) -> PromotionView:
    promotion = _checked(identity, new_id("promo", 16), body)
    catalog.put(promotion)
    return view(promotion, clock)


def replace(identity: Identity, promotion_id: str, body: PromotionDraft, *, clock: Clock) -> PromotionView:
    policy.owned(identity, Promotion, promotion_id, "promotion")
    promotion = _checked(identity, promotion_id, body)
    catalog.put(promotion)
    return view(promotion, clock)


def end(identity: Identity, promotion_id: str) -> None:
    """Stop a promotion; it is kept (status ``ended``) for the reports."""
    promotion = policy.owned(identity, Promotion, promotion_id, "promotion")
    catalog.put(dataclasses.replace(promotion, status="ended"))


def get(identity: Identity, promotion_id: str, *, clock: Clock) -> PromotionView:
    return view(policy.visible(identity, Promotion, promotion_id, "promotion"), clock)


def page(identity: Identity, limit: int, cursor: str | None, *, clock: Clock) -> PromotionPage:
    mine = sorted(policy.seen(identity, lambda: catalog.list_all(Promotion)), key=lambda p: p.promotion_id)
    after = cursors.position(identity, "promotions", cursor)
    if after is not None:
        mine = [p for p in mine if p.promotion_id > after]
    chosen = mine[:limit]
    last = chosen[-1].promotion_id if len(mine) > limit else None
    return {"items": [view(p, clock) for p in chosen], "next_cursor": cursors.next_cursor(identity, "promotions", last)}


def view(promotion: Promotion, clock: Clock) -> PromotionView:
    now = clock()
    state = promotion.status
    if state == "active":
        state = "scheduled" if now < promotion.valid_from else "expired" if now >= promotion.valid_to else "live"
    return {
        "promotion_id": promotion.promotion_id,
        "name": promotion.name,
        "multiplier_percent": promotion.multiplier_percent,
        "valid_from": isoformat(promotion.valid_from),
        "valid_to": isoformat(promotion.valid_to),
        "merchant_id": promotion.merchant_id,
        "store_ids": list(promotion.store_ids),
        "categories": list(promotion.categories),
        "tiers": list(promotion.tiers),
        "status": promotion.status,
        "state": state,
    }


def _checked(identity: Identity, promotion_id: str, body: PromotionDraft) -> Promotion:
    merchant_id = policy.merchant_for(identity, body.merchant_id, "promotion")
    if body.valid_to <= body.valid_from:
        raise InvalidField("valid_to", "must be after valid_from", code="invalid_window")
    tiers = [t.name for t in program.rules().tiers]
    for i, tier in enumerate(body.tiers):
        if tier not in tiers:
            # A promotion for a tier nobody can hold would never apply.
            raise InvalidField(f"tiers.{i}", f"not a tier of the program: {', '.join(tiers)}", code="unknown_tier")
    for i, store_id in enumerate(body.store_ids):
        store = places.store(store_id)
        if store is None:
            raise InvalidField(f"store_ids.{i}", "no such store", code="unknown_store")
        if merchant_id is not None and store.merchant_id != merchant_id:
            raise InvalidField(f"store_ids.{i}", "the store belongs to another merchant", code="wrong_merchant")
    return Promotion(
        promotion_id=promotion_id,
        name=body.name,
        multiplier_percent=body.multiplier_percent,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        merchant_id=merchant_id,
        store_ids=body.store_ids,
        categories=body.categories,
        tiers=body.tiers,
        status=body.status,
    )
