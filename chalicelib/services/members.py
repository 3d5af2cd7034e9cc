"""Joining, the profile, the card, devices, leaving and the data export."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypedDict

from chalicelib.config import settings
from chalicelib.domain import cards
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.features import Features
from chalicelib.domain.identity import Identity
from chalicelib.domain.members import (
    Member,
    ProfileChanges,
    QuietHours,
    check_birthday,
    new_referral_code,
)
from chalicelib.domain.phones import normalise_phone
from chalicelib.domain.program import ProgramRules, cumulative_discount_percent, current_tier, tier_progress_in_window
from chalicelib.errors import Conflict, InvalidField, NotFound
from chalicelib.services import compensations, feedback, places, program, purchases, referrals, wallet
from chalicelib.store import erasure, ledger
from chalicelib.store import features as features_store
from chalicelib.store import members as store

#: A fresh card number or referral code collides rarely; a few draws make a collision vanishingly rare.
MAX_CODE_DRAWS = 5


@dataclass(frozen=True)
class Join:
    name: str
    phone: str
    birthday: date
    marketing_consent: bool
    referral_code: str | None = None
    timezone: str | None = None
    home_store_id: str | None = None
    device_token: str | None = None


@dataclass(frozen=True)
class UpdateProfile:
    """Only the fields named in ``given`` change; a null given clears quiet hours, interests and the
    home store (name, consent and time zone cannot be null: the request model refuses it)."""

    given: frozenset[str]
    name: str | None = None
    marketing_consent: bool | None = None
    quiet_hours: QuietHours | None = None
    timezone: str | None = None
    interests: tuple[str, ...] | None = None
    home_store_id: str | None = None


@dataclass(frozen=True)
class RegisterDevice:
    token: str
    platform: str


class TierProgressView(TypedDict):
    tier: str
    next_tier: str | None
    spend_needed_minor: int | None
    visits_needed: int | None


class QuietHoursView(TypedDict):
    start: str
    end: str


class ProfileView(TypedDict):
    """The member as the app shows them (``Profile``)."""

    customer_id: str
    name: str
    phone: str
    birthday: str
    card_number: str
    referral_code: str
    tier: str
    points_balance: int
    tier_progress: TierProgressView
    discount_percent: int
    marketing_consent: bool
    timezone: str
    home_store_id: str | None
    quiet_hours: QuietHoursView | None
    interests: list[str]
    joined_at: str
    tier_review_on: str | None
    tier_grace_until: str | None
    currency: str
    tier_perks: list[str]
    next_tier_perks: list[str]


class CardView(TypedDict):
    card_number: str
    card_number_display: str
    qr_payload: str
    expires_at: str


class DeviceView(TypedDict):
    token: str
    platform: str
    registered_at: str


class ClaimView(TypedDict):
    kind: str
    value: str


class CheckinView(TypedDict):
    checkin_id: str
    at: str
    store_id: str | None
    lat: float | None
    lon: float | None


class PurchaseView(TypedDict):
    purchase_id: str
    at: str
    merchant_id: str
    store_id: str
    currency: str
    #: As stored (``store.ledger.purchase_body``): the export shows what is held.
    recorded: dict[str, object]


class ExportView(TypedDict):
    """Everything stored about the member (``Export``)."""

    exported_at: str
    profile: ProfileView
    devices: list[DeviceView]
    identifiers: list[ClaimView]
    referred_by: str | None
    last_checkin: CheckinView | None
    wallet: list[wallet.WalletView]
    inbox: list[wallet.MessageView]
    ledger: list[purchases.LedgerEntryView]
    purchases: list[PurchaseView]
    marketing: MarketingView
    referrals: referrals.ExportedReferrals
    feedback: list[feedback.FeedbackView]
    compensations: list[compensations.CompensationView]


class PredictionView(TypedDict):
    next_visit_at: str
    model: str
    p_active: float | None
    wait_days: int | None


class MarketingView(TypedDict):
    """What marketing keeps about the member beside the profile (``MarketingExport``)."""

    segments: list[str]
    last_contact: dict[str, str]
    marketing_sent: list[str]
    contact_keys: dict[str, str]
    predicted_next_visit: PredictionView | None
    visit_days: list[str]
    keep_in_touch_due: str | None
    updated_at: str | None


def join(identity: Identity, req: Join, *, clock: Clock) -> ProfileView:
    rules = program.rules()
    now = clock()
    phone = normalise_phone(req.phone, rules.default_region)
    check_birthday(req.birthday, program.local_time(rules, now).date())
    referrer = referrals.referrer_for(req.referral_code, phone, req.device_token) if req.referral_code else None
    referred_by = referrer[1] if referrer else None
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
        referral = referrals.joined(member, referrer) if referrer else None
        try:
            store.create_member(member, _first_touch_due(rules, member), referral, rules.referral.max_friends)
        except store.CodeTaken:
            continue
        except store.ReferralCapReached:
            raise InvalidField(
                "referral_code", "this code has brought all the friends it may", code="referral_cap_reached"
            ) from None
        return profile_view(member, rules, clock)
    raise Conflict("could not allocate a card number; try again", code="try_again")


def profile(identity: Identity, *, clock: Clock) -> ProfileView:
    return profile_view(_member(identity), program.rules(), clock)


def update(identity: Identity, req: UpdateProfile, *, clock: Clock) -> ProfileView:
    given = req.given
    if req.home_store_id is not None and places.store(req.home_store_id) is None:
        raise InvalidField("home_store_id", "no such store", code="unknown_store")
    quiet = req.quiet_hours
    changes = ProfileChanges(
        name=req.name,
        marketing_consent=req.marketing_consent,
        timezone=req.timezone,
        quiet_hours=quiet,
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


def card(identity: Identity, *, clock: Clock) -> CardView:
    member = _member(identity)
    config = settings()
    qr = cards.issue_qr(member.card_number, member.sub, secret=config.card_secret, ttl_s=config.qr_ttl_s, clock=clock)
    return {
        "card_number": member.card_number,
        "card_number_display": cards.format_card_number(member.card_number),
        "qr_payload": qr.payload,
        "expires_at": isoformat(qr.expires_at),
    }


def add_device(identity: Identity, req: RegisterDevice, *, clock: Clock) -> DeviceView:
    member = _member(identity)
    device = store.register_device(member.customer_id, req.token, req.platform, clock())
    return {"token": device.token, "platform": device.platform, "registered_at": isoformat(device.registered_at)}


def remove_device(identity: Identity, token: str) -> None:
    store.remove_device(_member(identity).customer_id, token)


def export(identity: Identity, *, clock: Clock) -> ExportView:
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
                "recorded": ledger.purchase_body(p),
            }
            for p in held.purchases
        ],
        "marketing": _marketing_view(features_store.get_features(member.sub)),
        "referrals": referrals.exported(member.customer_id),
        "feedback": feedback.of_customer(member.customer_id),
        "compensations": compensations.of_customer(member.customer_id),
    }


def _marketing_view(features: Features) -> MarketingView:
    prediction = features.prediction
    return {
        "segments": sorted(features.segments),
        "last_contact": {kind: isoformat(at) for kind, at in sorted(features.last_contact.items())},
        "marketing_sent": [isoformat(at) for at in features.marketing_sent],
        "contact_keys": {key: isoformat(at) for key, at in sorted(features.keys.items())},
        "predicted_next_visit": {
            "next_visit_at": isoformat(prediction.next_visit_at),
            "model": prediction.model,
            "p_active": prediction.p_active,
            "wait_days": prediction.wait_days,
        }
        if prediction is not None
        else None,
        "visit_days": [day.isoformat() for day in features.visit_days],
        "keep_in_touch_due": features.touch_due.isoformat() if features.touch_due is not None else None,
        "updated_at": isoformat(features.updated_at) if features.updated_at is not None else None,
    }


def profile_view(member: Member, rules: ProgramRules, clock: Clock) -> ProfileView:
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
        "tier_perks": _perks(rules, tier),
        "next_tier_perks": _perks(rules, progress.next_tier) if progress.next_tier else [],
    }


def _perks(rules: ProgramRules, tier: str) -> list[str]:
    return next((list(t.perks) for t in rules.tiers if t.name == tier), [])


def _member(identity: Identity) -> Member:
    member = store.get_member(identity.sub)
    if member is None:
        raise NotFound("you are not a member of the program yet: POST /v1/me to join", code="not_a_member")
    return member


def _first_touch_due(rules: ProgramRules, member: Member) -> date | None:
    """A new member is first due a keep-in-touch message a whole silence after joining."""
    after = rules.contact.keep_in_touch_after_days
    return (member.joined_at + timedelta(days=after)).date() if after else None
