"""The wallet rules: what an issued offer is, how long it lasts, when a till may redeem it, and
the issue history that offers' limits are counted on. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.offers import Offer, unusable_because

#: How long an issued offer stays in the wallet (less if the offer ends sooner).
WALLET_OFFER_DAYS = 7
#: How long an entry stays in the customer's history after it expired (redeemed or not), before
#: DynamoDB's TTL deletes it. Offers' limits count on the activity item, not on entries.
RETENTION = timedelta(days=400)


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
    #: When the member opened it in the app (None: unread).
    read_at: datetime | None = None


def wallet_id(offer_id: str, times_issued: int) -> str:
    """The key of the customer's next issue of an offer: ``<offer_id>#<n>`` for the n-th, so two
    racing issues of the same n meet on one key (only one lands) and a later one never collides."""
    return f"{offer_id}#{times_issued + 1}"


def times_issued(wallet_id: str) -> int:
    """n of a key ``<offer_id>#<n>``: the customer's n-th issue of the offer."""
    return int(wallet_id.rsplit("#", 1)[1])


def purge_at(entry: WalletOffer) -> datetime:
    """When the entry may leave the table: ``RETENTION`` after it expired."""
    return entry.expires_at + RETENTION


def expires_at(offer: Offer, now: datetime) -> datetime:
    expires = now + timedelta(days=WALLET_OFFER_DAYS)
    return min(expires, offer.valid_to) if offer.valid_to is not None else expires


def wallet_entry(
    offer: Offer,
    store_id: str | None,
    store_merchant_id: str | None,
    now: datetime,
    history: Mapping[str, tuple[int, datetime]],
) -> WalletOffer:
    """An offer as it lands in the wallet: the customer's n-th of this offer, redeemable at the
    offer's merchant (the issuing store's if the offer names none; anywhere if neither, as a
    program-wide offer a message brings), until it or the offer expires."""
    times_issued = history.get(offer.offer_id, (0, now))[0]
    return WalletOffer(
        wallet_id(offer.offer_id, times_issued),
        offer.offer_id,
        offer.title,
        dict(offer.reward),
        store_id,
        now,
        expires_at(offer, now),
        "issued",
        merchant_id=offer.merchant_id or store_merchant_id,
    )


def history_of(held: Iterable[WalletOffer]) -> dict[str, tuple[int, datetime]]:
    """offer_id -> (times issued to the customer, the last time): what per-customer limits and
    cooldowns count. Redeemed and expired entries count too."""
    history: dict[str, tuple[int, datetime]] = {}
    for entry in held:
        count, last = history.get(entry.offer_id, (0, entry.issued_at))
        history[entry.offer_id] = (count + 1, max(last, entry.issued_at))
    return history


def status_at(entry: WalletOffer, now: datetime) -> str:
    """The status a customer sees: an issued entry past its expiry is expired (no job rewrites it)."""
    if entry.status == "issued" and entry.expires_at <= now:
        return "expired"
    return entry.status


def why_unusable(
    entry: WalletOffer, issuing_store_merchant_id: str | None, till_merchant_id: str | None, now: datetime
) -> str | None:
    """Why the till at ``till_merchant_id`` cannot redeem this entry now (None: it can). Entries
    written before they named their merchant are redeemable at the issuing store's merchant."""
    redeemable_by = entry.merchant_id or issuing_store_merchant_id
    return unusable_because(entry.status, entry.expires_at, redeemable_by, till_merchant_id, now)


def redeemable(
    held: Iterable[WalletOffer],
    merchant_of_store: Mapping[str, str],
    till_merchant_id: str | None,
    now: datetime,
) -> list[WalletOffer]:
    """The entries the till can redeem now, the soonest to expire first."""
    usable = (
        e for e in held if why_unusable(e, merchant_of_store.get(e.store_id or ""), till_merchant_id, now) is None
    )
    return sorted(usable, key=lambda e: e.expires_at)
