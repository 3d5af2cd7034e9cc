"""Check-ins, the wallet of issued offers and the in-app inbox.

``checkins`` (hash ``customer_id``): the member's last check-in (dedup, speed check) and a
per-minute counter (rate limit), one small item per member.
``wallet`` (hash ``customer_id``, range ``wallet_id`` = ``<offer_id>#<n>``, the customer's n-th
issue of the offer): issued offers. Two racing issues of the same n meet the key's condition, so
only one lands; a later legitimate issue has the next n and never collides. (Entries issued before
this key carry ``<offer_id>#<YYYYMMDD[HH]>`` and still count towards n.)
``inbox`` (hash ``customer_id``, range ``message_id``, time-ordered): every message to the member.
A check-in writes its record, the offers it issues, their inbox messages and the offers' budget
counters in one transaction. An offer's items never sink the rest: when only they fail their
conditions, ``OffersRefused`` says which and why, and the caller commits without them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model

from chalicelib.domain.changes import Notice
from chalicelib.domain.offers import Offer
from chalicelib.errors import Conflict, NotFound
from chalicelib.store import catalog
from chalicelib.store.base import BaseMeta, OwnedWrite, owned_transaction, table_name
from chalicelib.store.members import MemberModel


class CheckinModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("checkins")

    customer_id = UnicodeAttribute(hash_key=True)
    checkin_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    store_id = UnicodeAttribute(null=True)
    lon = NumberAttribute(null=True)
    lat = NumberAttribute(null=True)
    wallet_ids = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]
    minute_start = UTCDateTimeAttribute()
    minute_count = NumberAttribute(default=0)
    #: When ``lon``/``lat`` were last known (a check-in that locates nothing keeps them).
    fixed_at = UTCDateTimeAttribute(null=True)


class WalletModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("wallet")

    customer_id = UnicodeAttribute(hash_key=True)
    wallet_id = UnicodeAttribute(range_key=True)
    offer_id = UnicodeAttribute()
    title = UnicodeAttribute()
    reward = JSONAttribute()
    store_id = UnicodeAttribute(null=True)
    merchant_id = UnicodeAttribute(null=True)
    issued_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    status = UnicodeAttribute(default="issued")
    redeemed_at = UTCDateTimeAttribute(null=True)
    purchase_id = UnicodeAttribute(null=True)


class InboxModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("inbox")

    customer_id = UnicodeAttribute(hash_key=True)
    message_id = UnicodeAttribute(range_key=True)
    at = UTCDateTimeAttribute()
    kind = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute(null=True)
    offer_id = UnicodeAttribute(null=True)


@dataclass(frozen=True)
class Checkin:
    checkin_id: str
    at: datetime
    store_id: str | None
    lon: float | None
    lat: float | None
    wallet_ids: tuple[str, ...]
    minute_start: datetime
    minute_count: int
    #: When the position was known; None on records written before it was kept (then ``at``).
    fixed_at: datetime | None = None


@dataclass(frozen=True)
class WalletOffer:
    wallet_id: str
    offer_id: str
    title: str
    reward: dict[str, Any]
    store_id: str | None
    issued_at: datetime
    expires_at: datetime
    status: str
    redeemed_at: datetime | None = None
    purchase_id: str | None = None
    #: Where it can be redeemed: the offer's merchant (a partner's, for a cross-promotion).
    merchant_id: str | None = None


@dataclass(frozen=True)
class Message:
    message_id: str
    at: datetime
    kind: str
    title: str
    body: str | None
    offer_id: str | None


#: Why an offer's items were refused in a transaction.
ALREADY_IN_WALLET = "already_in_wallet"
BUDGET_SPENT = "budget_spent"


@dataclass(frozen=True)
class OfferItem:
    """The owner of an offer's item in a transaction, and what its failed condition means."""

    offer_id: str
    refused_because: str


class OffersRefused(Exception):
    """The transaction failed only on offers' items (a racing issue took the wallet key, or the
    budget is spent): everything else may commit without those offers."""

    def __init__(self, reasons: dict[str, str]) -> None:
        super().__init__(", ".join(f"{offer_id}: {why}" for offer_id, why in sorted(reasons.items())))
        #: offer_id -> why it was refused.
        self.reasons = reasons


def offers_refused(failed: list[object]) -> OffersRefused | None:
    """``OffersRefused`` when every failed condition is an offer's item, else None."""
    if not failed or not all(isinstance(owner, OfferItem) for owner in failed):
        return None
    return OffersRefused({o.offer_id: o.refused_because for o in failed if isinstance(o, OfferItem)})


