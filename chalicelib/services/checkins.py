"""Check-ins: where the customer is (a beacon heard, a location inside a geofence), refused when it
cannot be real, deduplicated within a dwell window, and answered with the offers that fit.

A recipe: load the member, its activity item (the last check-in and the offers' issue history) and
the catalog's version in one request, decide (``domain.checkins``), let the issuing service choose
the offers, commit the record with them in one transaction. The wallet is never read, except for
the entries a same visit answers with, by their keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypedDict

from chalicelib import metrics
from chalicelib.domain import checkins as checkin_rules
from chalicelib.domain.activity import Activity, expired_ids
from chalicelib.domain.catalog import Beacon, Store
from chalicelib.domain.clock import Clock
from chalicelib.domain.identity import Identity
from chalicelib.domain.members import Member
from chalicelib.errors import Conflict, InvalidField, NotFound
from chalicelib.geo.beacons import directory_of
from chalicelib.ports import new_id
from chalicelib.services import catalog_cache, issuing, places, program, repositories, wallet
from chalicelib.services.catalog_cache import cache
from chalicelib.store import activity as activity_store


@dataclass(frozen=True)
class CheckIn:
    """A beacon heard (one of its three identities) or a location (``type`` "geo")."""

    type: Literal["beacon", "geo"]
    uuid: str | None = None
    major: int | None = None
    minor: int | None = None
    rssi: int | None = None
    proximity: str | None = None
    namespace: str | None = None
    instance: str | None = None
    eid: str | None = None
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    mocked: bool = False


class CheckinView(TypedDict):
    """What the app is told (``CheckinResult``)."""

    checkin_id: str
    store_id: str | None
    zone: str | None
    offers: list[wallet.WalletView]


def record(identity: Identity, req: CheckIn, *, clock: Clock) -> CheckinView:
    now = clock()
    try:
        return _record_once(identity.sub, req, now)
    except Conflict:
        # Another check-in of the member got there first: read again and decide again, once.
        return _record_once(identity.sub, req, now)


def _load(sub: str, now: datetime) -> tuple[Member, Activity]:
    read = repositories.members().read_member(sub, with_activity=True)
    if read.member is None:
        raise NotFound("you are not a member of the program yet: POST /v1/me to join", code="not_a_member")
    catalog_cache.seen(read.catalog_version)
    member = program.with_current_tier(read.member)  # offers target tiers by their current names
    # A member from before the activity item: built from the old records, once.
    activity = read.activity or activity_store.migrate_activity(sub, member.customer_id, now)
    return member, activity


def _record_once(sub: str, req: CheckIn, now: datetime) -> CheckinView:
    member, activity = _load(sub, now)
    previous = activity.last_checkin
    minute = checkin_rules.count_minute(previous, now)
    store, zone, trigger, position = _where(req, now)
    sighting = checkin_rules.Sighting(store.store_id if store else None, position)
    decision = checkin_rules.decide_checkin(previous, minute, sighting, now, new_id("chk", 16))
    offers = (
        issuing.for_checkin(member, store, zone, trigger, now, history=activity.history)
        if store and decision.may_issue
        else []
    )
    decision, issued = issuing.commit_checkin(
        member, decision, previous.at if previous else None, offers, expired=expired_ids(activity, now)
    )
    metrics.count(metrics.CHECKINS)
    metrics.count(metrics.OFFERS_ISSUED, len(issued))
    # The same visit answers with the offers its first check-in issued.
    shown = [e for _, e in issued] if issued else wallet.entries(member.customer_id, decision.record.wallet_ids)
    return {
        "checkin_id": decision.record.checkin_id,
        "store_id": decision.record.store_id,
        "zone": zone,
        "offers": [wallet.wallet_view(e, now) for e in shown],
    }


def _where(req: CheckIn, now: datetime) -> tuple[Store | None, str | None, str, tuple[float, float] | None]:
    """The store, zone, trigger and position of a sighting (the store's center for beacons)."""
    if req.type == "geo":
        if req.mocked:
            raise InvalidField("mocked", "the phone reports a mocked location", code="mocked_location")
        if req.lon is None or req.lat is None or req.accuracy_m is None:
            raise InvalidField("body", "a geo check-in needs lat, lon and accuracy_m")
        match = places.geofences().locate(req.lon, req.lat, req.accuracy_m)
        store = places.store(match.store_id) if match else None
        return store, None, "geofence_enter", (req.lon, req.lat)
    beacons = directory_of(cache().beacons())
    beacon: Beacon | None
    if req.eid is not None:
        beacon = beacons.by_eid(bytes.fromhex(req.eid), now)
    else:
        probe = Beacon(
            "", "", "", uuid=req.uuid, major=req.major, minor=req.minor, namespace=req.namespace, instance=req.instance
        )
        beacon = beacons.by_identity(probe.identity)
    if beacon is None:
        return None, None, "beacon", None
    store = places.store(beacon.store_id)
    if store is None:
        return None, None, "beacon", None
    fence = places.geofences().center_of(store.store_id)
    return store, beacon.zone, "beacon", fence
