"""Recording a purchase at the till: earn, redeem, discount and tier, exactly once."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from typing import Any

from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity, Role
from chalicelib.domain.ledger import entries_for_purchase
from chalicelib.domain.members import Member
from chalicelib.domain.program import months_back, window_totals
from chalicelib.domain.purchases import LineItem, MemberState, PurchaseRejected, quote_purchase
from chalicelib.errors import Conflict, Forbidden, InvalidField, LoyaltyError, NotFound
from chalicelib.services import cards, places, program, promotions
from chalicelib.services.idempotency import Outcome, replay, request_hash, scoped_key
from chalicelib.store import ledger
from chalicelib.store import members as member_store

#: Attempts when another transaction on the same card wins the race (jittered backoff between).
MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 0.01
BACKOFF_CAP_S = 0.2
OPERATION = "POST /v1/purchases"


def record(
    identity: Identity,
    req: Any,
    idempotency_key: str | None,
    *,
    clock: Clock,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    key = scoped_key(identity.sub, OPERATION, idempotency_key)
    fingerprint = request_hash(req.model_dump(mode="json"))
    for attempt in range(MAX_ATTEMPTS):
        try:
            change = _prepare(identity, req, key, fingerprint, clock)
        except LoyaltyError:
            # A retry whose first attempt succeeded must get that answer, even if the state it
            # changed would now refuse the same request (the points it redeemed are spent).
            earlier = replay(key, fingerprint)
            if earlier is not None:
                return earlier
            raise
        try:
            ledger.apply(change)
        except ledger.KeyAlreadyUsed:
            earlier = replay(key, fingerprint)
            if earlier is not None:
                return earlier
        except ledger.StaleRead:
            pass
        else:
            return Outcome(change.response_status, change.response)
        sleep(random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)))  # noqa: S311 - jitter
    raise Conflict("the card is busy with another transaction; try again", code="card_busy", retryable=True)


def _prepare(identity: Identity, req: Any, key: str, fingerprint: str, clock: Clock) -> ledger.BalanceChange:
    rules = program.rules()
    store = places.store(req.store_id)
    if store is None:
        raise InvalidField("store_id", "no such store", code="unknown_store")
    if Role.ADMIN not in identity.roles and store.merchant_id != identity.merchant_id:
        raise Forbidden("you can record purchases only at your merchant's stores", code="wrong_merchant")
    if req.currency != rules.currency:
        raise InvalidField("currency", f"the program's currency is {rules.currency}", code="currency_mismatch")
    member = _member(req, clock)
    now = clock()
    month = program.month_key(rules, now)
    spend, visits = window_totals(member.monthly, month, rules.tier_window_months)
    state = MemberState(
        balance=member.points_balance,
        tier=member.tier,
        visits_this_month=member.visits_in_month(month),
        spend_in_window_minor=spend,
        visits_in_window=visits,
    )
    items = tuple(LineItem(i.sku, i.qty, i.price, i.category, i.on_sale) for i in (req.items or ()))
    try:
        quote = quote_purchase(
            rules,
            state,
            req.amount,
            items,
            req.redeem_points or 0,
            promotions.live(now, store.merchant_id, store.store_id, member.tier),
        )
    except PurchaseRejected as exc:
        raise InvalidField(exc.field, str(exc), code=exc.code) from None

    purchase_id = f"pur_{uuid.uuid4().hex[:20]}"
    response = {
        "purchase_id": purchase_id,
        "customer_id": member.customer_id,
        "store_id": store.store_id,
        "merchant_id": store.merchant_id,
        "at": isoformat(now),
        "amount": quote.amount,
        "currency": rules.currency,
        "discount_percent": quote.discount_percent,
        "discount": quote.discount,
        "points_redeemed": quote.points_redeemed,
        "redeemed_value": quote.redeemed_value,
        "amount_due": quote.amount_due,
        "points_earned": quote.points_earned,
        "earn_multiplier_percent": quote.earn_multiplier_percent,
        "promotion_ids": list(quote.promotion_ids),
        "points_balance": quote.balance_after,
        "tier": quote.tier_after,
        "tier_upgraded": quote.tier_after != quote.tier_before,
    }
    monthly = dict(member.monthly)
    month_spend, month_visits = monthly.get(month, (0, 0))
    monthly[month] = (month_spend + quote.amount_due, month_visits + 1)
    kept = set(months_back(month, rules.tier_window_months))
    return ledger.BalanceChange(
        sub=member.sub,
        customer_id=member.customer_id,
        expected_revision=member.revision,
        points_delta=quote.points_earned - quote.points_redeemed,
        points_spent=quote.points_redeemed,
        entries=entries_for_purchase(
            entry_ids=(ledger.new_entry_id(now, 0), ledger.new_entry_id(now, 1)),
            at=now,
            balance_before=member.points_balance,
            points_redeemed=quote.points_redeemed,
            points_earned=quote.points_earned,
            purchase_id=purchase_id,
            merchant_id=store.merchant_id,
            store_id=store.store_id,
        ),
        idempotency_key=key,
        request_hash=fingerprint,
        response_status=201,
        response=response,
        at=now,
        visit=ledger.Visit(
            monthly={k: v for k, v in monthly.items() if k in kept},
            spend_minor=quote.amount_due,
            tier=quote.tier_after,
        ),
        purchase=ledger.Purchase(
            purchase_id=purchase_id,
            merchant_id=store.merchant_id,
            store_id=store.store_id,
            cashier_sub=identity.sub,
            currency=rules.currency,
            body={**response, "items": [vars(i) for i in items]},
        ),
    )


def _member(req: Any, clock: Clock) -> Member:
    if req.card is not None:
        return cards.find_member(req.card, clock=clock)
    found = member_store.member_by_claim("customer", req.customer_id)
    if found is None:
        raise NotFound("no member has this customer_id", code="customer_not_found")
    return found


def ledger_page(identity: Identity, limit: int, cursor: str | None) -> dict[str, Any]:
    member = member_store.get_member(identity.sub)
    if member is None:
        raise NotFound("you are not a member of the program yet: POST /v1/me to join", code="not_a_member")
    page, next_cursor = ledger.entries(member.customer_id, limit, cursor)
    return {
        "items": [
            {
                "entry_id": e.entry_id,
                "at": isoformat(e.at),
                "points": e.points,
                "reason": e.reason,
                "balance_after": e.balance_after,
                "purchase_id": e.purchase_id,
                "merchant_id": e.merchant_id,
                "store_id": e.store_id,
            }
            for e in page
        ],
        "next_cursor": next_cursor,
    }
