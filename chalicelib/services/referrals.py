"""Referrals: friends bring friends, and both are rewarded when the friend first buys.

Joining with a code links the friend (refused: an unknown code, the referrer's own phone or phone
token, a token up the referrer's chain of referrals (a ring), a code past its cap). The rewards wait
for the friend's first qualifying purchase (the program's ``referral`` rules: an amount, within so
many days of joining), seen on the ledger's stream; each is a message with points through the
issuing service, exactly once per friend. A refund of that purchase takes both rewards back (what
the balance cannot cover becomes debt, paid off by future earnings), once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypedDict
from urllib.parse import urlencode

import structlog

from chalicelib.config import settings
from chalicelib.domain.bonus import Bonus
from chalicelib.domain.changes import PointsAfter
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.ledger import Posting
from chalicelib.domain.members import Member, normalise_referral_code
from chalicelib.domain.moments import first_name
from chalicelib.domain.points import expiry_due, take_back
from chalicelib.domain.webhooks import Event
from chalicelib.errors import InvalidField, LoyaltyError, NotFound
from chalicelib.services import cursors, issuing, program, webhooks
from chalicelib.services.idempotency import exactly_once, request_hash
from chalicelib.store import ledger
from chalicelib.store import members as member_store
from chalicelib.store import referrals as store

log = structlog.get_logger("loyalty.referrals")

#: How far up a referrer's chain a shared phone token is looked for (a ring of accounts).
RING_DEPTH = 5
SELF_REFERRAL = "self_referral"
RING = "referral_ring"


def referrer_for(code: str, phone: str, device_token: str | None) -> tuple[str, str]:
    """``(sub, customer_id)`` of the member whose code a new member joins with, or why not."""
    found = member_store.find_claim("referral", normalise_referral_code(code))
    if found is None:
        raise InvalidField("referral_code", "no member has this referral code", code="unknown_referral_code")
    referrer = member_store.get_member(found[0])
    if referrer is None:
        raise InvalidField("referral_code", "no member has this referral code", code="unknown_referral_code")
    if referrer.phone == phone:
        raise InvalidField("referral_code", "a member cannot bring themselves", code=SELF_REFERRAL)
    if device_token is not None:
        owners = member_store.device_owners(device_token)
        if referrer.customer_id in owners:
            raise InvalidField("referral_code", "this phone is the referrer's own", code=SELF_REFERRAL)
        if owners & _chain(referrer):
            raise InvalidField("referral_code", "this phone is already in the referrer's chain", code=RING)
    return found


def _chain(member: Member) -> set[str]:
    """The customer ids up the member's chain of referrers (a few reads, at most ``RING_DEPTH``)."""
    seen: set[str] = set()
    current: Member | None = member
    while current is not None and current.referred_by and len(seen) < RING_DEPTH:
        if current.referred_by in seen:
            break
        seen.add(current.referred_by)
        found = member_store.find_claim("customer", current.referred_by)
        current = member_store.get_member(found[0]) if found else None
    return seen


def joined(friend: Member, referrer: tuple[str, str]) -> store.Referral:
    return store.Referral(
        friend=friend.customer_id, referrer=referrer[1], joined_at=friend.joined_at, status=store.JOINED
    )


def _sub(customer_id: str) -> str | None:
    """The member's ``sub`` (None: they left)."""
    found = member_store.find_claim("customer", customer_id)
    return found[0] if found else None


# --- the rewards -----------------------------------------------------------------------------


