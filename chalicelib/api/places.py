"""Stores with their geofences, and beacons: staff see them, the admin changes them."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.http import ADMIN, STAFF, Call, command, operation
from chalicelib.api.schemas.admin import (
    BeaconBody,
    BeaconOut,
    BeaconPage,
    BeaconQuery,
    StoreBody,
    StoreList,
    StoreModel,
)
from chalicelib.api.schemas.common import PageQuery
from chalicelib.ports import now
from chalicelib.services import beacons, places

places_bp = Blueprint(__name__)


@operation(
    places_bp,
    "GET",
    "/stores",
    summary="The program's stores",
    roles=STAFF,
    query=PageQuery,
    response=StoreList,
)
def list_stores(call: Call[None, PageQuery]) -> places.StorePage:
    return places.stores_page(call.identity, call.query.limit, call.query.cursor)


@operation(
    places_bp,
    "POST",
    "/stores",
    summary="Add a store with its geofence",
    roles=ADMIN,
    body=StoreBody,
    response=StoreModel,
    status=201,
)
def create_store(call: Call[StoreBody, None]) -> places.StoreView:
    return places.create_store(command(places.StoreDraft, call.body))


@operation(places_bp, "GET", "/stores/{store_id}", summary="One store", roles=STAFF, response=StoreModel)
def get_store(call: Call[None, None], store_id: str) -> places.StoreView:
    return places.get_store(store_id)


@operation(
    places_bp,
    "PUT",
    "/stores/{store_id}",
    summary="Replace a store (its geofence index is rebuilt)",
    roles=ADMIN,
    body=StoreBody,
    response=StoreModel,
)
def replace_store(call: Call[StoreBody, None], store_id: str) -> places.StoreView:
    return places.replace_store(store_id, command(places.StoreDraft, call.body))


@operation(
    places_bp,
    "POST",
    "/beacons",
    summary="Register a beacon (iBeacon, Eddystone-UID or -EID) at a store and zone",
    roles=ADMIN,
    body=BeaconBody,
    response=BeaconOut,
    status=201,
)
def create_beacon(call: Call[BeaconBody, None]) -> beacons.BeaconView:
    return beacons.create(command(beacons.BeaconRegistration, call.body), clock=now)


@operation(
    places_bp,
    "GET",
    "/beacons",
    summary="Beacons, optionally of one store",
    roles=STAFF,
    query=BeaconQuery,
    response=BeaconPage,
)
def list_beacons(call: Call[None, BeaconQuery]) -> beacons.BeaconPage:
    return beacons.page(call.identity, call.query.store_id, call.query.limit, call.query.cursor)


@operation(places_bp, "DELETE", "/beacons/{beacon_id}", summary="Retire a beacon", roles=ADMIN, status=204)
def delete_beacon(call: Call[None, None], beacon_id: str) -> None:
    beacons.remove(beacon_id)
