"""The till's card lookup: a QR payload, a typed card number, or a phone number said aloud."""

from __future__ import annotations

from typing import Any

from chalicelib.config import settings
from chalicelib.domain import cards
from chalicelib.domain.clock import Clock
from chalicelib.domain.identity import Identity
from chalicelib.domain.members import Member
from chalicelib.domain.phones import InvalidPhone, looks_like_phone, normalise_phone
from chalicelib.domain.program import cumulative_discount_percent, redeemable_points
from chalicelib.errors import Gone, InvalidField, NotFound
from chalicelib.services import merchant_scope, program
from chalicelib.store import members as store


def find_member(code: str, *, clock: Clock, field: str = "code") -> Member:
    """The member a code at the till names; 404 if none, a clear 4xx if the code is bad.

    ``field`` is what the caller's request calls the code (the lookup's path ``code``, a
    purchase's ``card``), so every error names the field the client actually sent."""
    code = code.strip()
    config = settings()
    if cards.is_qr_payload(code):
        try:
            qr_number = cards.read_qr(code, secret=config.card_secret, ttl_s=config.qr_ttl_s, clock=clock)
        except cards.ExpiredCardCode as exc:
            raise Gone(str(exc), code="qr_expired", field=field) from None
        except cards.InvalidCardCode as exc:
            raise InvalidField(field, str(exc), code="invalid_qr") from None
        return _found(store.member_by_claim("card", qr_number), field)
    bad_card: cards.InvalidCardCode | None = None
    number: str | None
    try:
        number = cards.parse_card_number(code)
    except cards.InvalidCardCode as exc:
        number, bad_card = None, exc
    if number is not None:
        member = store.member_by_claim("card", number)
        if member is not None:
            return member
    phone: str | None = None
    if looks_like_phone(code):
        try:
            phone = normalise_phone(code, program.rules().default_region)
        except InvalidPhone:
            pass
        else:
            member = store.member_by_claim("phone", phone)
            if member is not None:
                return member
    if bad_card is not None:
        # A mistyped card number that is also no member's phone: say the check digit is wrong.
        raise InvalidField(field, str(bad_card), code="invalid_card_number")
    if number is not None or phone is not None:
        raise NotFound("no member has this card or phone number", code="card_not_found", field=field)
    raise InvalidField(field, "not a card number, QR code or phone number", code="unrecognised_code")


def lookup(identity: Identity, code: str, amount: int | None, *, clock: Clock) -> dict[str, Any]:
    # Members belong to the program, so any store of the cashier's merchant may look one up.
    merchant_scope.acting_for(identity)
    member = find_member(code, clock=clock)
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
        # Offers arrive with the offer engine; until a member holds one, the wallet is empty.
        "offers": [],
    }


def _found(member: Member | None, field: str) -> Member:
    if member is None:
        raise NotFound("no member has this card", code="card_not_found", field=field)
    return member