def on_ledger_records(records: Iterable[tuple[str, dict[str, Any] | None]], *, clock: Clock) -> int:
    """Each new purchase or refund entry of a referred friend (one read for anyone else): the
    first qualifying purchase rewards both, a refund of it takes the rewards back. Returns how
    many referrals moved."""
    moved = 0
    seen: set[tuple[str, str]] = set()
    for event_name, image in records:
        if event_name != "INSERT" or not image or "purchase_id" not in image:
            continue
        customer_id, purchase_id = image["customer_id"]["S"], image["purchase_id"]["S"]
        reason = image.get("reason", {}).get("S")
        if (customer_id, purchase_id + str(reason)) in seen:
            continue
        seen.add((customer_id, purchase_id + str(reason)))
        referral = store.get(customer_id)
        if referral is None:
            continue
        try:
            if reason == "refund" and referral.status == store.REWARDED and referral.purchase_id == purchase_id:
                moved += _take_back(referral, clock())
            elif reason in ("purchase", "redemption") and referral.status == store.JOINED:
                moved += _reward(referral, purchase_id, clock())
        except LoyaltyError as exc:
            log.info("referral_not_settled", code=exc.code)
    return moved


def _reward(referral: store.Referral, purchase_id: str, at: datetime) -> int:
    rules = program.rules().referral
    recorded = ledger.get_purchase(purchase_id)
    if recorded is None:
        return 0
    purchase = recorded[0]
    if purchase.amount_due < rules.min_purchase_minor:
        return 0  # not this one; a later purchase may qualify
    if purchase.at > referral.joined_at + timedelta(days=rules.within_days):
        return int(store.settle(referral, store.REFUSED, at, reason="too_late"))
    if not rules.enabled:
        return int(store.settle(referral, store.REFUSED, at, reason="referrals_off"))
    friend_devices = {d.token for d in member_store.devices_of(referral.friend)}
    referrer_devices = {d.token for d in member_store.devices_of(referral.referrer)}
    if friend_devices & referrer_devices:
        return int(store.settle(referral, store.REFUSED, at, reason=SELF_REFERRAL))
    friend_sub, referrer_sub = _sub(referral.friend), _sub(referral.referrer)
    friend = member_store.get_member(friend_sub) if friend_sub else None
    if friend_sub is None or friend is None:
        return 0  # the friend left
    name = first_name(friend.name)
    key = f"referral#{referral.friend}"
    if rules.friend_points:
        issuing.send(
            friend_sub,
            "referral",
            key,
            f"Welcome bonus: {rules.friend_points} points",
            "For your first purchase with us, as a friend of one of our members.",
            clock=lambda: at,
            bonus=Bonus(rules.friend_points, "referral_friend"),
        )
    if rules.referrer_points and referrer_sub is not None:
        issuing.send(
            referrer_sub,
            "referral",
            key,
            f"{name} made their first purchase",
            f"Thank you for bringing a friend: {rules.referrer_points} points are yours.",
            clock=lambda: at,
            bonus=Bonus(rules.referrer_points, "referral_referrer"),
        )
    settled = store.settle(
        referral,
        store.REWARDED,
        at,
        purchase_id=purchase_id,
        purchase_amount=purchase.amount_due,
        referrer_points=rules.referrer_points,
        friend_points=rules.friend_points,
    )
    log.info("referral_rewarded", settled=settled)
    if settled:
        data = {
            "friend_customer_id": referral.friend,
            "referrer_customer_id": referral.referrer,
            "purchase_id": purchase_id,
            "referrer_points": rules.referrer_points,
            "friend_points": rules.friend_points,
        }
        webhooks.safely_emit([Event(f"referral:{referral.friend}", "referral.rewarded", at, data)])
    return int(settled)


def _take_back(referral: store.Referral, at: datetime) -> int:
    recorded = ledger.get_purchase(referral.purchase_id or "")
    if recorded is None or recorded[0].refunded_amount == 0:
        return 0
    purchase = recorded[0]
    if purchase.amount_due - purchase.refunded_money >= program.rules().referral.min_purchase_minor:
        return 0  # a partial refund that leaves a qualifying purchase
    for customer_id, points, role in (
        (referral.friend, referral.friend_points, "friend"),
        (referral.referrer, referral.referrer_points, "referrer"),
    ):
        sub = _sub(customer_id)
        if points and sub is not None:
            _take_points(sub, points, f"referral_taken_back|{role}|{referral.friend}", at)
    return int(store.take_back(referral, at))


