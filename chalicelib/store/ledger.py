"""Points: the ledger, purchases and idempotency records, written together or not at all.

``ledger`` (hash ``customer_id``, range ``entry_id``)
    Append-only. ``entry_id`` starts with the member's revision after the change (see
    :func:`new_entry_id`), so a Query with ``ScanIndexForward`` false is the member's history
    newest first; entries are never updated or deleted.
``purchases`` (hash ``purchase_id``)
    What the till recorded and what it came to; each refund updates its refunded totals,
    conditioned on the purchase's ``revision``.
``idempotency`` (hash ``key``, TTL ``expires_at``)
    The first response to a key (status and body) and the hash of its request, saved in the same
    transaction as the effect, so a retry either finds it and replays it or does the work once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.domain.changes import PointsAfter, TierChange, Visit
from chalicelib.domain.clock import isoformat
from chalicelib.domain.contact import Contact
from chalicelib.domain.ledger import LedgerEntry
from chalicelib.domain.members import Member
from chalicelib.domain.offers import Offer
from chalicelib.domain.purchase_record import RecordedLine, RecordedPurchase, RefundMade, receipt
from chalicelib.store import compensations
from chalicelib.store import features as features_store
from chalicelib.store.base import BaseMeta, OwnedWrite, owned_transaction, table_name
from chalicelib.store.compensations import CompensationWrite
from chalicelib.store.issued import record_issues, write_issued, write_notice
from chalicelib.store.members import MemberModel
from chalicelib.store.wallet import WalletModel, WalletOffer, offers_refused

IDEMPOTENCY_TTL = timedelta(hours=24)


class LedgerEntryModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("ledger")
        #: New entries flow to the report counters (streams), never recomputed by scans.
        stream_view_type = "NEW_IMAGE"

    customer_id = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)
    at = UTCDateTimeAttribute()
    points = NumberAttribute()
    reason = UnicodeAttribute()
    balance_after = NumberAttribute()
    purchase_id = UnicodeAttribute(null=True)
    merchant_id = UnicodeAttribute(null=True)
    store_id = UnicodeAttribute(null=True)
    debt_after = NumberAttribute(null=True)
    settle_issued = NumberAttribute(default=0)
    settle_redeemed = NumberAttribute(default=0)
    granted_by = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    feedback_id = UnicodeAttribute(null=True)


class PurchaseModel(Model):
    class Meta(BaseMeta):
        #: Each purchase and each refund of it flow to the sales counters (``sales.py``).
        stream_view_type = "NEW_AND_OLD_IMAGES"
        table_name = table_name("purchases")

    purchase_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    store_id = UnicodeAttribute()
    cashier_sub = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    currency = UnicodeAttribute()
    body = JSONAttribute()
    revision = NumberAttribute(default=0)


class IdempotencyModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("idempotency")

    key = UnicodeAttribute(hash_key=True)
    request_hash = UnicodeAttribute()
    status_code = NumberAttribute()
    response = JSONAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


@dataclass(frozen=True)
class StoredResponse:
    request_hash: str
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Purchase:
    record: RecordedPurchase
    #: Who rang it up (kept beside the record, never rewritten by a refund).
    cashier_sub: str = ""
    #: None: a new purchase; otherwise the revision read (a refund updates it).
    expected_revision: int | None = None


@dataclass(frozen=True)
class MemberChange:
    """One change of a member, committed exactly once: the idempotency record, the member
    conditioned on the revision it was read at (and on still being this customer), and any of
    the points with their ledger entries, a visit, a tier change, the purchase, wallet entries
    redeemed, given back or issued with their inbox messages and budget counters, and a message
    the contact policy let through (``contact``: built only by ``services/issuing.message``).

    The idempotency key says what "once" means. A request's is scoped to its caller and its
    Idempotency-Key header; a job's names the job, the member and the day; a message's names its
    contact key and the member (``issuing.contact_idempotency_key`` of ``contact.campaign_key``
    or ``contact.birthday_key``), and the member's features remember the contact key for
    ``contact.KEY_MEMORY`` besides, in the same transaction.

    A change that moves none of the member's own state (a message, an offer alone) does not
    update the member item: it only checks that the member is still this customer (and, for
    marketing, still consents). A till that read the member before it stays current, so its
    commit does not fail on a stale revision; only two transactions in flight on the member at
    the same instant can still cancel one (DynamoDB's transaction conflict), and that one retries.
    """

    member: Member
    idempotency_key: str
    request_hash: str
    at: datetime
    response: dict[str, Any]
    response_status: int = 200
    #: How long a retry replays the response (and so how long the change cannot happen again).
    remember_for: timedelta = IDEMPOTENCY_TTL
    #: None leaves the points (and their expiry) as they are.
    points: PointsAfter | None = None
    visit: Visit | None = None
    tier_change: TierChange | None = None
    purchase: Purchase | None = None
    #: Wallet entries this purchase redeems: each only if still issued (single use).
    redeem_wallet: tuple[str, ...] = ()
    #: Wallet entries a full refund of ``purchase`` gives back: each only if that purchase still
    #: holds it redeemed, so no replay or second refund gives it back twice.
    give_back_wallet: tuple[str, ...] = ()
    #: Offers this change issues (a partner's cross-promotion), into the wallet with their inbox
    #: message and budget; the response (and the purchase's body) list them under ``offers_issued``.
    issue_offers: tuple[tuple[Offer, WalletOffer], ...] = ()
    #: A message to the member's inbox with the features it updates (last contact, the cap).
    contact: Contact | None = None
    #: Amends the change grants: the compensation's record and the granting staff's day total.
    compensation: CompensationWrite | None = None

    def offers_issued(self) -> tuple[tuple[Offer, WalletOffer], ...]:
        """Every offer the change issues: its own and its message's."""
        return self.issue_offers + (self.contact.offers if self.contact is not None else ())

    @property
    def moves_member(self) -> bool:
        """Whether the member item itself changes (and so is conditioned on its revision)."""
        parts = (self.points, self.visit, self.tier_change, self.purchase)
        return any(part is not None for part in parts) or bool(self.redeem_wallet or self.give_back_wallet)

    def entries(self) -> tuple[LedgerEntry, ...]:
        """The postings numbered after the member's revision once this change commits."""
        postings = self.points.postings if self.points is not None else ()
        revision = self.member.revision + 1
        return tuple(p.numbered(new_entry_id(revision, seq, p.at)) for seq, p in enumerate(postings))


class KeyAlreadyUsed(Exception):
    """The idempotency key has a saved response: replay it (or refuse a different body)."""


#: The owner of the idempotency record's item in the transaction.
_IDEMPOTENCY = "idempotency"


class StaleRead(Exception):
    """The member changed since it was read, or the transaction met another: read again and retry."""


def new_entry_id(revision: int, seq: int, at: datetime) -> str:
    """Sorts in the order the changes were applied: by the member's revision after the change
    (strictly increasing, every member change is conditioned on it), then ``seq`` within one
    change. Clocks of different Lambdas may disagree; the revision cannot."""
    return f"{revision:012d}.{seq}.{at:%Y%m%dT%H%M%S}Z"


def apply(change: MemberChange) -> None:
    """Commit the change in one DynamoDB transaction: nothing of it, or all of it exactly once.
    The member update is conditioned on the revision that was read, so a change decided on a
    stale read never lands (``StaleRead``: read again and decide again); ``KeyAlreadyUsed`` when
    the key committed before. ``OffersRefused`` when only the items of offers it issues failed:
    the caller commits without them rather than refusing the change.
    """
    after = change.points.points if change.points is not None else None
    if after is not None and (after.balance < 0 or sum(n for _, n in after.lots) != after.balance):
        raise ValueError("a balance must be the sum of its lots and never negative")
    customer_id = change.member.customer_id
    still_this_customer = MemberModel.customer_id == customer_id
    if change.contact is not None and change.contact.marketing:
        still_this_customer &= MemberModel.marketing_consent == True  # noqa: E712 - a condition, not a test
    try:
        with owned_transaction() as tx:
            tx.save(
                IdempotencyModel(
                    change.idempotency_key,
                    request_hash=change.request_hash,
                    status_code=change.response_status,
                    response=change.response,
                    created_at=change.at,
                    expires_at=change.at + change.remember_for,
                ),
                condition=IdempotencyModel.key.does_not_exist(),
                owner=_IDEMPOTENCY,
            )
            if change.moves_member:
                tx.update(
                    MemberModel(change.member.sub),
                    actions=_member_actions(change),
                    condition=(MemberModel.revision == change.member.revision) & still_this_customer,
                )
            else:
                tx.condition_check(MemberModel, change.member.sub, still_this_customer)
            for entry in change.entries():
                tx.save(
                    LedgerEntryModel(
                        customer_id,
                        entry.entry_id,
                        at=entry.at,
                        points=entry.points,
                        reason=entry.reason,
                        balance_after=entry.balance_after,
                        purchase_id=entry.purchase_id,
                        merchant_id=entry.merchant_id,
                        store_id=entry.store_id,
                        debt_after=entry.debt_after,
                        settle_issued=entry.settle_issued,
                        settle_redeemed=entry.settle_redeemed,
                        granted_by=entry.granted_by,
                        note=entry.note,
                        feedback_id=entry.feedback_id,
                    ),
                    condition=LedgerEntryModel.entry_id.does_not_exist(),
                )
            if change.purchase is not None:
                _write_purchase(tx, customer_id, change.purchase, change.at)
            for offer, wallet_entry in change.offers_issued():
                write_issued(tx, customer_id, offer, wallet_entry)
            record_issues(tx, change.member.sub, customer_id, [entry for _, entry in change.offers_issued()])
            if change.contact is not None:
                write_notice(
                    tx, customer_id, change.at, change.contact.notice, change.contact.key, change.contact.push_after
                )
                features_store.write_contact(tx, change.contact.features, change.at)
            for wallet_id in change.redeem_wallet:
                tx.update(
                    WalletModel(customer_id, wallet_id),
                    actions=[
                        WalletModel.status.set("redeemed"),
                        WalletModel.redeemed_at.set(change.at),
                        WalletModel.purchase_id.set(change.purchase.record.purchase_id if change.purchase else ""),
                    ],
                    condition=WalletModel.status == "issued",
                )
            if change.compensation is not None:
                compensations.write(tx, change.compensation, change.at)
            for wallet_id in change.give_back_wallet:
                tx.update(
                    WalletModel(customer_id, wallet_id),
                    actions=[
                        WalletModel.status.set("issued"),
                        WalletModel.redeemed_at.remove(),
                        WalletModel.purchase_id.remove(),
                    ],
                    condition=(WalletModel.status == "redeemed")
                    & (WalletModel.purchase_id == (change.purchase.record.purchase_id if change.purchase else "")),
                )
    except TransactWriteError as error:
        failed = tx.failed_owners(error)
        if _IDEMPOTENCY in failed:
            raise KeyAlreadyUsed from error
        if compensations.DAILY_LIMIT in failed:
            raise compensations.OverDailyLimit from error
        if compensations.STILL_PENDING in failed:
            raise compensations.NotPending from error
        refused = offers_refused(failed)
        if refused is not None:
            raise refused from error
        if error.cause_response_code in ("TransactionCanceledException", "TransactionConflictException"):
            raise StaleRead from error
        raise


def _write_purchase(tx: OwnedWrite, customer_id: str, p: Purchase, at: datetime) -> None:
    record = p.record
    if p.expected_revision is None:
        tx.save(
            PurchaseModel(
                record.purchase_id,
                customer_id=customer_id,
                merchant_id=record.merchant_id,
                store_id=record.store_id,
                cashier_sub=p.cashier_sub,
                at=at,
                currency=record.currency,
                body=purchase_body(record),
                revision=0,
            ),
            condition=PurchaseModel.purchase_id.does_not_exist(),
        )
    else:
        tx.update(
            PurchaseModel(record.purchase_id),
            actions=[PurchaseModel.body.set(purchase_body(record)), PurchaseModel.revision.add(1)],
            condition=PurchaseModel.revision == p.expected_revision,
        )


def purchase_body(record: RecordedPurchase) -> dict[str, Any]:
    """The record as the purchase item's JSON ``body``: the till's receipt under its own keys, then
    what refunds need. The layout is the one purchases have always been written in, so that items of
    either age read alike (and the member's export shows it as stored)."""
    return {
        **receipt(record),
        "tier_before": record.tier_before,
        "redeemed_lots": [list(lot) for lot in record.redeemed_lots],
        "lines": [
            {
                "sku": line.sku,
                "qty": line.qty,
                "price_minor": line.price_minor,
                "category": line.category,
                "on_sale": line.on_sale,
                "due": line.due,
                "points": line.points,
                "redeemed": line.redeemed,
            }
            for line in record.lines
        ],
        "refunded_amount": record.refunded_amount,
        "refunded_money": record.refunded_money,
        "points_taken_back": record.points_taken_back,
        "points_returned": record.points_returned,
        "refunded_qty": [line.refunded_qty for line in record.lines],
        "status": record.status,
        "refunds": [
            {
                "refund_id": refund.refund_id,
                "at": isoformat(refund.at),
                "amount_refunded": refund.amount_refunded,
                "money_refunded": refund.money_refunded,
                "points_taken_back": refund.points_taken_back,
                "points_returned": refund.points_returned,
            }
            for refund in record.refunds
        ],
    }


def recorded_purchase(body: Mapping[str, Any]) -> RecordedPurchase:
    """The record from a purchase item's ``body``, of any age: the lines, the tier before, the
    redeemed lots and the refund totals are absent on the oldest, and the refund totals on every
    purchase not refunded before this layout was typed."""
    lines = body.get("lines") or []
    refunded_qty = body.get("refunded_qty") or [0] * len(lines)
    return RecordedPurchase(
        purchase_id=body["purchase_id"],
        customer_id=body["customer_id"],
        store_id=body["store_id"],
        merchant_id=body["merchant_id"],
        at=_moment(body["at"]),
        amount=int(body["amount"]),
        currency=body["currency"],
        discount_percent=int(body["discount_percent"]),
        discount=int(body["discount"]),
        points_redeemed=int(body["points_redeemed"]),
        redeemed_value=int(body["redeemed_value"]),
        amount_due=int(body["amount_due"]),
        points_earned=int(body["points_earned"]),
        earn_multiplier_percent=int(body["earn_multiplier_percent"]),
        promotion_ids=tuple(body.get("promotion_ids") or ()),
        offers_redeemed=tuple(body.get("offers_redeemed") or ()),
        offers_issued=tuple(body.get("offers_issued") or ()),
        offer_discount=int(body.get("offer_discount", 0)),
        points_debt_repaid=int(body.get("points_debt_repaid", 0)),
        points_balance=int(body["points_balance"]),
        tier=body["tier"],
        tier_upgraded=bool(body.get("tier_upgraded")),
        tier_before=body.get("tier_before"),
        redeemed_lots=tuple((str(month), int(n)) for month, n in body.get("redeemed_lots") or ()),
        lines=tuple(
            RecordedLine(
                sku=line["sku"],
                qty=int(line["qty"]),
                price_minor=int(line["price_minor"]),
                category=line.get("category"),
                on_sale=bool(line.get("on_sale")),
                due=int(line["due"]),
                points=int(line["points"]),
                redeemed=int(line["redeemed"]),
                refunded_qty=int(done),
            )
            for line, done in zip(lines, refunded_qty, strict=True)
        ),
        refunded_amount=int(body.get("refunded_amount", 0)),
        refunded_money=int(body.get("refunded_money", 0)),
        points_taken_back=int(body.get("points_taken_back", 0)),
        points_returned=int(body.get("points_returned", 0)),
        status=body.get("status"),
        refunds=tuple(
            RefundMade(
                refund_id=refund["refund_id"],
                at=_moment(refund["at"]),
                amount_refunded=int(refund["amount_refunded"]),
                money_refunded=int(refund["money_refunded"]),
                points_taken_back=int(refund["points_taken_back"]),
                points_returned=int(refund["points_returned"]),
            )
            for refund in body.get("refunds") or ()
        ),
    )


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _member_actions(change: MemberChange) -> list[Action]:
    actions: list[Action] = [MemberModel.revision.add(1), MemberModel.updated_at.set(change.at)]
    if change.points is not None:
        actions += _points_actions(change.points)
    visit = change.visit
    if visit is not None:
        actions += [
            MemberModel.monthly.set({k: list(v) for k, v in visit.monthly.items()}),
            MemberModel.visits_total.add(visit.visits_delta),
            MemberModel.spend_total_minor.add(visit.spend_delta_minor),
        ]
        if visit.visited_at is not None:
            actions.append(MemberModel.last_visit_at.set(visit.visited_at))
        if visit.category_counts is not None:
            actions.append(MemberModel.category_counts.set(visit.category_counts))
    change_tier = change.tier_change
    if change_tier is not None:
        actions.append(MemberModel.tier.set(change_tier.tier))
        if change_tier.review_due is None:
            actions += [MemberModel.review_month.remove(), MemberModel.tier_review_due.remove()]
        else:
            actions += [
                MemberModel.review_month.set(change_tier.review_due[:7]),
                MemberModel.tier_review_due.set(change_tier.review_due),
            ]
        actions.append(
            MemberModel.tier_grace_until.set(change_tier.grace_until)
            if change_tier.grace_until
            else MemberModel.tier_grace_until.remove()
        )
    return actions


def _points_actions(change: PointsAfter) -> list[Action]:
    after = change.points
    actions: list[Action] = [
        MemberModel.points_balance.set(after.balance),
        MemberModel.points_debt.set(after.debt),
        MemberModel.lots.set([list(lot) for lot in after.lots]) if after.lots else MemberModel.lots.remove(),
    ]
    due = change.expiry_due if after.balance else None
    if due is None:
        actions += [MemberModel.expiry_month.remove(), MemberModel.expiry_due.remove()]
    else:
        actions += [MemberModel.expiry_month.set(due[:7]), MemberModel.expiry_due.set(due)]
    return actions


def stored_response(key: str) -> StoredResponse | None:
    try:
        record = IdempotencyModel.get(key, consistent_read=True)
    except IdempotencyModel.DoesNotExist:
        return None
    return StoredResponse(record.request_hash, int(record.status_code), record.response)


def entries(customer_id: str, limit: int, after: str | None) -> tuple[list[LedgerEntry], str | None]:
    """A page of the member's ledger, newest first, older than the entry ``after``; and the id
    the next page starts after (None on the last page)."""
    start = {"customer_id": {"S": customer_id}, "entry_id": {"S": after}} if after else None
    result = LedgerEntryModel.query(
        customer_id, scan_index_forward=False, limit=limit, last_evaluated_key=start, page_size=limit
    )
    page = [
        LedgerEntry(
            entry_id=item.entry_id,
            at=item.at,
            points=int(item.points),
            reason=item.reason,
            balance_after=int(item.balance_after),
            purchase_id=item.purchase_id,
            merchant_id=item.merchant_id,
            store_id=item.store_id,
            debt_after=int(item.debt_after) if item.debt_after is not None else None,
            granted_by=item.granted_by,
            note=item.note,
            feedback_id=item.feedback_id,
        )
        for item in result
    ]
    more = result.last_evaluated_key is not None and len(page) == limit
    return page, page[-1].entry_id if more else None


def any_purchase() -> bool:
    """Whether any purchase was ever recorded. A Scan, but of one item: DynamoDB stops at the
    Limit, so it reads one item however many purchases there are (asked on a rules change only)."""
    return next(iter(PurchaseModel.scan(limit=1, page_size=1)), None) is not None


def get_purchase(purchase_id: str) -> tuple[RecordedPurchase, int] | None:
    """The purchase as recorded and its revision, or None."""
    try:
        item = PurchaseModel.get(purchase_id, consistent_read=True)
    except PurchaseModel.DoesNotExist:
        return None
    return recorded_purchase(item.body), int(item.revision)


def purchase_from_image(image: Mapping[str, Any]) -> tuple[RecordedPurchase, int]:
    """A purchase item from a stream record's image: the record and its revision."""
    item = PurchaseModel.from_raw_data(dict(image))
    return recorded_purchase(item.body), int(item.revision or 0)
