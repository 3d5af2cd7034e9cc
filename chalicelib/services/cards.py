"""The till's card lookup: a QR payload, a typed card number, or a phone number said aloud."""

from __future__ import annotations

from collections.abc import Mapping
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
from chalicelib.services import catalog_cache, policy, program, repositories, wallet


@dataclass(frozen=True)
class Holder:
    """Who holds a card: found by a claim or by the member a QR payload names, with the member as
    read then (None if it no longer matched the claim: whoever needs it reads again and says why)."""

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
            return _held(_claimed("card", card.card_number), field)
        return _named_by_qr(card.member_sub, card.card_number, field)
    bad_card: cards.InvalidCardCode | None = None
    number: str | None
    try:
        number = cards.parse_card_number(code, field=field)
    except cards.InvalidCardCode as exc:
        number, bad_card = None, exc
    if number is not None:
        found = _claimed("card", number)
        if found is not None:
            return found
    phones, found = _by_phone(code) if looks_like_phone(code) else ([], None)
    if found is not None:
        return found
    if bad_card is not None:
        # A mistyped card number that is also no member's phone: say the check digit is wrong.
        raise bad_card
    if number is not None or phones:
        raise NotFound("no member has this card or phone number", code="card_not_found", field=field)
    raise InvalidField(field, "not a card number, QR code or phone number", code="unrecognised_code")


def _by_phone(code: str) -> tuple[list[str], Holder | None]:
    """The readings of a phone number said at the till (in the program's region) and the holder
    of the first one that is a member's. The region this warm Lambda holds is tried first and
    checked once the member's read has brought the catalog's version (so the program is not read
    before the claim); only if it moved meanwhile are the readings tried again in the new one."""
    held = catalog_cache.cache().held_program()
    if held is not None:
        phones = phone_readings(code, held.default_region)
        found = _first_claimed(phones)
        if program.rules().default_region == held.default_region:
            return phones, found
    phones = phone_readings(code, program.rules().default_region)
    return phones, _first_claimed(phones)


def _first_claimed(phones: list[str]) -> Holder | None:
    for phone in phones:
        found = _claimed("phone", phone)
        if found is not None:
            return found
    return None


def check_fresh(code: str, *, clock: Clock, field: str = "code") -> None:
    """Refuse a QR code that has gone stale (410) or is not genuine; other codes do not age."""
    code = code.strip()
    if cards.is_qr_payload(code):
        _qr_card(code, clock, field, stale_ok=False)


def find_member(code: str, *, clock: Clock, field: str = "code") -> Member:
    """The member a code at the till names, if it may be used now."""
    holder = find_holder(code, clock=clock, field=field)
    return holder.member or member_of(holder, field)


def claimed(kind: str, value: str) -> Holder | None:
    """The holder of a claim (``card``, ``phone``, ``customer``) with their member read at once."""
    return _claimed(kind, value)


def _claimed(kind: str, value: str) -> Holder | None:
    found = repositories.members().find_claim(kind, value)
    if found is None:
        return None
    sub, customer_id = found
    member = read_member(sub)
    return Holder(sub, customer_id, member if member is not None and member.customer_id == customer_id else None)


def read_member(sub: str) -> Member | None:
    """The member, read with the catalog's version in one request (the catalog cache takes it as
    this request's validation, so a till's request reads nothing more before its transaction)."""
    read = repositories.members().read_member(sub)
    catalog_cache.seen(read.catalog_version)
    return read.member


def member_of(holder: Holder, field: str, code: str = "card_not_found") -> Member:
    member = read_member(holder.sub)
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
    member = read_member(sub)
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
    favourite_categories: list[str]
    interests: list[str]
    tier_perks: list[str]
    visits: int


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
        "offers": wallet.usable_offers(member, identity.merchant_id, clock()),
        "favourite_categories": favourite_categories(member.category_counts),
        "interests": list(member.interests),
        "tier_perks": next((list(t.perks) for t in rules.tiers if t.name == member.tier), []),
        "visits": member.visits_total,
    }


#: Categories the till names: the member's most bought, at most this many.
FAVOURITES_SHOWN = 3


def favourite_categories(counts: Mapping[str, int]) -> list[str]:
    """What the member buys most, most first (ties by name), so the cashier can say the right thing."""
    return [c for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n > 0][:FAVOURITES_SHOWN]


def _held(found: Holder | None, field: str) -> Holder:
    if found is None:
        raise NotFound("no member has this card", code="card_not_found", field=field)
    return found
