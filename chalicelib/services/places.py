"""Stores and merchants as the API serves them (read through the catalog cache)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from chalicelib.domain.catalog import Merchant, Store
from chalicelib.domain.identity import Identity
from chalicelib.errors import Conflict, InvalidField, NotFound
from chalicelib.geo.fences import GeofenceIndex, fence_from_geojson
from chalicelib.ports import new_id
from chalicelib.services import cursors
from chalicelib.services.catalog_cache import cache
from chalicelib.store import catalog


def stores() -> dict[str, Store]:
    return cache().stores().by_id


def geofences() -> GeofenceIndex:
    return cache().stores().geofences


@dataclass(frozen=True)
class StoreDraft:
    """A store as the admin writes it; ``store_id`` None on a create draws one."""

    merchant_id: str
    name: str
    #: ``{"center": [lon, lat], "radius_m": r}`` or a GeoJSON Polygon, judged by ``fence_from_geojson``.
    geofence: dict[str, Any]
    store_id: str | None = None
    timezone: str | None = None
    address: str | None = None


class StoreView(TypedDict):
    store_id: str
    merchant_id: str
    name: str
    geofence: dict[str, Any]
    timezone: str | None
    address: str | None


class StorePage(TypedDict):
    items: list[StoreView]
    next_cursor: str | None


def store_view(store: Store) -> StoreView:
    return {
        "store_id": store.store_id,
        "merchant_id": store.merchant_id,
        "name": store.name,
        "geofence": store.geofence,
        "timezone": store.timezone,
        "address": store.address,
    }


def create_store(body: StoreDraft) -> StoreView:
    store = _checked_store(body.store_id or new_id("s", 12), body)
    if not catalog.put_if_missing(store):
        raise Conflict("a store with this store_id exists", code="store_exists")
    return store_view(store)


def replace_store(store_id: str, body: StoreDraft) -> StoreView:
    if catalog.get(Store, store_id) is None:
        raise NotFound("no such store", code="store_not_found")
    if body.store_id not in (None, store_id):
        raise InvalidField("store_id", "a store's id cannot change", code="immutable_field")
    store = _checked_store(store_id, body)
    catalog.put(store)
    return store_view(store)


def get_store(store_id: str) -> StoreView:
    found = catalog.get(Store, store_id)
    if found is None:
        raise NotFound("no such store", code="store_not_found")
    return store_view(found)


def _checked_store(store_id: str, body: StoreDraft) -> Store:
    if catalog.get(Merchant, body.merchant_id) is None:
        raise InvalidField("merchant_id", "no such merchant", code="unknown_merchant")
    fence_from_geojson(store_id, body.geofence)
    return Store(
        store_id=store_id,
        merchant_id=body.merchant_id,
        name=body.name,
        geofence=body.geofence,
        timezone=body.timezone,
        address=body.address,
    )


def store(store_id: str) -> Store | None:
    return stores().get(store_id)


def stores_page(identity: Identity, limit: int, cursor: str | None) -> StorePage:
    """Stores ordered by id, ``limit`` at a time after the page ``cursor`` ended."""
    ordered = sorted(stores().values(), key=lambda s: s.store_id)
    after = cursors.position(identity, "stores", cursor)
    if after is not None:
        ordered = [s for s in ordered if s.store_id > after]
    page = ordered[:limit]
    last = page[-1].store_id if len(ordered) > limit else None
    return {
        "items": [store_view(s) for s in page],
        "next_cursor": cursors.next_cursor(identity, "stores", last),
    }