def _take_points(sub: str, points: int, key: str, at: datetime) -> None:
    """``points`` off the member's balance (what it cannot cover becomes debt), once per ``key``."""
    fingerprint = request_hash({"key": key, "points": points})

    def prepare() -> ledger.MemberChange:
        member = member_store.get_member(sub)
        if member is None:
            raise LoyaltyError("the member left", code="member_left")
        rules = program.rules()
        after, _ = take_back(member.points, points)
        delta = after.balance - member.points.balance
        postings = (Posting(at, delta, "referral_taken_back", after.balance, debt_after=after.debt),)
        return ledger.MemberChange(
            member,
            key,
            fingerprint,
            at,
            {"customer_id": member.customer_id, "points_taken_back": points, "points_balance": after.balance},
            points=PointsAfter(after, expiry_due(rules.expiry, None, after, member.expiry_due), postings),
        )

    exactly_once(key, fingerprint, prepare)


# --- what members and the team see ---------------------------------------------------------------


class FriendView(TypedDict):
    first_name: str | None
    joined_at: str
    status: str
    points_to_me: int


class MyReferralsView(TypedDict):
    referral_code: str
    share_link: str
    friends_joined: int
    friends_rewarded: int
    points_earned: int
    max_friends: int
    items: list[FriendView]
    next_cursor: str | None


def mine(identity: Identity, limit: int, cursor: str | None) -> MyReferralsView:
    member = member_store.get_member(identity.sub)
    if member is None:
        raise NotFound("you are not a member of the program yet", code="not_a_member")
    before = cursors.position(identity, "referrals", cursor)
    # The totals first: a reward commits its status and the totals in one transaction, so totals
    # read before the page never count a reward the page then shows as still ``joined``.
    totals = store.totals(member.customer_id)
    page = store.of_referrer(member.customer_id, limit, before)
    subs = {r.friend: _sub(r.friend) for _, r in page}
    friends = {m.customer_id: m for m in member_store.get_members([s for s in subs.values() if s])}
    rules = program.rules().referral
    return {
        "referral_code": member.referral_code,
        "share_link": share_link(member.referral_code),
        "friends_joined": totals.friends_joined,
        "friends_rewarded": totals.friends_rewarded,
        "points_earned": totals.points_earned,
        "max_friends": rules.max_friends,
        "items": [
            {
                "first_name": first_name(friends[r.friend].name) if r.friend in friends else None,
                "joined_at": isoformat(r.joined_at),
                "status": r.status,
                "points_to_me": r.referrer_points if r.status == store.REWARDED else 0,
            }
            for _, r in page
        ],
        "next_cursor": cursors.next_cursor(identity, "referrals", page[-1][0] if len(page) == limit else None),
    }


def share_link(code: str) -> str:
    """The link a member shares: the app's join page (``LOYALTY_SHARE_URL``) with their code."""
    return f"{settings().share_url}?{urlencode({'code': code})}"


class ReferralRecordView(TypedDict):
    joined_at: str
    status: str
    reason: str | None
    purchase_id: str | None
    rewarded_at: str | None
    points_to_referrer: int
    points_to_friend: int


class ExportedReferrals(TypedDict):
    #: How I joined (the record of me as a friend), if through a code.
    as_friend: ReferralRecordView | None
    #: The friends I brought (no names: they are theirs).
    friends: list[ReferralRecordView]


def exported(customer_id: str) -> ExportedReferrals:
    me = store.get(customer_id)
    return {
        "as_friend": _record(me) if me else None,
        "friends": [_record(r) for _, r in store.of_referrer(customer_id, 10_000, None)],
    }


def _record(r: store.Referral) -> ReferralRecordView:
    return {
        "joined_at": isoformat(r.joined_at),
        "status": r.status,
        "reason": r.reason,
        "purchase_id": r.purchase_id,
        "rewarded_at": isoformat(r.rewarded_at) if r.rewarded_at else None,
        "points_to_referrer": r.referrer_points,
        "points_to_friend": r.friend_points,
    }