def last_checkin(customer_id: str) -> Checkin | None:
    try:
        item = CheckinModel.get(customer_id, consistent_read=True)
    except CheckinModel.DoesNotExist:
        return None
    return Checkin(
        item.checkin_id,
        item.at,
        item.store_id,
        float(item.lon) if item.lon is not None else None,
        float(item.lat) if item.lat is not None else None,
        tuple(item.wallet_ids or ()),
        item.minute_start,
        int(item.minute_count),
        item.fixed_at,
    )


def wallet(customer_id: str) -> list[WalletOffer]:
    return [_offer(item) for item in WalletModel.query(customer_id)]


def _offer(item: WalletModel) -> WalletOffer:
    return WalletOffer(
        item.wallet_id,
        item.offer_id,
        item.title,
        item.reward,
        item.store_id,
        item.issued_at,
        item.expires_at,
        item.status,
        item.redeemed_at,
        item.purchase_id,
        item.merchant_id,
    )


#: The owner of the member's condition in a check-in's transaction.
_MEMBER = "member"


def save_checkin(
    sub: str,
    customer_id: str,
    checkin: Checkin,
    previous_at: datetime | None,
    issued: list[tuple[Offer, WalletOffer]],
) -> None:
    """The check-in and what it issues, at once, while the member is still a member (a check-in
    racing the member's leaving must not write a wallet or inbox under the erased id after the
    erasure swept them); ``OffersRefused`` if only offers' items failed (a racing issue or a spent
    budget), ``NotFound(not_a_member)`` if the member left meanwhile, ``Conflict(try_again)`` if
    another check-in of the member got there first."""
    condition = CheckinModel.customer_id.does_not_exist() if previous_at is None else CheckinModel.at == previous_at
    try:
        with owned_transaction() as tx:
            tx.condition_check(MemberModel, sub, MemberModel.customer_id == customer_id, owner=_MEMBER)
            tx.save(
                CheckinModel(
                    customer_id,
                    checkin_id=checkin.checkin_id,
                    at=checkin.at,
                    store_id=checkin.store_id,
                    lon=checkin.lon,
                    lat=checkin.lat,
                    wallet_ids=list(checkin.wallet_ids) or None,
                    minute_start=checkin.minute_start,
                    minute_count=checkin.minute_count,
                    fixed_at=checkin.fixed_at,
                ),
                condition=condition,
            )
            for offer, entry in issued:
                write_issued(tx, customer_id, offer, entry)
    except TransactWriteError as error:
        owners = tx.failed_owners(error)
        if _MEMBER in owners:
            raise NotFound("you are not a member of the program", code="not_a_member") from error
        refused = offers_refused(owners)
        if refused is not None:
            raise refused from error
        raise Conflict("another check-in of yours got there first; try again", code="try_again") from error


def write_issued(tx: OwnedWrite, customer_id: str, offer: Offer, entry: WalletOffer) -> None:
    """In ``tx``: the offer into the wallet (under a key no other issue may hold), its inbox
    message, its budget."""
    tx.save(
        WalletModel(
            customer_id,
            entry.wallet_id,
            offer_id=entry.offer_id,
            title=entry.title,
            reward=entry.reward,
            store_id=entry.store_id,
            merchant_id=entry.merchant_id,
            issued_at=entry.issued_at,
            expires_at=entry.expires_at,
        ),
        condition=WalletModel.wallet_id.does_not_exist(),
        owner=OfferItem(offer.offer_id, ALREADY_IN_WALLET),
    )
    tx.save(
        InboxModel(
            customer_id,
            f"{entry.issued_at:%Y%m%dT%H%M%S.%f}Z#{uuid.uuid4().hex[:8]}",
            at=entry.issued_at,
            kind="offer",
            title=entry.title,
            body=offer.description,
            offer_id=offer.offer_id,
        )
    )
    catalog.count_issue(tx, offer, owner=OfferItem(offer.offer_id, BUDGET_SPENT))


def write_notice(tx: OwnedWrite, customer_id: str, at: datetime, notice: Notice) -> None:
    """In ``tx``: a message to the member's inbox (a greeting, a campaign), under a time-ordered id."""
    tx.save(
        InboxModel(
            customer_id,
            f"{at:%Y%m%dT%H%M%S.%f}Z#{uuid.uuid4().hex[:8]}",
            at=at,
            kind=notice.kind,
            title=notice.title,
            body=notice.body,
            offer_id=notice.offer_id,
        )
    )


def inbox(customer_id: str, limit: int, before: str | None) -> list[Message]:
    """Newest first, ``limit`` of them, older than the message id ``before`` if given."""
    condition = InboxModel.message_id < before if before else None
    return [
        Message(i.message_id, i.at, i.kind, i.title, i.body, i.offer_id)
        for i in InboxModel.query(customer_id, condition, scan_index_forward=False, limit=limit)
    ]
