"""Recording a purchase at the till: earn, redeem, discount and tier, exactly once."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from chalicelib.domain.catalog import Store
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.ledger import LedgerEntry
from chalicelib.domain.members import Member
from chalicelib.domain.offers import ALREADY_REDEEMED, EXPIRED, UNUSABLE
from chalicelib.domain.purchase_record import receipt
from chalicelib.domain.purchases import LineItem, Sale, apply_purchase, record_of
from chalicelib.errors import Conflict, InvalidField, NotFound
from chalicelib.services import cards, cursors, issuing, places, policy, program, promotions, wallet
from chalicelib.services.idempotency import Outcome, exactly_once, request_hash, scoped_key
from chalicelib.store import ledger
from chalicelib.store import members as member_store
from chalicelib.store import wallet as wallet_store

OPERATION = "POST /v1/purchases"


@dataclass(frozen=True)
class PurchaseLine:
    sku: str
    qty: int
    #: The unit price, minor units.
    price: int
    category: str | None = None
    on_sale: bool = False


@dataclass(frozen=True)
class RecordPurchase:
    """One of ``card`` (any code the till reads) and ``customer_id`` names the member."""

    store_id: str
    amount: int
    currency: str
    card: str | None = None
    customer_id: str | None = None
    items: tuple[PurchaseLine, ...] | None = None
    redeem_points: int = 0
    offer_ids: tuple[str, ...] = ()


def record(
    identity: Identity,
    req: RecordPurchase,
    idempotency_key: str | None,
    *,
    clock: Clock,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    key = scoped_key(identity.sub, OPERATION, idempotency_key)
    policy.may_look_up_members(identity)
    holder = _holder(req, clock)
    fingerprint = request_hash(_meaning(req, holder))
    # A member read to find the holder (a QR names the member) serves the first attempt; an
    # attempt after a lost race must read the member again.
    first_read = [holder.member] if holder.member is not None else []
    return exactly_once(
        key, fingerprint, lambda: _prepare(identity, req, holder, first_read, key, fingerprint, clock), sleep=sleep
    )


def _meaning(req: RecordPurchase, holder: cards.Holder) -> dict[str, Any]:
    """What the purchase means, for matching a retry to its first attempt: the member, not the
    code the till read (the app shows a fresh QR every few minutes, and the same card can be
    scanned, typed or said as a phone number)."""
    meaning = {k: v for k, v in dataclasses.asdict(req).items() if k != "card"}
    return {**meaning, "customer_id": holder.customer_id}


def _holder(req: RecordPurchase, clock: Clock) -> cards.Holder:
    """Who the purchase is for. A stale QR still names its card here, so that a retry whose first
    attempt went through replays it; a new purchase with it is refused in :func:`_member`."""
    if req.card is not None:
        return cards.find_holder(req.card, clock=clock, field="card", stale_qr=True)
    if req.customer_id is None:
        raise InvalidField("body", "give exactly one of card and customer_id")
    found = cards.claimed("customer", req.customer_id)
    if found is None:
        raise NotFound("no member has this customer_id", code="customer_not_found", field="customer_id")
    return found


def _prepare(
    identity: Identity,
    req: RecordPurchase,
    holder: cards.Holder,
    first_read: list[Member],
    key: str,
    fingerprint: str,
    clock: Clock,
) -> ledger.MemberChange:
    rules = program.rules()
    store = places.store(req.store_id)
    if store is None:
        raise InvalidField("store_id", "no such store", code="unknown_store")
    policy.may_sell_at(identity, store)
    if req.currency != rules.currency:
        raise InvalidField("currency", f"the program's currency is {rules.currency}", code="currency_mismatch")
    member = _member(req, holder, first_read, clock)
    now = clock()
    items = tuple(LineItem(i.sku, i.qty, i.price, i.category, i.on_sale) for i in (req.items or ()))
    sale = Sale(
        f"pur_{uuid.uuid4().hex[:20]}", store.merchant_id, store.store_id, req.amount, items, req.redeem_points or 0
    )
    redeemed_offers = _wallet_offers(member, req.offer_ids, store, now)
    live = promotions.live(now, store.merchant_id, store.store_id, member.tier)
    decision = apply_purchase(rules, member.standing, sale, live, [e.reward for e in redeemed_offers], now)
    earned_offers = issuing.for_purchase(member, store, (i.category for i in items if i.category), now)
    issued = [wallet.wallet_view(entry, now) for _, entry in earned_offers]
    offers_redeemed = tuple(entry.offer_id for entry in redeemed_offers)
    record = record_of(member.customer_id, sale, decision, rules.currency, offers_redeemed, tuple(issued), now)
    response = dict(receipt(record))
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
        redeem_wallet=tuple(entry.wallet_id for entry in redeemed_offers),
        issue_offers=tuple(earned_offers),
        purchase=ledger.Purchase(record, cashier_sub=identity.sub),
    )


def _wallet_offers(
    member: Member, offer_ids: Sequence[str], store: Store, now: datetime
) -> list[wallet_store.WalletOffer]:
    """The wallet entries to redeem: each offer once, issued to this customer, unexpired, and at a
    store of the merchant that issued it (the till's card lookup shows them by the same rule).
    Read from the live part of the wallet; why an offer cannot be redeemed (used, expired, never
    issued) may lie in entries no longer live, so a refusal is decided on the whole wallet."""
    if not offer_ids:
        return []
    try:
        return _redeemable(wallet.live_entries(member, now, offer_ids), offer_ids, store, now)
    except (InvalidField, Conflict):
        return _redeemable(wallet_store.wallet(member.customer_id), offer_ids, store, now)


def _redeemable(
    entries: list[wallet_store.WalletOffer], offer_ids: Sequence[str], store: Store, now: datetime
) -> list[wallet_store.WalletOffer]:
    held = sorted(entries, key=lambda e: e.issued_at)
    chosen = []
    for n, offer_id in enumerate(offer_ids):
        field = f"offer_ids.{n}"
        if offer_id in offer_ids[:n]:
            raise InvalidField(field, "the same offer twice", code="duplicate_offer")
        mine = [e for e in held if e.offer_id == offer_id]
        if not mine:
            raise InvalidField(field, "not an offer in this customer's wallet", code="unknown_offer")
        reasons = [wallet.unusable_because(e, store.merchant_id, now) for e in mine]
        usable = [e for e, why in zip(mine, reasons, strict=True) if why is None]
        if not usable:
            # The reason of the entry closest to usable: a live one at the wrong merchant says
            # more than an expired one, which says more than one already redeemed.
            why = max((r for r in reasons if r is not None), key=UNUSABLE.index)
            if why == ALREADY_REDEEMED:
                raise Conflict("this offer has already been redeemed", code=why, field=field)
            if why == EXPIRED:
                raise InvalidField(field, "the offer has expired", code=why)
            raise InvalidField(field, "the offer is for another merchant's stores", code=why)
        entry = usable[0]
        chosen.append(entry)
    return chosen


def _member(req: RecordPurchase, holder: cards.Holder, first_read: list[Member], clock: Clock) -> Member:
    if req.card is not None:
        cards.check_fresh(req.card, clock=clock, field="card")
        member = first_read.pop() if first_read else cards.member_of(holder, "card")
    else:
        member = first_read.pop() if first_read else cards.member_of(holder, "customer_id", code="customer_not_found")
    return program.with_current_tier(member)


class LedgerEntryView(TypedDict):
    entry_id: str
    at: str
    points: int
    reason: str
    balance_after: int
    purchase_id: str | None
    merchant_id: str | None
    store_id: str | None
    debt_after: int | None
    note: str | None
    feedback_id: str | None


class LedgerPage(TypedDict):
    items: list[LedgerEntryView]
    next_cursor: str | None


def ledger_page(identity: Identity, limit: int, cursor: str | None) -> LedgerPage:
    member = member_store.get_member(identity.sub)
    if member is None:
        raise NotFound("you are not a member of the program yet: POST /v1/me to join", code="not_a_member")
    page, last = ledger.entries(member.customer_id, limit, cursors.position(identity, "ledger", cursor))
    return {"items": [entry_view(e) for e in page], "next_cursor": cursors.next_cursor(identity, "ledger", last)}


def entry_view(e: LedgerEntry) -> LedgerEntryView:
    return {
        "entry_id": e.entry_id,
        "at": isoformat(e.at),
        "points": e.points,
        "reason": e.reason,
        "balance_after": e.balance_after,
        "purchase_id": e.purchase_id,
        "merchant_id": e.merchant_id,
        "store_id": e.store_id,
        "debt_after": e.debt_after,
        "note": e.note,
        "feedback_id": e.feedback_id,
    }
