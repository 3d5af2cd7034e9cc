"""Joining, the profile, the card, devices, leaving and the data export."""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib.config import settings
from chalicelib.domain import cards
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.members import (
    Member,
    ProfileChanges,
    QuietHours,
    check_birthday,
    new_referral_code,
    normalise_referral_code,
)
from chalicelib.domain.phones import normalise_phone
from chalicelib.domain.program import ProgramRules, cumulative_discount_percent, current_tier, tier_progress_in_window
from chalicelib.errors import Conflict, InvalidField, NotFound
from chalicelib.services import places, program, purchases, wallet
from chalicelib.store import erasure
from chalicelib.store import members as store

#: A fresh card number or referral code collides rarely; a few draws make a collision vanishingly rare.
MAX_CODE_DRAWS = 5


def join(identity: Identity, req: Any, *, clock: Clock) -> dict[str, Any]:
    rules = program.rules()
    now = clock()
    phone = normalise_phone(req.phone, rules.default_region)
    check_birthday(req.birthday, program.local_time(rules, now).date())
    referred_by = None
    if req.referral_code is not None:
        found = store.find_claim("referral", normalise_referral_code(req.referral_code))
        if found is None:
            raise InvalidField("referral_code", "no member has this referral code", code="unknown_referral_code")
        referred_by = found[1]
    if req.home_store_id is not None and places.store(req.home_store_id) is None:
        raise InvalidField("home_store_id", "no such store", code="unknown_store")
    for _ in range(MAX_CODE_DRAWS):
        member = Member(
            customer_id=f"cus_{uuid.uuid4().hex[:20]}",
            sub=identity.sub,
            name=req.name,
            phone=phone,
            birthday=req.birthday,
            card_number=cards.new_card_number(),
            referral_code=new_referral_code(),
            referred_by=referred_by,
            joined_at=now,
            marketing_consent=req.marketing_consent,
            consent_updated_at=now,
            timezone=req.timezone or rules.timezone,
            tier=rules.base_tier.name,
            home_store_id=req.home_store_id,
        )
        try:
            store.create_member(member)
        except store.CodeTaken:
            continue
        return profile_view(member, rules, clock)
    raise Conflict("could not allocate a card number; try again", code="try_again")


def profile(identity: Identity, *, clock: Clock) -> dict[str, Any]:
    return profile_view(_member(identity), program.rules(), clock)


def update(identity: Identity, req: Any, *, clock: Clock) -> dict[str, Any]:
    given = req.model_fields_set
    if req.home_store_id is not None and places.store(req.home_store_id) is None:
        raise InvalidField("home_store_id", "no such store", code="unknown_store")
    quiet = req.quiet_hours
    changes = ProfileChanges(
        name=req.name,
        marketing_consent=req.marketing_consent,
        timezone=req.timezone,
        quiet_hours=QuietHours(quiet.start, quiet.end) if quiet is not None else None,
        clear_quiet_hours="quiet_hours" in given and quiet is None,
        # null clears a list as it clears quiet hours: the member chose to have none.
        interests=tuple(dict.fromkeys(req.interests or ())) if "interests" in given else None,
        home_store_id=req.home_store_id,
        clear_home_store_id="home_store_id" in given and req.home_store_id is None,
    )
    member = store.update_profile(identity.sub, changes, clock())
    return profile_view(member, program.rules(), clock)


def leave(identity: Identity, *, clock: Clock) -> None:
    erasure.erase_member(identity.sub, clock())


def card(identity: Identity, *, clock: Clock) -> dict[str, Any]:
    member = _member(identity)
    config = settings()
    qr = cards.issue_qr(member.card_number, member.sub, secret=config.card_secret, ttl_s=config.qr_ttl_s, clock=clock)
    return {
        "card_number": member.card_number,
        "card_number_display": cards.format_card_number(member.card_number),
        "qr_payload": qr.payload,
        "expires_at": isoformat(qr.expires_at),
    }


def add_device(identity: Identity, req: Any, *, clock: Clock) -> dict[str, Any]:
    member = _member(identity)
    device = store.register_device(member.customer_id, req.token, req.platform, clock())
    return {"token": device.token, "platform": device.platform, "registered_at": isoformat(device.registered_at)}


def remove_device(identity: Identity, token: str) -> None:
    store.remove_device(_member(identity).customer_id, token)


def export(identity: Identity, *, clock: Clock) -> dict[str, Any]:
    """Everything stored about the member, for the right of access: a section for every table
    ``erasure.POLICIES`` says holds something about them."""
    member = _member(identity)
    held = erasure.held_about(member.customer_id, member.sub)
    now = clock()
    checkin = held.last_checkin
    return {
        "exported_at": isoformat(now),
        "profile": profile_view(member, program.rules(), clock),
        "devices": [
            {"token": d.token, "platform": d.platform, "registered_at": isoformat(d.registered_at)}
            for d in held.devices
        ],
        "identifiers": [
            {"kind": "customer_id", "value": member.customer_id},
            {"kind": "sub", "value": member.sub},
            {"kind": "phone", "value": member.phone},
            {"kind": "card_number", "value": member.card_number},
            {"kind": "referral_code", "value": member.referral_code},
        ],
        "referred_by": member.referred_by,
        "last_checkin": {
            "checkin_id": checkin.checkin_id,
            "at": isoformat(checkin.at),
            "store_id": checkin.store_id,
            "lat": checkin.lat,
            "lon": checkin.lon,
        }
        if checkin is not None
        else None,
        "wallet": [wallet.wallet_view(entry, now) for entry in held.wallet],
        "inbox": [wallet.message_view(m) for m in held.inbox],
        "ledger": [purchases.entry_view(e) for e in held.ledger],
        "purchases": [
            {
                "purchase_id": p.purchase_id,
                "at": isoformat(p.at),
                "merchant_id": p.merchant_id,
                "store_id": p.store_id,
                "currency": p.currency,
                "recorded": p.body,
            }
            for p in held.purchases
        ],
    }


def profile_view(member: Member, rules: ProgramRules, clock: Clock) -> dict[str, Any]:
    tier = current_tier(rules, member.tier)
    month = program.month_key(rules, clock())
    progress = tier_progress_in_window(rules, tier, member.monthly, month)
    quiet = member.quiet_hours
    return {
        "customer_id": member.customer_id,
        "name": member.name,
        "phone": member.phone,
        "birthday": member.birthday.isoformat(),
        "card_number": member.card_number,
        "referral_code": member.referral_code,
        "tier": tier,
        "points_balance": member.points_balance,
        "tier_progress": {
            "tier": progress.tier,
            "next_tier": progress.next_tier,
            "spend_needed_minor": progress.spend_needed_minor,
            "visits_needed": progress.visits_needed,
        },
        "discount_percent": cumulative_discount_percent(rules.cumulative_discount, member.visits_in_month(month)),
        "marketing_consent": member.marketing_consent,
        "timezone": member.timezone,
        "home_store_id": member.home_store_id,
        "quiet_hours": {"start": quiet.start, "end": quiet.end} if quiet else None,
        "interests": list(member.interests),
        "joined_at": isoformat(member.joined_at),
        "tier_review_on": member.tier_review_due,
        "tier_grace_until": member.tier_grace_until,
        "currency": rules.currency,
    }


def _member(identity: Identity) -> Member:
    member = store.get_member(identity.sub)
    if member is None:
        raise NotFound("you are not a member of the program yet: POST /v1/me to join", code="not_a_member")
    return member
