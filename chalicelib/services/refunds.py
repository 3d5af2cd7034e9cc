"""Refunds at the till: earned points taken back in proportion, redeemed points returned,
visits, spend and a tier the purchase bought adjusted, exactly once per Idempotency-Key."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.members import Member
from chalicelib.domain.purchase_record import RecordedPurchase, RefundStatus
from chalicelib.domain.refunds import RefundDecision, apply_refund, sold, with_refund
from chalicelib.errors import Conflict, NotFound
from chalicelib.services import cards, policy, program, wallet
from chalicelib.services.idempotency import Outcome, exactly_once, request_hash, scoped_key
from chalicelib.store import ledger
from chalicelib.store import wallet as wallet_store


@dataclass(frozen=True)
class RefundLine:
    sku: str
    qty: int


@dataclass(frozen=True)
class RefundPurchase:
    """``amount`` (gross, minor units) or ``items``; neither refunds all that is left."""

    amount: int | None = None
    items: tuple[RefundLine, ...] | None = None
    reason: str | None = None


def refund(
    identity: Identity,
    purchase_id: str,
    req: RefundPurchase,
    idempotency_key: str | None,
    *,
    clock: Clock,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    key = scoped_key(identity.sub, f"POST /v1/purchases/{purchase_id}/refund", idempotency_key)
    fingerprint = request_hash({"purchase_id": purchase_id, **dataclasses.asdict(req)})
    return exactly_once(
        key, fingerprint, lambda: _prepare(identity, purchase_id, req, key, fingerprint, clock), sleep=sleep
    )


def _prepare(
    identity: Identity, purchase_id: str, req: RefundPurchase, key: str, fingerprint: str, clock: Clock
) -> ledger.MemberChange:
    found = ledger.get_purchase(purchase_id)
    if found is None:
        raise NotFound("no such purchase", code="purchase_not_found")
    record, revision = found
    policy.may_refund(identity, record.merchant_id, record.store_id)
    holder = cards.claimed("customer", record.customer_id)
    member = holder.member if holder is not None else None
    if member is None:
        raise Conflict("the member has left the program: refund the money only", code="member_left")
    member = program.with_current_tier(member)
    rules = program.rules()
    now = clock()
    items = [(i.sku, i.qty) for i in req.items or ()]
    decision = apply_refund(rules, member.standing, sold(record), req.amount, items, now)

    # A full refund undoes the sale, so the offers it redeemed go back to the wallet (while they
    # last); a partial one keeps them spent: the rest of the sale still used them.
    given_back = _redeemed_offers(member, purchase_id, record.offers_redeemed, now) if decision.complete else []
    refunded = with_refund(record, decision, f"ref_{uuid.uuid4().hex[:20]}", now)
    return ledger.MemberChange(
        member,
        key,
        fingerprint,
        now,
        dict(_receipt(refunded, decision, given_back)),
        response_status=201,
        points=decision.points,
        visit=decision.visit,
        tier_change=decision.tier_change,
        purchase=ledger.Purchase(refunded, expected_revision=revision),
        give_back_wallet=tuple(entry.wallet_id for entry in given_back),
    )


class RefundReceipt(TypedDict):
    """What the till is told (``RefundResult``); replayed as saved for a retried key."""

    refund_id: str
    purchase_id: str
    customer_id: str
    at: str
    amount_refunded: int
    money_refunded: int
    points_taken_back: int
    points_returned: int
    points_balance: int
    points_debt: int
    tier: str
    refunded_total: int
    status: RefundStatus
    offers_returned: list[str]


def _receipt(
    refunded: RecordedPurchase, decision: RefundDecision, given_back: list[wallet_store.WalletOffer]
) -> RefundReceipt:
    """This refund (the record's last) as the till is told it."""
    refund, points = refunded.refunds[-1], decision.points.points
    return {
        "refund_id": refund.refund_id,
        "purchase_id": refunded.purchase_id,
        "customer_id": refunded.customer_id,
        "at": isoformat(refund.at),
        "amount_refunded": refund.amount_refunded,
        "money_refunded": refund.money_refunded,
        "points_taken_back": refund.points_taken_back,
        "points_returned": refund.points_returned,
        "points_balance": points.balance,
        "points_debt": points.debt,
        "tier": decision.tier,
        "refunded_total": refunded.refunded_amount,
        "status": "refunded" if decision.complete else "partially_refunded",
        "offers_returned": [entry.offer_id for entry in given_back],
    }


def _redeemed_offers(
    member: Member, purchase_id: str, offer_ids: Sequence[str], now: datetime
) -> list[wallet_store.WalletOffer]:
    """The wallet offers the purchase redeemed that have not expired since: among the live part of
    the wallet (an entry stays there, redeemed, until it expires) of the offers the purchase says
    it redeemed (none read if none; a purchase recorded before offers existed redeemed none)."""
    if not offer_ids:
        return []
    held = wallet.live_entries(member, now, list(offer_ids))
    return [
        entry
        for entry in held
        if entry.purchase_id == purchase_id and entry.status == "redeemed" and entry.expires_at > now
    ]
