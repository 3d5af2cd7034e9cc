"""Wallet entries and inbox messages, written into a transaction: the one writer of both.

A check-in writes its record into the member's activity item, the offers it issues, their inbox
messages and the offers' budget counters in one transaction (:func:`save_checkin`); a member change
(``ledger.apply``) adds :func:`write_issued`, :func:`record_issues` and :func:`write_notice` to its
own. Every issue also counts in the activity item's history (and names its entry as live there),
in the same transaction, so that no reader of limits ever needs the wallet. Outside ``store/``, only
``services/issuing.py`` imports this module (an import contract in ``pyproject.toml``), so every
way an offer or a message reaches a customer passes the issuing service's decision.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action

from chalicelib.domain.changes import Notice
from chalicelib.domain.checkins import Checkin
from chalicelib.domain.offers import Offer
from chalicelib.domain.wallet import WalletOffer, purge_at, times_issued
from chalicelib.errors import Conflict, NotFound
from chalicelib.store import catalog
from chalicelib.store.base import OwnedWrite, owned_transaction
from chalicelib.store.members import MemberModel
from chalicelib.store.wallet import (
    ALREADY_IN_WALLET,
    BUDGET_SPENT,
    ActivityModel,
    InboxModel,
    OfferItem,
    WalletModel,
    history_entry,
    offers_refused,
)

#: The owner of the member's condition in a check-in's transaction.
_MEMBER = "member"


def save_checkin(
    sub: str,
    customer_id: str,
    checkin: Checkin,
    previous_at: datetime | None,
    issued: list[tuple[Offer, WalletOffer]],
    expired: Sequence[str] = (),
) -> None:
    """The check-in and what it issues, at once, while the member is still a member (a check-in
    racing the member's leaving must not write a wallet or inbox under the erased id after the
    erasure swept them); ``OffersRefused`` if only offers' items failed (a racing issue or a spent
    budget), ``NotFound(not_a_member)`` if the member left meanwhile, ``Conflict(try_again)`` if
    another check-in of the member got there first. The record replaces the last check-in in the
    member's activity item, with the issues counted and the ``expired`` live keys dropped."""
    replaces = ActivityModel.at == previous_at if previous_at is not None else ActivityModel.at.does_not_exist()
    try:
        with owned_transaction() as tx:
            tx.condition_check(MemberModel, sub, MemberModel.customer_id == customer_id, owner=_MEMBER)
            tx.update(
                ActivityModel(sub),
                actions=[
                    *_checkin_actions(checkin),
                    *issue_actions(entry for _, entry in issued),
                    *(ActivityModel.live[wallet_id].remove() for wallet_id in expired),
                ],
                condition=(ActivityModel.customer_id == customer_id) & replaces,
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


def _checkin_actions(checkin: Checkin) -> list[Action]:
    fields: list[tuple[Any, Any]] = [
        (ActivityModel.checkin_id, checkin.checkin_id),
        (ActivityModel.at, checkin.at),
        (ActivityModel.store_id, checkin.store_id),
        (ActivityModel.lon, checkin.lon),
        (ActivityModel.lat, checkin.lat),
        (ActivityModel.wallet_ids, list(checkin.wallet_ids) or None),
        (ActivityModel.minute_start, checkin.minute_start),
        (ActivityModel.minute_count, checkin.minute_count),
        (ActivityModel.fixed_at, checkin.fixed_at),
    ]
    return [attribute.remove() if value is None else attribute.set(value) for attribute, value in fields]


def issue_actions(entries: Iterable[WalletOffer]) -> list[Action]:
    """The activity item's update for these issues: each offer's count and last time, and its
    entry live until it expires. Only these paths are set, so a check-in and a purchase issuing
    at once never overwrite each other's counts (the wallet key refuses a second issue of one n)."""
    actions: list[Action] = []
    for entry in entries:
        actions.append(
            ActivityModel.history[entry.offer_id].set(history_entry(times_issued(entry.wallet_id), entry.issued_at))
        )
        actions.append(ActivityModel.live[entry.wallet_id].set(entry.expires_at.isoformat()))
    return actions


def record_issues(tx: OwnedWrite, sub: str, customer_id: str, entries: Sequence[WalletOffer]) -> None:
    """In a member change's ``tx``: count its issues in the member's activity item (which the
    issuing service made sure exists when it read the history they were decided on)."""
    if entries:
        tx.update(
            ActivityModel(sub), actions=issue_actions(entries), condition=ActivityModel.customer_id == customer_id
        )


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
            purge_at=purge_at(entry),
        ),
        condition=WalletModel.wallet_id.does_not_exist(),
        owner=OfferItem(offer.offer_id, ALREADY_IN_WALLET),
    )
    tx.save(
        InboxModel(
            customer_id,
            message_id(entry.issued_at, uuid.uuid4().hex[:8]),
            at=entry.issued_at,
            kind="offer",
            title=entry.title,
            body=offer.description,
            offer_id=offer.offer_id,
        )
    )
    catalog.count_issue(tx, offer, owner=OfferItem(offer.offer_id, BUDGET_SPENT))


def write_notice(
    tx: OwnedWrite, customer_id: str, at: datetime, notice: Notice, key: str, push_after: datetime | None = None
) -> None:
    """In ``tx``: a message to the member's inbox (a greeting, a campaign) sent once per contact
    ``key``, under :func:`keyed_message_id`, to be pushed (from the inbox's stream) once
    ``push_after`` has come."""
    tx.save(
        InboxModel(
            customer_id,
            keyed_message_id(at, key),
            at=at,
            kind=notice.kind,
            title=notice.title,
            body=notice.body,
            offer_id=notice.offer_id,
            push=True,
            push_after=push_after,
            contact_key=key,
        )
    )


def keyed_message_id(at: datetime, key: str) -> str:
    """A message's id starts with its time, because the inbox lists messages newest first by id;
    the rest is the contact key's digest instead of a random draw, so a message says which key
    sent it and two attempts at one key at one instant could not both land. Exactly-once itself
    rests on the idempotency record and the features' contact keys, committed with the message."""
    return message_id(at, hashlib.sha256(key.encode()).hexdigest()[:8])


def message_id(at: datetime, suffix: str) -> str:
    """``<UTC time to the microsecond>Z-<8 hex>``: time-ordered, and safe in a URL path as it is
    (messages from before this used ``#``, which a client has to escape as ``%23``)."""
    return f"{at.astimezone(UTC):%Y%m%dT%H%M%S.%f}Z-{suffix}"
