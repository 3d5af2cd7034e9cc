"""Beacons: the admin registers them per store and zone; check-ins resolve what the app heard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Required, TypedDict

from chalicelib.domain.catalog import Beacon
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.errors import Conflict, InvalidField, NotFound
from chalicelib.ports import new_id
from chalicelib.services import cursors, places
from chalicelib.store import catalog


@dataclass(frozen=True)
class EidKey:
    identity_key: str
    rotation_exponent: int
    time_counter: int


@dataclass(frozen=True)
class BeaconRegistration:
    """One identity: uuid+major+minor (iBeacon), namespace+instance (Eddystone-UID) or an EID key."""

    store_id: str
    zone: str
    uuid: str | None = None
    major: int | None = None
    minor: int | None = None
    namespace: str | None = None
    instance: str | None = None
    eddystone_eid: EidKey | None = None


class EidView(TypedDict):
    rotation_exponent: int | None
    time_counter: int | None
    registered_at: str | None


class BeaconView(TypedDict, total=False):
    """A beacon as the API shows it (``BeaconOut``): the identity it has, never its key."""

    beacon_id: Required[str]
    store_id: Required[str]
    zone: Required[str]
    uuid: str
    major: int
    minor: int
    namespace: str
    instance: str
    eddystone_eid: EidView


class BeaconPage(TypedDict):
    items: list[BeaconView]
    next_cursor: str | None


def create(body: BeaconRegistration, *, clock: Clock) -> BeaconView:
    if places.store(body.store_id) is None:
        raise InvalidField("store_id", "no such store", code="unknown_store")
    eid = body.eddystone_eid
    beacon = Beacon(
        beacon_id=new_id("b", 12),
        store_id=body.store_id,
        zone=body.zone,
        uuid=body.uuid.upper() if body.uuid else None,
        major=body.major,
        minor=body.minor,
        namespace=body.namespace.upper() if body.namespace else None,
        instance=body.instance.upper() if body.instance else None,
        eid_identity_key=eid.identity_key.lower() if eid else None,
        eid_rotation_exponent=eid.rotation_exponent if eid else None,
        eid_time_counter=eid.time_counter if eid else None,
        eid_registered_at=clock() if eid else None,
    )
    if eid and any(b.eid_identity_key == beacon.eid_identity_key for b in catalog.list_all(Beacon)):
        raise Conflict("a beacon with this identity key is registered", code="beacon_exists")
    if not catalog.put_if_missing(beacon):
        raise Conflict("a beacon with this identity is registered", code="beacon_exists")
    return view(beacon)


def page(identity: Identity, store_id: str | None, limit: int, cursor: str | None) -> BeaconPage:
    found = sorted(
        (b for b in catalog.list_all(Beacon) if store_id is None or b.store_id == store_id), key=lambda b: b.beacon_id
    )
    after = cursors.position(identity, "beacons", cursor)
    if after is not None:
        found = [b for b in found if b.beacon_id > after]
    chosen = found[:limit]
    last = chosen[-1].beacon_id if len(found) > limit else None
    return {"items": [view(b) for b in chosen], "next_cursor": cursors.next_cursor(identity, "beacons", last)}


def remove(beacon_id: str) -> None:
    for beacon in catalog.list_all(Beacon):
        if beacon.beacon_id == beacon_id:
            catalog.delete(beacon)
            return
    raise NotFound("no such beacon", code="beacon_not_found")


def view(beacon: Beacon) -> BeaconView:
    """The beacon as the API shows it: never its identity key."""
    shown: BeaconView = {"beacon_id": beacon.beacon_id, "store_id": beacon.store_id, "zone": beacon.zone}
    if beacon.uuid is not None:
        shown["uuid"] = beacon.uuid
    if beacon.major is not None:
        shown["major"] = beacon.major
    if beacon.minor is not None:
        shown["minor"] = beacon.minor
    if beacon.namespace is not None:
        shown["namespace"] = beacon.namespace
    if beacon.instance is not None:
        shown["instance"] = beacon.instance
    if beacon.eid_rotation_exponent is not None:
        shown["eddystone_eid"] = {
            "rotation_exponent": beacon.eid_rotation_exponent,
            "time_counter": beacon.eid_time_counter,
            "registered_at": isoformat(beacon.eid_registered_at) if beacon.eid_registered_at else None,
        }
    return shown
