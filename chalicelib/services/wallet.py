"""The wallet and the inbox as the customer and the till read them (the issuing service writes
them): the customer's offers and messages, and the offers a till may redeem now.

The till and a check-in read only the live part of the wallet: the entries the member's activity
item names as issued and unexpired, by their keys; a wallet grows with history, that part does not.
The customer's own history (``GET /v1/me/offers``) shows every entry, as kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TypedDict

import structlog

from chalicelib.domain.activity import live_ids
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.identity import Identity
from chalicelib.domain.members import Member
from chalicelib.domain.wallet import Message, WalletOffer, redeemable, status_at, why_unusable
from chalicelib.errors import NotFound
from chalicelib.services import cursors, places
from chalicelib.store import activity as activity_store
from chalicelib.store import counters
from chalicelib.store import members as member_store
from chalicelib.store import wallet as wallet_store

log = structlog.get_logger("loyalty.wallet")


def _merchant_of_store(store_id: str | None) -> str | None:
    store = places.store(store_id) if store_id else None
    return store.merchant_id if store else None


def unusable_because(entry: WalletOffer, merchant_id: str | None, now: datetime) -> str | None:
    """Why the till at ``merchant_id`` cannot redeem this wallet entry now (None: it can)."""
    return why_unusable(entry, _merchant_of_store(entry.store_id), merchant_id, now)


def live_entries(member: Member, now: datetime, offer_ids: Sequence[str] | None = None) -> list[WalletOffer]:
    """The member's entries that may be redeemable now (of ``offer_ids`` only, if given): those
    the activity item names as unexpired, read by their keys (each entry says whether it was
    redeemed). A member from before the activity item: the whole wallet, as before."""
    kept = activity_store.activity(member.sub)
    if kept is None:
        held = wallet_store.wallet(member.customer_id)
        return [e for e in held if offer_ids is None or e.offer_id in offer_ids]
    return wallet_store.entries(member.customer_id, live_ids(kept, now, offer_ids))


def usable_offers(member: Member, merchant_id: str | None, now: datetime) -> list[WalletView]:
    """The wallet offers the till at ``merchant_id`` can redeem now, the soonest to expire first."""
    held = live_entries(member, now)
    merchants = {
        store_id: merchant
        for store_id in {e.store_id for e in held if e.store_id}
        if (merchant := _merchant_of_store(store_id)) is not None
    }
    return [wallet_view(e, now) for e in redeemable(held, merchants, merchant_id, now)]


def entries(customer_id: str, wallet_ids: tuple[str, ...]) -> list[WalletOffer]:
    """The member's entries named by ``wallet_ids``, read by their keys (no read when there are
    none), in the order named."""
    found = {e.wallet_id: e for e in wallet_store.entries(customer_id, wallet_ids)}
    return [found[wallet_id] for wallet_id in wallet_ids if wallet_id in found]


class WalletView(TypedDict):
    """A wallet entry as the customer and the till see it (``WalletOfferOut``)."""

    wallet_id: str
    offer_id: str
    title: str
    reward: Mapping[str, object]
    store_id: str | None
    issued_at: str
    expires_at: str
    status: str


class MessageView(TypedDict):
    message_id: str
    at: str
    kind: str
    title: str
    body: str | None
    offer_id: str | None
    read: bool
    read_at: str | None


class WalletPage(TypedDict):
    items: list[WalletView]
    next_cursor: str | None


class InboxPage(TypedDict):
    items: list[MessageView]
    next_cursor: str | None


def wallet_view(entry: WalletOffer, now: datetime) -> WalletView:
    return {
        "wallet_id": entry.wallet_id,
        "offer_id": entry.offer_id,
        "title": entry.title,
        "reward": entry.reward,
        "store_id": entry.store_id,
        "issued_at": isoformat(entry.issued_at),
        "expires_at": isoformat(entry.expires_at),
        "status": status_at(entry, now),
    }


def message_view(m: Message) -> MessageView:
    return {
        "message_id": m.message_id,
        "at": isoformat(m.at),
        "kind": m.kind,
        "title": m.title,
        "body": m.body,
        "offer_id": m.offer_id,
        "read": m.read_at is not None,
        "read_at": isoformat(m.read_at) if m.read_at is not None else None,
    }


def my_offers(identity: Identity, *, clock: Clock) -> WalletPage:
    member = member_store.get_member(identity.sub)
    if member is None:
        raise NotFound("you are not a member of the program yet", code="not_a_member")
    now = clock()
    items = sorted(wallet_store.wallet(member.customer_id), key=lambda e: e.issued_at, reverse=True)
    return {"items": [wallet_view(e, now) for e in items], "next_cursor": None}


def my_inbox(identity: Identity, limit: int, cursor: str | None) -> InboxPage:
    member = member_store.get_member(identity.sub)
    if member is None:
        raise NotFound("you are not a member of the program yet", code="not_a_member")
    messages = wallet_store.inbox(member.customer_id, limit, cursors.position(identity, "inbox", cursor))
    items = [message_view(m) for m in messages]
    last = messages[-1].message_id if len(messages) == limit else None
    return {"items": items, "next_cursor": cursors.next_cursor(identity, "inbox", last)}


def mark_read(identity: Identity, message_id: str, *, clock: Clock) -> MessageView:
    """The app reports the member opened a message (the campaign funnel's "opened"); the first
    report's moment is kept."""
    member = member_store.get_member(identity.sub)
    if member is None:
        raise NotFound("you are not a member of the program yet", code="not_a_member")
    at = clock()
    opened = wallet_store.mark_read(member.customer_id, message_id, at)
    if opened is None:
        raise NotFound(f"no message {message_id!r} in your inbox", code="message_not_found", field="message_id")
    parts = (opened.contact_key or "").split("#", 2)
    if opened.first and len(parts) == 3 and parts[0] == "campaign":
        _, campaign_id, run = parts
        try:
            counters.tally(campaign_id, run, {"opened": 1}, once=None, now=at)
        except Exception as exc:  # noqa: BLE001 - a report's count never fails the member's open
            log.warning("campaign_open_not_counted", campaign_id=campaign_id, error=type(exc).__name__)
    return message_view(opened.message)
