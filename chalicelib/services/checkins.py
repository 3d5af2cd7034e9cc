"""Check-ins: where the customer is (a beacon heard, a location inside a geofence), refused when it
cannot be real, deduplicated within a dwell window, and answered with the offers that fit."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from chalicelib.domain import offers as offer_rules
from chalicelib.domain.catalog import Beacon, Store
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.members import Member
from chalicelib.domain.offers import Customer, Moment, Offer, choose_offers
from chalicelib.errors import Conflict, InvalidField, NotFound, RateLimited
from chalicelib.geo.beacons import directory_of
from chalicelib.geo.distance import haversine_m
from chalicelib.ports import new_id
from chalicelib.services import cursors, places, program
from chalicelib.services.catalog_cache import cache
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

log = structlog.get_logger("loyalty.offers")


def record(identity: Identity, req: Any, *, clock: Clock) -> dict[str, Any]:
    member = member_store.get_member(identity.sub)
    if member is None:
        raise NotFound("you are not a member of the program yet: POST /v1/me to join", code="not_a_member")
    member = program.with_current_tier(member)  # offers target tiers by their current names
    now = clock()
    try:
        return _record_once(member, req, now)
    except Conflict:
        # Another check-in of the member got there first: read again and decide again, once.
        return _record_once(member, req, now)


def _record_once(member: Member, req: Any, now: datetime) -> dict[str, Any]:
    previous = wallet_store.last_checkin(member.customer_id)
    minute_start, minute_count = now, 1
    if previous is not None and now - previous.minute_start < timedelta(minutes=1):
        minute_start, minute_count = previous.minute_start, previous.minute_count + 1
        if minute_count > PER_MINUTE:
            raise RateLimited("too many check-ins: a phone sends a few a minute at most", code="checkin_rate_limited")
    store, zone, trigger, position = _where(req, now)
    last_fix = _last_fix(previous)
    if last_fix is not None and position is not None:
        _check_travel(last_fix, position, now)
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
        moment = Moment(
            trigger, now, store_id=store.store_id, zone=zone, merchant_id=store.merchant_id, timezone=program_timezone()
        )
        for offer in choose_offers(cache().offers(), moment, customer, OFFERS_PER_CHECKIN):
            issued.append((offer, wallet_entry(offer, store, now, history)))
    # A check-in that locates nothing (an unknown beacon) keeps the last known position and when
    # it was known: clearing it would let the next fix skip the speed check.
    fix = (position[0], position[1], now) if position is not None else last_fix
    checkin = wallet_store.Checkin(
        checkin_id=previous.checkin_id if same_visit and previous else new_id("chk", 16),
        at=previous.at if same_visit and previous else now,
        store_id=store.store_id if store else None,
        lon=fix[0] if fix else None,
        lat=fix[1] if fix else None,
        wallet_ids=previous.wallet_ids if same_visit and previous else (),
        minute_start=minute_start,
        minute_count=minute_count,
        fixed_at=fix[2] if fix else None,
    )
    issued = _save(member, checkin, previous.at if previous else None, issued, same_visit)
    shown = [e for _, e in issued] if not same_visit else [e for e in held if e.wallet_id in checkin.wallet_ids]
    return {
        "checkin_id": checkin.checkin_id,
        "store_id": checkin.store_id,
        "zone": zone,
        "offers": [wallet_view(e, now) for e in shown],
    }


def _last_fix(previous: wallet_store.Checkin | None) -> tuple[float, float, datetime] | None:
    if previous is None or previous.lon is None or previous.lat is None:
        return None
    return previous.lon, previous.lat, previous.fixed_at or previous.at


def _check_travel(last_fix: tuple[float, float, datetime], position: tuple[float, float], now: datetime) -> None:
    distance = haversine_m(last_fix[0], last_fix[1], position[0], position[1])
    seconds = max(1.0, (now - last_fix[2]).total_seconds())
    if distance > MIN_JUMP_M and distance / seconds > MAX_SPEED_M_S:
        raise InvalidField(
            "type", f"{distance / 1000:.0f} km in {seconds:.0f} s cannot be travelled", code="impossible_speed"
        )


def _save(
    member: Member,
    checkin: wallet_store.Checkin,
    previous_at: datetime | None,
    issued: list[tuple[Offer, wallet_store.WalletOffer]],
    same_visit: bool,
) -> list[tuple[Offer, wallet_store.WalletOffer]]:
    """Commit the check-in with the offers it issues; an offer the store refuses (a racing issue,
    a spent budget) is left out and logged, and the check-in commits without it."""
    refused: set[str] = set()
    while True:
        kept = [(offer, entry) for offer, entry in issued if offer.offer_id not in refused]
        if not same_visit:
            checkin = dataclasses.replace(checkin, wallet_ids=tuple(entry.wallet_id for _, entry in kept))
        try:
            wallet_store.save_checkin(member.sub, member.customer_id, checkin, previous_at, kept)
        except wallet_store.OffersRefused as refusal:
            if refusal.reasons.keys() <= refused:
                raise  # an offer left out cannot be refused again; never loop on it
            skipped(refusal)
            refused |= refusal.reasons.keys()
        else:
            return kept


def _where(req: Any, now: datetime) -> tuple[Store | None, str | None, str, tuple[float, float] | None]:
    """The store, zone, trigger and position of a sighting (the store's center for beacons)."""
    if req.type == "geo":
        if req.mocked:
            raise InvalidField("mocked", "the phone reports a mocked location", code="mocked_location")
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


def skipped(refusal: wallet_store.OffersRefused) -> None:
    for offer_id, why in sorted(refusal.reasons.items()):
        log.warning("offer_skipped", offer_id=offer_id, reason=why)


def program_timezone() -> ZoneInfo:
    return ZoneInfo(program.rules().timezone)


def wallet_entry(
    offer: Offer, store: Store, now: datetime, history: dict[str, tuple[int, datetime]]
) -> wallet_store.WalletOffer:
    """An offer as it lands in the wallet: the customer's n-th of this offer (so a racing second
    issue of the same n is refused, and a later one never is), redeemable at the offer's merchant
    (the issuing store's if the offer names none), until it or the offer expires."""
    expires = now + timedelta(days=WALLET_OFFER_DAYS)
    if offer.valid_to is not None:
        expires = min(expires, offer.valid_to)
    times_issued = history.get(offer.offer_id, (0, now))[0]
    return wallet_store.WalletOffer(
        f"{offer.offer_id}#{times_issued + 1}",
        offer.offer_id,
        offer.title,
        dict(offer.reward),
        store.store_id,
        now,
        expires,
        "issued",
        merchant_id=offer.merchant_id or store.merchant_id,
    )


def unusable_because(entry: wallet_store.WalletOffer, merchant_id: str | None, now: datetime) -> str | None:
    """Why the till at ``merchant_id`` cannot redeem this wallet entry now (None: it can)."""
    issuing = places.store(entry.store_id) if entry.store_id else None
    redeemable_by = entry.merchant_id or (issuing.merchant_id if issuing else None)
    return offer_rules.unusable_because(entry.status, entry.expires_at, redeemable_by, merchant_id, now)


def usable_offers(customer_id: str, merchant_id: str | None, now: datetime) -> list[dict[str, Any]]:
    """The wallet offers the till at ``merchant_id`` can redeem now, the soonest to expire first."""
    held = wallet_store.wallet(customer_id)
    usable = sorted((e for e in held if unusable_because(e, merchant_id, now) is None), key=lambda e: e.expires_at)
    return [wallet_view(e, now) for e in usable]


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
    messages = wallet_store.inbox(member.customer_id, limit, cursors.position(identity, "inbox", cursor))
    items = [message_view(m) for m in messages]
    last = messages[-1].message_id if len(messages) == limit else None
    return {"items": items, "next_cursor": cursors.next_cursor(identity, "inbox", last)}


def message_view(m: wallet_store.Message) -> dict[str, Any]:
    return {
        "message_id": m.message_id,
        "at": isoformat(m.at),
        "kind": m.kind,
        "title": m.title,
        "body": m.body,
        "offer_id": m.offer_id,
    }
