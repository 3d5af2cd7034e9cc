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
from chalicelib.domain.ledger import LedgerEntry
from chalicelib.domain.members import Member
from chalicelib.domain.points import expiry_due, restore, take_back
from chalicelib.domain.program import ProgramRules, current_tier, months_back, tier_for, window_totals
from chalicelib.domain.refunds import LineTotals, PurchaseTotals, quote_refund
from chalicelib.errors import Conflict, NotFound
from chalicelib.services import policy, program
from chalicelib.services.idempotency import Outcome, exactly_once, request_hash, scoped_key
from chalicelib.store import ledger
from chalicelib.store import members as member_store
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
) -> ledger.BalanceChange:
    found = ledger.get_purchase(purchase_id)
    if found is None:
        raise NotFound("no such purchase", code="purchase_not_found")
    body, revision = found
    policy.may_refund(identity, body["merchant_id"], body.get("store_id"))
    member = member_store.member_by_claim("customer", body["customer_id"])
    if member is None:
        raise Conflict("the member has left the program: refund the money only", code="member_left")
    member = program.with_current_tier(member)
    rules = program.rules()
    totals = PurchaseTotals(
        amount=body["amount"],
        amount_due=body["amount_due"],
        points_earned=body["points_earned"],
        points_redeemed=body["points_redeemed"],
        lines=tuple(
            LineTotals(
                line["sku"], line["qty"], line["price_minor"], line["due"], line["points"], line["redeemed"], done
            )
            for line, done in zip(
                body.get("lines", []), body.get("refunded_qty") or [0] * len(body.get("lines", [])), strict=True
            )
        ),
        refunded_amount=body.get("refunded_amount", 0),
        refunded_money=body.get("refunded_money", 0),
        points_taken_back=body.get("points_taken_back", 0),
        points_returned=body.get("points_returned", 0),
    )
    quote = quote_refund(totals, req.amount, [(i.sku, i.qty) for i in req.items] if req.items else None)

    now = clock()
    redeemed_lots = tuple((str(day), int(n)) for day, n in body.get("redeemed_lots", []))
    points, lots_left = restore(member.points, redeemed_lots, quote.give_back)
    points, _ = take_back(points, quote.take_back)
    complete = quote.refunded_amount_after == totals.amount
    monthly, tier = _visits_and_tier(rules, member, body, quote.money, complete, now)

    # A full refund undoes the sale, so the offers it redeemed go back to the wallet (while they
    # last); a partial one keeps them spent: the rest of the sale still used them.
    given_back = _redeemed_offers(member.customer_id, purchase_id, now) if complete else []
    refund_id = f"ref_{uuid.uuid4().hex[:20]}"
    response = {
        "refund_id": refund_id,
        "purchase_id": purchase_id,
        "customer_id": member.customer_id,
        "at": isoformat(now),
        "amount_refunded": quote.amount,
        "money_refunded": quote.money,
        "points_taken_back": quote.take_back,
        "points_returned": quote.give_back,
        "points_balance": points.balance,
        "points_debt": points.debt,
        "tier": tier,
        "refunded_total": quote.refunded_amount_after,
        "status": "refunded" if complete else "partially_refunded",
        "offers_returned": [entry.offer_id for entry in given_back],
    }
    new_body = {
        **body,
        "refunded_amount": quote.refunded_amount_after,
        "refunded_money": totals.refunded_money + quote.money,
        "points_taken_back": totals.points_taken_back + quote.take_back,
        "points_returned": totals.points_returned + quote.give_back,
        "refunded_qty": list(quote.refunded_qty_after),
        "redeemed_lots": [list(lot) for lot in lots_left],
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
    entries: tuple[LedgerEntry, ...] = ()
    delta = points.balance - member.points_balance
    if delta or points.debt != member.points_debt or quote.take_back or quote.give_back:
        entries = (
            LedgerEntry(
                ledger.new_entry_id(member.revision + 1, 0, now),
                now,
                delta,
                "refund",
                points.balance,
                purchase_id=purchase_id,
                merchant_id=body["merchant_id"],
                store_id=body["store_id"],
                debt_after=points.debt,
                settle_issued=-quote.take_back,
                settle_redeemed=-quote.give_back,
            ),
        )
    return ledger.BalanceChange(
        sub=member.sub,
        customer_id=member.customer_id,
        expected_revision=member.revision,
        points_after=points,
        expiry_due=expiry_due(rules.expiry, None, points, member.expiry_due),
        entries=entries,
        idempotency_key=key,
        request_hash=fingerprint,
        response_status=201,
        response=response,
        at=now,
        visit=ledger.Visit(
            monthly=monthly,
            visits_delta=-1 if complete else 0,
            spend_delta_minor=-quote.money,
        ),
        tier_change=ledger.TierChange(tier, member.tier_review_due if tier != rules.base_tier.name else None, None)
        if tier != member.tier
        else None,
        purchase=ledger.Purchase(
            purchase_id=purchase_id,
            merchant_id=body["merchant_id"],
            store_id=body["store_id"],
            cashier_sub=body.get("cashier_sub", ""),
            currency=rules.currency,
            body=new_body,
            expected_revision=revision,
        ),
        give_back_wallet=tuple(entry.wallet_id for entry in given_back),
    )


def _redeemed_offers(customer_id: str, purchase_id: str, now: datetime) -> list[wallet_store.WalletOffer]:
    """The wallet offers the purchase redeemed that have not expired since."""
    return [
        entry
        for entry in wallet_store.wallet(customer_id)
        if entry.purchase_id == purchase_id and entry.status == "redeemed" and entry.expires_at > now
    ]


def _visits_and_tier(
    rules: ProgramRules, member: Member, body: dict[str, Any], money: int, complete: bool, now: datetime
) -> tuple[dict[str, tuple[int, int]], str]:
    """The monthly totals without what was refunded, and the tier: an upgrade the refunded
    purchase bought is undone if the window no longer reaches it (no buying Gold and returning it)."""
    bought_at = datetime.fromisoformat(body["at"].replace("Z", "+00:00"))
    month = program.month_key(rules, bought_at)
    monthly = dict(member.monthly)
    if month in monthly:
        spend, visits = monthly[month]
        monthly[month] = (max(0, spend - money), max(0, visits - (1 if complete else 0)))
    current = program.month_key(rules, now)
    kept = set(months_back(current, rules.tier_window_months))
    monthly = {k: v for k, v in monthly.items() if k in kept}
    tier = member.tier
    names = [t.name for t in rules.tiers]
    bought_tier = current_tier(rules, body["tier"]) if body.get("tier") else None
    if body.get("tier_upgraded") and bought_tier == member.tier and member.tier in names:
        spend, visits = window_totals(monthly, current, rules.tier_window_months)
        reached = tier_for(rules, spend, visits).name
        before = current_tier(rules, body.get("tier_before", rules.base_tier.name))
        floor = before if before in names else rules.base_tier.name
        if names.index(reached) < names.index(member.tier):
            tier = max(reached, floor, key=names.index)
    return monthly, tier
