"""Refunds at the till: earned points taken back in proportion, redeemed points returned,
visits, spend and a tier the purchase bought adjusted, exactly once per Idempotency-Key."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.members import Member
from chalicelib.domain.refunds import LineTotals, PurchaseTotals, RefundDecision, Sold, apply_refund
from chalicelib.errors import Conflict, NotFound
from chalicelib.services import cards, policy, program, wallet
from chalicelib.services.idempotency import Outcome, exactly_once, request_hash, scoped_key
from chalicelib.store import ledger
from chalicelib.store import wallet as wallet_store


def refund(
    identity: Identity,
    purchase_id: str,
    req: Any,
    idempotency_key: str | None,
    *,
    clock: Clock,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    key = scoped_key(identity.sub, f"POST /v1/purchases/{purchase_id}/refund", idempotency_key)
    fingerprint = request_hash({"purchase_id": purchase_id, **req.model_dump(mode="json")})
    return exactly_once(
        key, fingerprint, lambda: _prepare(identity, purchase_id, req, key, fingerprint, clock), sleep=sleep
    )


def _prepare(
    identity: Identity, purchase_id: str, req: Any, key: str, fingerprint: str, clock: Clock
) -> ledger.MemberChange:
    found = ledger.get_purchase(purchase_id)
    if found is None:
        raise NotFound("no such purchase", code="purchase_not_found")
    body, revision = found
    policy.may_refund(identity, body["merchant_id"], body.get("store_id"))
    holder = cards.claimed("customer", body["customer_id"])
    member = holder.member if holder is not None else None
    if member is None:
        raise Conflict("the member has left the program: refund the money only", code="member_left")
    member = program.with_current_tier(member)
    rules = program.rules()
    sold = _sold(purchase_id, body)
    now = clock()
    decision = apply_refund(rules, member.standing, sold, req.amount, [(i.sku, i.qty) for i in req.items or ()], now)

    # A full refund undoes the sale, so the offers it redeemed go back to the wallet (while they
    # last); a partial one keeps them spent: the rest of the sale still used them.
    given_back = _redeemed_offers(member, purchase_id, body.get("offers_redeemed"), now) if decision.complete else []
    response = _response(member, purchase_id, decision, given_back, now)
    return ledger.MemberChange(
        member,
        key,
        fingerprint,
        now,
        response,
        response_status=201,
        points=decision.points,
        visit=decision.visit,
        tier_change=decision.tier_change,
        purchase=ledger.Purchase(
            purchase_id=purchase_id,
            merchant_id=body["merchant_id"],
            store_id=body["store_id"],
            cashier_sub=body.get("cashier_sub", ""),
            currency=rules.currency,
            body=_refunded_body(body, sold.totals, decision, response),
            expected_revision=revision,
        ),
        give_back_wallet=tuple(entry.wallet_id for entry in given_back),
    )


def _sold(purchase_id: str, body: dict[str, Any]) -> Sold:
    """The purchase as its recorded body has it (lines and refunded totals absent on older ones)."""
    lines = body.get("lines", [])
    return Sold(
        purchase_id=purchase_id,
        merchant_id=body["merchant_id"],
        store_id=body["store_id"],
        at=datetime.fromisoformat(body["at"].replace("Z", "+00:00")),
        totals=PurchaseTotals(
            amount=body["amount"],
            amount_due=body["amount_due"],
            points_earned=body["points_earned"],
            points_redeemed=body["points_redeemed"],
            lines=tuple(
                LineTotals(
                    line["sku"], line["qty"], line["price_minor"], line["due"], line["points"], line["redeemed"], done
                )
                for line, done in zip(lines, body.get("refunded_qty") or [0] * len(lines), strict=True)
            ),
            refunded_amount=body.get("refunded_amount", 0),
            refunded_money=body.get("refunded_money", 0),
            points_taken_back=body.get("points_taken_back", 0),
            points_returned=body.get("points_returned", 0),
        ),
        tier_before=body.get("tier_before"),
        tier=body.get("tier"),
        tier_upgraded=bool(body.get("tier_upgraded")),
        redeemed_lots=tuple((str(day), int(n)) for day, n in body.get("redeemed_lots", [])),
    )


def _response(
    member: Member,
    purchase_id: str,
    decision: RefundDecision,
    given_back: list[wallet_store.WalletOffer],
    now: datetime,
) -> dict[str, Any]:
    quote, points = decision.quote, decision.points.points
    return {
        "refund_id": f"ref_{uuid.uuid4().hex[:20]}",
        "purchase_id": purchase_id,
        "customer_id": member.customer_id,
        "at": isoformat(now),
        "amount_refunded": quote.amount,
        "money_refunded": quote.money,
        "points_taken_back": quote.take_back,
        "points_returned": quote.give_back,
        "points_balance": points.balance,
        "points_debt": points.debt,
        "tier": decision.tier,
        "refunded_total": quote.refunded_amount_after,
        "status": "refunded" if decision.complete else "partially_refunded",
        "offers_returned": [entry.offer_id for entry in given_back],
    }


def _refunded_body(
    body: dict[str, Any], totals: PurchaseTotals, decision: RefundDecision, response: dict[str, Any]
) -> dict[str, Any]:
    """The purchase's body with this refund added to its running totals and its list of refunds."""
    quote = decision.quote
    return {
        **body,
        "refunded_amount": quote.refunded_amount_after,
        "refunded_money": totals.refunded_money + quote.money,
        "points_taken_back": totals.points_taken_back + quote.take_back,
        "points_returned": totals.points_returned + quote.give_back,
        "refunded_qty": list(quote.refunded_qty_after),
        "redeemed_lots": [list(lot) for lot in decision.redeemed_lots_left],
        "status": response["status"],
        "refunds": [
            *body.get("refunds", []),
            {
                k: response[k]
                for k in (
                    "refund_id",
                    "at",
                    "amount_refunded",
                    "money_refunded",
                    "points_taken_back",
                    "points_returned",
                )
            },
        ],
    }


def _redeemed_offers(
    member: Member, purchase_id: str, offer_ids: list[str] | None, now: datetime
) -> list[wallet_store.WalletOffer]:
    """The wallet offers the purchase redeemed that have not expired since: among the live part of
    the wallet (an entry stays there, redeemed, until it expires) of the offers the purchase says
    it redeemed (none read if none); the whole wallet for a purchase recorded without saying."""
    if offer_ids is not None and not offer_ids:
        return []
    held = wallet_store.wallet(member.customer_id) if offer_ids is None else wallet.live_entries(member, now, offer_ids)
    return [
        entry
        for entry in held
        if entry.purchase_id == purchase_id and entry.status == "redeemed" and entry.expires_at > now
    ]
