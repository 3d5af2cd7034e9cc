"""Offers: the marketing team's CRUD (issuing and redeeming come with check-ins)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from pydantic import TypeAdapter

from chalicelib.domain.catalog import Store
from chalicelib.domain.clock import isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.offers import Limits, Offer, Targeting, Trigger
from chalicelib.errors import InvalidField
from chalicelib.services import checkins, merchant_scope, places
from chalicelib.store import catalog


def create(identity: Identity, body: dict[str, Any]) -> dict[str, Any]:
    offer = _checked(identity, f"offer_{uuid.uuid4().hex[:16]}", body)
    catalog.put(offer)
    checkins.forget()  # this process sees it at once; other warm Lambdas within the cache's TTL
    return view(offer)


def replace(identity: Identity, offer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    current = merchant_scope.owned(identity, Offer, offer_id, "offer")
    offer = dataclasses.replace(_checked(identity, offer_id, body), issued=current.issued)
    catalog.put(offer)
    checkins.forget()  # this process sees it at once; other warm Lambdas within the cache's TTL
    return view(offer)


def end(identity: Identity, offer_id: str) -> None:
    """Stop issuing an offer; issued ones stay in wallets until they expire (status ``ended``)."""
    catalog.put(dataclasses.replace(merchant_scope.owned(identity, Offer, offer_id, "offer"), status="ended"))
    checkins.forget()


def get(identity: Identity, offer_id: str) -> dict[str, Any]:
    return view(merchant_scope.visible(identity, Offer, offer_id, "offer"))


def page(identity: Identity, limit: int, cursor: str | None) -> dict[str, Any]:
    merchant_scope.acting_for(identity)  # an unscoped token is refused, not shown an empty list
    mine = sorted((o for o in catalog.list_all(Offer) if merchant_scope.may_see(identity, o)), key=lambda o: o.offer_id)
    if cursor is not None:
        mine = [o for o in mine if o.offer_id > cursor]
    chosen = mine[:limit]
    return {"items": [view(o) for o in chosen], "next_cursor": chosen[-1].offer_id if len(mine) > limit else None}


def view(offer: Offer) -> dict[str, Any]:
    shown: dict[str, Any] = TypeAdapter(Offer).dump_python(offer, mode="json")
    shown["valid_from"] = isoformat(offer.valid_from) if offer.valid_from else None
    shown["valid_to"] = isoformat(offer.valid_to) if offer.valid_to else None
    return shown


def _checked(identity: Identity, offer_id: str, body: dict[str, Any]) -> Offer:
    merchant_id = merchant_scope.merchant_for(identity, body.get("merchant_id"), "offer")
    if body.get("valid_from") and body.get("valid_to") and body["valid_to"] <= body["valid_from"]:
        raise InvalidField("valid_to", "must be after valid_from", code="invalid_window")
    trigger = body["trigger"]
    if trigger.get("store_id") is not None:
        store: Store | None = places.store(trigger["store_id"])
        if store is None:
            raise InvalidField("trigger.store_id", "no such store", code="unknown_store")
        if merchant_id is not None and store.merchant_id != merchant_id:
            raise InvalidField("trigger.store_id", "the store belongs to another merchant", code="wrong_merchant")
    targeting = body.get("targeting") or {}
    return Offer(
        offer_id=offer_id,
        title=body["title"],
        description=body.get("description"),
        merchant_id=merchant_id,
        trigger=TypeAdapter(Trigger).validate_python(trigger),
        targeting=TypeAdapter(Targeting).validate_python(targeting),
        reward=dict(body["reward"]),
        valid_from=body.get("valid_from"),
        valid_to=body.get("valid_to"),
        limits=TypeAdapter(Limits).validate_python(body.get("limits") or {}),
        priority=body.get("priority", 0),
        status=body.get("status", "active"),
    )
