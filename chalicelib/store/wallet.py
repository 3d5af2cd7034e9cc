"""Check-ins, the wallet of issued offers and the in-app inbox.

``checkins`` (hash ``customer_id``): the member's last check-in (dedup, speed check) and a
per-minute counter (rate limit), one small item per member.
``wallet`` (hash ``customer_id``, range ``wallet_id`` = ``<offer_id>#<n>``, the customer's n-th
issue of the offer): issued offers. Two racing issues of the same n meet the key's condition, so
only one lands; a later legitimate issue has the next n and never collides. (Entries issued before
this key carry ``<offer_id>#<YYYYMMDD[HH]>`` and still count towards n.)
``inbox`` (hash ``customer_id``, range ``message_id``, time-ordered): every message to the member.
Only ``store/issued.py`` writes wallet entries and inbox messages (into a check-in's or a member
change's transaction), and only ``services/issuing.py`` calls it. An offer's items never sink the
rest: when only they fail their conditions, ``OffersRefused`` says which and why, and the caller
commits without them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.domain.checkins import Checkin as Checkin
from chalicelib.domain.wallet import Message as Message
from chalicelib.domain.wallet import WalletOffer as WalletOffer
from chalicelib.store.base import BaseMeta, table_name


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


def inbox(customer_id: str, limit: int, before: str | None) -> list[Message]:
    """Newest first, ``limit`` of them, older than the message id ``before`` if given."""
    condition = InboxModel.message_id < before if before else None
    return [
        Message(i.message_id, i.at, i.kind, i.title, i.body, i.offer_id)
        for i in InboxModel.query(customer_id, condition, scan_index_forward=False, limit=limit)
    ]
