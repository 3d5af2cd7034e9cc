"""Check-ins, the wallet of issued offers and the in-app inbox.

``checkins`` (hash ``customer_id``): the last check-in as it was kept before the member's
``activity`` item (``store/activity.py``), which holds it now; read once to build that item, never
written any more.
``wallet`` (hash ``customer_id``, range ``wallet_id`` = ``<offer_id>#<n>``, the customer's n-th
issue of the offer): issued offers. Two racing issues of the same n meet the key's condition, so
only one lands; a later legitimate issue has the next n and never collides. (Entries issued before
this key carry ``<offer_id>#<YYYYMMDD[HH]>`` and still count towards n.) ``purge_at`` (TTL) lets an
entry leave the table ``domain.wallet.RETENTION`` after it expired (the activity item keeps
the counts that offers' limits need).
``inbox`` (hash ``customer_id``, range ``message_id``, time-ordered): every message to the member.
Only ``store/issued.py`` writes wallet entries and inbox messages (into a check-in's or a member
change's transaction), and only ``services/issuing.py`` calls it. An offer's items never sink the
rest: when only they fail their conditions, ``OffersRefused`` says which and why, and the caller
commits without them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from chalicelib.domain.activity import Activity, History
from chalicelib.domain.checkins import Checkin as Checkin
from chalicelib.domain.wallet import Message as Message
from chalicelib.domain.wallet import WalletOffer as WalletOffer
from chalicelib.store.base import BaseMeta, condition_failed, table_name


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


class ActivityModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("activity")

    sub = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    #: The last check-in (absent until the member's first).
    checkin_id = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute(null=True)
    store_id = UnicodeAttribute(null=True)
    lon = NumberAttribute(null=True)
    lat = NumberAttribute(null=True)
    wallet_ids = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]
    minute_start = UTCDateTimeAttribute(null=True)
    minute_count = NumberAttribute(null=True)
    fixed_at = UTCDateTimeAttribute(null=True)
    #: offer_id -> {"n": times issued, "at": the last time}: written path by path (an issue sets
    #: its offer's entry), so a check-in and a purchase issuing at once never overwrite each other.
    history: MapAttribute[str, Any] = MapAttribute(default=dict)  # type: ignore[no-untyped-call]
    #: wallet_id -> its expiry, for every entry issued and not yet expired (redeemed ones too, until
    #: they expire: a refund may give one back); the next check-in drops the expired.
    live: MapAttribute[str, Any] = MapAttribute(default=dict)  # type: ignore[no-untyped-call]


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
    #: When DynamoDB's TTL deletes the entry (absent on entries issued before it was kept).
    purge_at = TTLAttribute(null=True)


class InboxModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("inbox")
        #: The inbox is the outbox: a new message to push goes from this stream to the push queue.
        stream_view_type = "NEW_IMAGE"

    customer_id = UnicodeAttribute(hash_key=True)
    message_id = UnicodeAttribute(range_key=True)
    at = UTCDateTimeAttribute()
    kind = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute(null=True)
    offer_id = UnicodeAttribute(null=True)
    #: Pushed to the member's devices: every message the issuing service sends, not the lines of
    #: the offers a check-in answers with (the member is looking at them in the app).
    push = BooleanAttribute(null=True)
    #: Not pushed before this: the end of the member's quiet hours when the message was decided.
    push_after = UTCDateTimeAttribute(null=True)
    #: ``sending`` (claimed by a consumer at ``push_claimed_at``), ``sent``, ``no_device``,
    #: ``dead_letter``, or ``replay`` (an admin sent a dead letter back); absent: not yet tried.
    push_state = UnicodeAttribute(null=True)
    push_claimed_at = UTCDateTimeAttribute(null=True)
    pushed_at = UTCDateTimeAttribute(null=True)
    #: When the app reported the member opened it (the campaign funnel's "opened").
    read_at = UTCDateTimeAttribute(null=True)
    #: The contact key the message was sent under (``campaign#<id>#<run>``, ``birthday#<year>``):
    #: an open is counted for what sent it.
    contact_key = UnicodeAttribute(null=True)


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


def wallet(customer_id: str, *, consistent: bool = False) -> list[WalletOffer]:
    """Every entry the member holds, redeemed and expired too (the customer's own history)."""
    return [_offer(item) for item in WalletModel.query(customer_id, consistent_read=consistent)]


def entries(customer_id: str, wallet_ids: Iterable[str]) -> list[WalletOffer]:
    """The member's entries under exactly these keys (those that exist), in one request per 100
    keys and none for no keys: what a reader of the live wallet reads instead of all of it."""
    keys = [(customer_id, wallet_id) for wallet_id in dict.fromkeys(wallet_ids)]
    if not keys:
        return []
    return [_offer(item) for item in WalletModel.batch_get(keys, consistent_read=True)]


def activity_item(sub: str, customer_id: str, kept: Activity | None = None) -> ActivityModel:
    """The activity item holding ``kept`` (None: a new member's, no check-in and nothing issued)."""
    kept = kept or Activity(None)
    last = kept.last_checkin
    return ActivityModel(
        sub,
        customer_id=customer_id,
        checkin_id=last.checkin_id if last else None,
        at=last.at if last else None,
        store_id=last.store_id if last else None,
        lon=last.lon if last else None,
        lat=last.lat if last else None,
        wallet_ids=(list(last.wallet_ids) or None) if last else None,
        minute_start=last.minute_start if last else None,
        minute_count=last.minute_count if last else None,
        fixed_at=last.fixed_at if last else None,
        history=history_map(kept.history),
        live={wallet_id: expires.isoformat() for wallet_id, expires in kept.live.items()},
    )


def history_map(history: History) -> dict[str, dict[str, Any]]:
    return {offer_id: history_entry(n, at) for offer_id, (n, at) in history.items()}


def history_entry(n: int, at: datetime) -> dict[str, Any]:
    """An offer's issue history as the item keeps it: times issued and the last time."""
    return {"n": n, "at": at.isoformat()}


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


def inbox(customer_id: str, limit: int, before: str | None) -> list[Message]:
    """Newest first, ``limit`` of them, older than the message id ``before`` if given."""
    condition = InboxModel.message_id < before if before else None
    return [
        Message(i.message_id, i.at, i.kind, i.title, i.body, i.offer_id, i.read_at)
        for i in InboxModel.query(customer_id, condition, scan_index_forward=False, limit=limit)
    ]


@dataclass(frozen=True)
class Opened:
    message: Message
    #: This report was the first (the open counts now).
    first: bool
    contact_key: str | None


def mark_read(customer_id: str, message_id: str, now: datetime) -> Opened | None:
    """The member opened the message: the first time is kept (None: no such message of theirs)."""
    first = True
    try:
        InboxModel(customer_id, message_id).update(
            actions=[InboxModel.read_at.set(now)],
            condition=InboxModel.message_id.exists() & InboxModel.read_at.does_not_exist(),
        )
    except UpdateError as error:
        if not condition_failed(error):
            raise
        first = False
    try:
        i = InboxModel.get(customer_id, message_id, consistent_read=True)
    except InboxModel.DoesNotExist:
        return None
    return Opened(Message(i.message_id, i.at, i.kind, i.title, i.body, i.offer_id, i.read_at), first, i.contact_key)
