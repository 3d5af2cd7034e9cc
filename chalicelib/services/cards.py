"""The till's card lookup: a QR payload, a typed card number, or a phone number said aloud."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from chalicelib.config import settings
from chalicelib.domain import cards
from chalicelib.domain.clock import Clock
from chalicelib.domain.identity import Identity
from chalicelib.domain.members import Member
from chalicelib.domain.phones import looks_like_phone, phone_readings
from chalicelib.domain.program import cumulative_discount_percent, redeemable_points
from chalicelib.errors import InvalidField, NotFound
from chalicelib.services import policy, program, wallet
from chalicelib.store import members as store


@dataclass(frozen=True)
class Holder:
    """Who holds a card: found by a claim without reading the member, or by reading the member a
    QR payload names (then the member as read, which spares reading it again)."""

    sub: str
    customer_id: str
    member: Member | None = None


def find_holder(code: str, *, clock: Clock, field: str = "code", stale_qr: bool = False) -> Holder:
    """Who holds the card a code names; 404 if nobody, a clear 4xx if the code is bad.

    ``field`` is what the caller's request calls the code (the lookup's path ``code``, a
    purchase's ``card``), so every error names the field the client actually sent.
    ``stale_qr`` reads a genuine but expired QR too: to say which card a request meant, never
    to let it be used (:func:`check_fresh` refuses it for that)."""
    code = code.strip()
    if cards.is_qr_payload(code):
        card = _qr_card(code, clock, field, stale_qr)
        if card.member_sub is None:
            return _held(store.find_claim("card", card.card_number), field)
        return _named_by_qr(card.member_sub, card.card_number, field)
    bad_card: cards.InvalidCardCode | None = None
    number: str | None
    try:
        number = cards.parse_card_number(code, field=field)
    except cards.InvalidCardCode as exc:
        number, bad_card = None, exc
    if number is not None:
        found = store.find_claim("card", number)
        if found is not None:
            return Holder(*found)
    phones = phone_readings(code, program.rules().default_region) if looks_like_phone(code) else []
    for phone in phones:
        found = store.find_claim("phone", phone)
        if found is not None:
            return Holder(*found)
    if bad_card is not None:
        # A mistyped card number that is also no member's phone: say the check digit is wrong.
        raise bad_card
    if number is not None or phones:
        raise NotFound("no member has this card or phone number", code="card_not_found", field=field)
    raise InvalidField(field, "not a card number, QR code or phone number", code="unrecognised_code")


def check_fresh(code: str, *, clock: Clock, field: str = "code") -> None:
    """Refuse a QR code that has gone stale (410) or is not genuine; other codes do not age."""
    code = code.strip()
    if cards.is_qr_payload(code):
        _qr_card(code, clock, field, stale_ok=False)


def find_member(code: str, *, clock: Clock, field: str = "code") -> Member:
    """The member a code at the till names, if it may be used now."""
    holder = find_holder(code, clock=clock, field=field)
    return holder.member or member_of(holder, field)


def member_of(holder: Holder, field: str, code: str = "card_not_found") -> Member:
    member = store.get_member(holder.sub)
    if member is None or member.customer_id != holder.customer_id:
        # The member left between reading the claim and reading them.
        raise NotFound("no such member", code=code, field=field)
    return member


def _qr_card(code: str, clock: Clock, field: str, stale_ok: bool) -> cards.QrCard:
    config = settings()
    if stale_ok:
        return cards.read_stale_qr(code, secret=config.card_secret, field=field)
    return cards.read_qr(code, secret=config.card_secret, ttl_s=config.qr_ttl_s, clock=clock, field=field)


def _named_by_qr(sub: str, card_number: str, field: str) -> Holder:
    """The member a QR payload names, read by its key: one read instead of the card's claim and
    then the member. The card must still be theirs (a member who left and joined again has the
    same key and another card; the old card's codes must not find them)."""
    member = store.get_member(sub)
    if member is None or member.card_number != card_number:
        raise NotFound("no member has this card", code="card_not_found", field=field)
    return Holder(member.sub, member.customer_id, member)


class CardSummaryView(TypedDict):
    """The member as the till sees them (``CardSummary``)."""

    customer_id: str
    name: str
    card_number: str
    tier: str
    points_balance: int
    discount_percent: int
    currency: str
    amount: int | None
    redeemable_points: int | None
    redeemable_value: int | None
    offers: list[wallet.WalletView]


def lookup(identity: Identity, code: str, amount: int | None, *, clock: Clock) -> CardSummaryView:
    policy.may_look_up_members(identity)
    member = program.with_current_tier(find_member(code, clock=clock))
    rules = program.rules()
    percent = cumulative_discount_percent(
        rules.cumulative_discount, member.visits_in_month(program.month_key(rules, clock()))
    )
    points = None
    if amount is not None:
        # As the purchase will: the cap applies to the bill after the member's discount.
        points = redeemable_points(member.points_balance, amount - amount * percent // 100, rules.redemption)
    return {
        "customer_id": member.customer_id,
        "name": member.name,
        "card_number": member.card_number,
        "tier": member.tier,
        "points_balance": member.points_balance,
        "discount_percent": percent,
        "currency": rules.currency,
        "amount": amount,
        "redeemable_points": points,
        "redeemable_value": points * rules.redemption.point_value_minor if points is not None else None,
        "offers": wallet.usable_offers(member.customer_id, identity.merchant_id, clock()),
    }


def _held(found: tuple[str, str] | None, field: str) -> Holder:
    if found is None:
        raise NotFound("no member has this card", code="card_not_found", field=field)
    return Holder(*found)
