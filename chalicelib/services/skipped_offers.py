"""Offers a member change's transaction refused, left out of its next attempt.

An offer the store refuses (a racing issue of the same n, a spent budget) never sinks the change
that carries it: the change commits without it. Both the exactly-once loop
(``services/idempotency.py``) and the issuing service (a check-in's commit) retry this way; the
logic lives here, beside neither, so that the issuing service can send a message exactly once
without the two importing each other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog

from chalicelib.domain.offers import Offer
from chalicelib.domain.wallet import WalletOffer
from chalicelib.store import ledger
from chalicelib.store import wallet as wallet_store

log = structlog.get_logger("loyalty.offers")

_Entry = TypeVar("_Entry")


@dataclass
class Skipped:
    """The offers a caller's transaction refused so far: left out of the next attempt."""

    offer_ids: set[str] = field(default_factory=set)

    def add(self, refusal: wallet_store.OffersRefused) -> None:
        """Leave the refused offers out from now on; an offer already left out cannot be refused
        again, so a refusal naming only those is re-raised rather than retried forever."""
        if refusal.reasons.keys() <= self.offer_ids:
            raise refusal
        for offer_id, why in sorted(refusal.reasons.items()):
            log.warning("offer_skipped", offer_id=offer_id, reason=why)
        self.offer_ids |= refusal.reasons.keys()

    def kept(self, issued: Iterable[tuple[Offer, _Entry]]) -> list[tuple[Offer, _Entry]]:
        return [(offer, entry) for offer, entry in issued if offer.offer_id not in self.offer_ids]


def without_offers(change: ledger.MemberChange, offer_ids: Collection[str]) -> ledger.MemberChange:
    """The same change issuing none of ``offer_ids``, and not saying it does: a change lists the
    offers it issues in its response (and its purchase's body) under ``offers_issued``."""
    if not any(offer.offer_id in offer_ids for offer, _ in change.offers_issued()):
        return change

    def unlisted(body: dict[str, Any]) -> dict[str, Any]:
        if "offers_issued" not in body:
            return body
        return {**body, "offers_issued": [o for o in body["offers_issued"] if o["offer_id"] not in offer_ids]}

    def kept(issued: tuple[tuple[Offer, WalletOffer], ...]) -> tuple[tuple[Offer, WalletOffer], ...]:
        return tuple((o, e) for o, e in issued if o.offer_id not in offer_ids)

    contact = change.contact
    return dataclasses.replace(
        change,
        issue_offers=kept(change.issue_offers),
        # A message's offer refused by the store leaves the message as it is: its text is the
        # sender's, and the offer, when it lands, brings its own inbox message.
        contact=dataclasses.replace(contact, offers=kept(contact.offers)) if contact is not None else None,
        response=unlisted(change.response),
        purchase=dataclasses.replace(change.purchase, record=change.purchase.record.without_offers(offer_ids))
        if change.purchase
        else None,
    )
