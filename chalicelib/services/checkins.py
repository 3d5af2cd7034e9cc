"""Check-ins: where the customer is (a beacon heard, a location inside a geofence), refused when it
cannot be real, deduplicated within a dwell window, and answered with the offers that fit."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from chalicelib.config import settings
from chalicelib.domain.catalog import Beacon, Store
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.members import Member
from chalicelib.domain.offers import Customer, Moment, Offer, choose_offers
from chalicelib.errors import Conflict, InvalidField, NotFound, RateLimited
from chalicelib.geo.distance import haversine_m
from chalicelib.geo.eid import EidBeacon, resolve
from chalicelib.services import places, program
from chalicelib.store import catalog
from chalicelib.store import members as member_store
from chalicelib.store import wallet as wallet_store

#: Sightings of the same store within this window are one visit: no new offers.
DWELL = timedelta(minutes=30)
#: Faster than this between two check-ins (over a real distance) is not a person.
MAX_SPEED_M_S = 250 / 3.6
MIN_JUMP_M = 1_000
#: More check-ins in a minute than a phone would send.
PER_MINUTE = 6
OFFERS_PER_CHECKIN = 2
WALLET_OFFER_DAYS = 7

_lock = threading.Lock()
_cache: tuple[float, list[Beacon], list[Offer]] | None = None


def _catalog() -> tuple[list[Beacon], list[Offer]]:
    """Beacons and offers, cached per warm Lambda for a short while (the budget's truth is the
    transaction's condition, so a slightly stale count is safe)."""
    global _cache
    cached = _cache
    if cached is not None and time.monotonic() - cached[0] < settings().program_cache_ttl_s:
        return cached[1], cached[2]
    with _lock:
        _cache = (time.monotonic(), catalog.list_all(Beacon), catalog.offers_with_counts())
        return _cache[1], _cache[2]


def forget() -> None:
    global _cache
    _cache = None


def record(identity: Identity, req: Any, *, clock: Clock) -> dict[str, Any]:
    member = member_store.get_member(identity.sub)
    if member is None:
        raise NotFound("you are not a member of the program yet: POST /v1/me to join", code="not_a_member")
    member = program.with_current_tier(member)  # offers target tiers by their current names
    now = clock()
    try:
        return _record_once(member, req, now)
    except Conflict:
        # A budget spent meanwhile (our cached counts were behind) or another check-in of the
        # member: read again and decide again, once.
        forget()
        return _record_once(member, req, now)


def _record_once(member: Member, req: Any, now: datetime) -> dict[str, Any]:
    previous = wallet_store.last_checkin(member.customer_id)
    minute_start, minute_count = now, 1
    if previous is not None and now - previous.minute_start < timedelta(minutes=1):
        minute_start, minute_count = previous.minute_start, previous.minute_count + 1
        if minute_count > PER_MINUTE:
            raise RateLimited("too many check-ins: a phone sends a few a minute at most", code="checkin_rate_limited")
    store, zone, trigger, position = _where(req, now)
    if previous is not None and position is not None and previous.lon is not None and previous.lat is not None:
        distance = haversine_m(previous.lon, previous.lat, position[0], position[1])
        seconds = max(1.0, (now - previous.at).total_seconds())
        if distance > MIN_JUMP_M and distance / seconds > MAX_SPEED_M_S:
            raise InvalidField(
                "type", f"{distance / 1000:.0f} km in {seconds:.0f} s cannot be travelled", code="impossible_speed"
            )
    same_visit = (
        store is not None and previous is not None and previous.store_id == store.store_id and now - previous.at < DWELL
    )
    held = wallet_store.wallet(member.customer_id)
    issued: list[tuple[Offer, wallet_store.WalletOffer]] = []
    if store is not None and not same_visit:
        history = history_of(held)
        customer = Customer(
            member.tier, member.visits_total, member.last_visit_at, member.category_counts, history=history
        )
        moment = Moment(trigger, now, store_id=store.store_id, zone=zone, merchant_id=store.merchant_id)
        for offer in choose_offers(_catalog()[1], moment, customer, OFFERS_PER_CHECKIN):
            issued.append((offer, wallet_entry(offer, store, now)))
    checkin = wallet_store.Checkin(
        checkin_id=previous.checkin_id if same_visit and previous else f"chk_{uuid.uuid4().hex[:16]}",
        at=previous.at if same_visit and previous else now,
        store_id=store.store_id if store else None,
        lon=position[0] if position else None,
        lat=position[1] if position else None,
        wallet_ids=previous.wallet_ids if same_visit and previous else tuple(e.wallet_id for _, e in issued),
        minute_start=minute_start,
        minute_count=minute_count,
    )
    wallet_store.save_checkin(member.customer_id, checkin, previous.at if previous else None, issued)
    shown = [e for _, e in issued] if not same_visit else [e for e in held if e.wallet_id in checkin.wallet_ids]
    return {
        "checkin_id": checkin.checkin_id,
        "store_id": checkin.store_id,
        "zone": zone,
        "offers": [wallet_view(e, now) for e in shown],
    }


def _where(req: Any, now: datetime) -> tuple[Store | None, str | None, str, tuple[float, float] | None]:
    """The store, zone, trigger and position of a sighting (the store's center for beacons)."""
    if req.type == "geo":
        if req.mocked:
            raise InvalidField("mocked", "the phone reports a mocked location", code="mocked_location")
        match = places.geofences().locate(req.lon, req.lat, req.accuracy_m)
        store = places.store(match.store_id) if match else None
        return store, None, "geofence_enter", (req.lon, req.lat)
    beacons = _catalog()[0]
    beacon: Beacon | None
    if req.eid is not None:
        eid_beacons = [
            EidBeacon(
                b.beacon_id,
                bytes.fromhex(b.eid_identity_key),
                b.eid_rotation_exponent or 0,
                b.eid_time_counter or 0,
                b.eid_registered_at,
            )
            for b in beacons
            if b.eid_identity_key and b.eid_registered_at is not None
        ]
        found = resolve(bytes.fromhex(req.eid), eid_beacons, now)
        beacon = next((b for b in beacons if found and b.beacon_id == found.beacon_id), None)
    else:
        probe = Beacon(
            "", "", "", uuid=req.uuid, major=req.major, minor=req.minor, namespace=req.namespace, instance=req.instance
        )
        beacon = next((b for b in beacons if b.identity == probe.identity), None)
    if beacon is None:
        return None, None, "beacon", None
    store = places.store(beacon.store_id)
    if store is None:
        return None, None, "beacon", None
    fence = places.geofences().center_of(store.store_id)
    return store, beacon.zone, "beacon", fence


def cached_offers() -> list[Offer]:
    return _catalog()[1]


def wallet_entry(offer: Offer, store: Store, now: datetime) -> wallet_store.WalletOffer:
    """An offer as it lands in the wallet: one per (offer, window), redeemable at the offer's
    merchant (the issuing store's if the offer names none), until it or the offer expires."""
    expires = now + timedelta(days=WALLET_OFFER_DAYS)
    if offer.valid_to is not None:
        expires = min(expires, offer.valid_to)
    window = now.strftime("%Y%m%d%H") if offer.limits.cooldown_hours else now.strftime("%Y%m%d")
    return wallet_store.WalletOffer(
        f"{offer.offer_id}#{window}",
        offer.offer_id,
        offer.title,
        dict(offer.reward),
        store.store_id,
        now,
        expires,
        "issued",
        merchant_id=offer.merchant_id or store.merchant_id,
    )


def history_of(held: list[wallet_store.WalletOffer]) -> dict[str, tuple[int, datetime]]:
    history: dict[str, tuple[int, datetime]] = {}
    for entry in held:
        count, last = history.get(entry.offer_id, (0, entry.issued_at))
        history[entry.offer_id] = (count + 1, max(last, entry.issued_at))
    return history


def wallet_view(entry: wallet_store.WalletOffer, now: datetime) -> dict[str, Any]:
    status = entry.status
    if status == "issued" and entry.expires_at <= now:
        status = "expired"
    return {
        "wallet_id": entry.wallet_id,
        "offer_id": entry.offer_id,
        "title": entry.title,
        "reward": entry.reward,
        "store_id": entry.store_id,
        "issued_at": isoformat(entry.issued_at),
        "expires_at": isoformat(entry.expires_at),
        "status": status,
    }


def my_offers(identity: Identity, *, clock: Clock) -> dict[str, Any]:
    member = member_store.get_member(identity.sub)
    if member is None:
        raise NotFound("you are not a member of the program yet", code="not_a_member")
    now = clock()
    items = sorted(wallet_store.wallet(member.customer_id), key=lambda e: e.issued_at, reverse=True)
    return {"items": [wallet_view(e, now) for e in items], "next_cursor": None}


def my_inbox(identity: Identity, limit: int, cursor: str | None) -> dict[str, Any]:
    member = member_store.get_member(identity.sub)
    if member is None:
        raise NotFound("you are not a member of the program yet", code="not_a_member")
    messages = wallet_store.inbox(member.customer_id, limit, cursor)
    items = [
        {
            "message_id": m.message_id,
            "at": isoformat(m.at),
            "kind": m.kind,
            "title": m.title,
            "body": m.body,
            "offer_id": m.offer_id,
        }
        for m in messages
    ]
    return {"items": items, "next_cursor": messages[-1].message_id if len(messages) == limit else None}
