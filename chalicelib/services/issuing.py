"""The one issuing service: every way an offer or a message reaches a customer goes through here.

A moment (a check-in at a store, a purchase; next a birthday, a campaign, amends) and the
customer come in; the service decides which offers fit (``domain.offers.choose_offers``:
eligibility, limits, budget, cooldown) and builds their wallet entries (``domain.wallet``), and
the caller's transaction adds them with their inbox messages: a check-in's through
:func:`commit_checkin`, a member change's through ``MemberChange.issue_offers`` / ``notices``.
An offer the transaction refuses (a racing issue of the same n, a spent budget) never sinks the
caller's change: :class:`Skipped` leaves it out, logs it, and the change commits without it.
Only this module (and ``store/``) imports the store's wallet and inbox writers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from chalicelib.domain.activity import History
from chalicelib.domain.catalog import Store
from chalicelib.domain.checkins import CheckinDecision
from chalicelib.domain.members import Member
from chalicelib.domain.offers import Customer, Moment, Offer, choose_offers
from chalicelib.domain.wallet import WalletOffer, wallet_entry
from chalicelib.services import program
from chalicelib.services.catalog_cache import cache
from chalicelib.store import activity as activity_store
from chalicelib.store import catalog, ledger
from chalicelib.store import issued as issued_store
from chalicelib.store import wallet as wallet_store

log = structlog.get_logger("loyalty.offers")

#: An offer and the wallet entry that issues it.
Issue = tuple[Offer, WalletOffer]

OFFERS_PER_CHECKIN = 2
#: Offers a purchase can earn (cross-promotions), at most.
OFFERS_PER_PURCHASE = 1


def _cached_offers() -> list[Offer]:
    """The offers as the catalog cache holds them (their issued counts may be a little behind:
    the budget's truth is the transaction's condition)."""
    return cache().offers()


def program_timezone() -> ZoneInfo:
    return ZoneInfo(program.rules().timezone)


def _customer(member: Member, history: History) -> Customer:
    return Customer(member.tier, member.visits_total, member.last_visit_at, member.category_counts, history=history)


def for_checkin(
    member: Member, store: Store, zone: str | None, trigger: str, now: datetime, *, history: History
) -> list[Issue]:
    """The offers a new visit to ``store`` issues (the member's tier is its current one), counted
    on ``history`` (the member's activity item, read with the member)."""
    moment = Moment(
        trigger, now, store_id=store.store_id, zone=zone, merchant_id=store.merchant_id, timezone=program_timezone()
    )
    return _issue(_cached_offers(), moment, member, store, OFFERS_PER_CHECKIN, lambda: history)


def for_purchase(member: Member, store: Store, categories: Iterable[str], now: datetime) -> list[Issue]:
    """Offers triggered by a purchase (a partner's cross-promotion: buy clothes, get a coffee
    offer for the café). Read only when such offers exist; their counts are read fresh, so a
    spent budget is usually seen before the transaction (and if not, the purchase commits
    without the offer)."""
    if not any(o.trigger.type == "purchase" and o.status == "active" for o in _cached_offers()):
        return []
    moment = Moment(
        "purchase",
        now,
        store_id=store.store_id,
        merchant_id=store.merchant_id,
        categories=tuple(sorted(set(categories))),
        timezone=program_timezone(),
    )
    fresh = [o for o in catalog.offers_with_counts() if o.trigger.type == "purchase"]
    return _issue(fresh, moment, member, store, OFFERS_PER_PURCHASE, lambda: _history(member, now))


def _history(member: Member, now: datetime) -> History:
    """The member's issue history from their activity item (one GetItem), built once from the
    wallet for a member from before it: the change that issues then counts in that item."""
    kept = activity_store.activity(member.sub) or activity_store.migrate_activity(member.sub, member.customer_id, now)
    return kept.history


def _issue(
    offers: list[Offer], moment: Moment, member: Member, store: Store, at_most: int, history_of: Callable[[], History]
) -> list[Issue]:
    """The chosen offers as wallet entries. The customer's history only narrows what is eligible
    (per-customer limits, cooldowns), so when nothing fits a customer without one it is not read
    at all: a purchase where no offer applies costs no read for it."""
    if not choose_offers(offers, moment, _customer(member, {}), at_most):
        return []
    history = history_of()
    chosen = choose_offers(offers, moment, _customer(member, history), at_most)
    return [(offer, wallet_entry(offer, store.store_id, store.merchant_id, moment.at, history)) for offer in chosen]


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

    def kept(self, issued: Iterable[Issue]) -> list[Issue]:
        return [(offer, entry) for offer, entry in issued if offer.offer_id not in self.offer_ids]


def commit_checkin(
    member: Member,
    decision: CheckinDecision,
    previous_at: datetime | None,
    issued: list[Issue],
    *,
    expired: Sequence[str] = (),
) -> tuple[CheckinDecision, list[Issue]]:
    """Commit the check-in's record with the offers it issues (the record lists them); an offer the
    store refuses is left out and the check-in commits without it. Returns what was committed.
    ``expired``: live wallet keys past their expiry, dropped from the activity item meanwhile."""
    skipped = Skipped()
    while True:
        kept = skipped.kept(issued)
        record = dataclasses.replace(
            decision.record, wallet_ids=decision.record.wallet_ids + tuple(entry.wallet_id for _, entry in kept)
        )
        try:
            issued_store.save_checkin(member.sub, member.customer_id, record, previous_at, kept, expired)
        except wallet_store.OffersRefused as refusal:
            skipped.add(refusal)
        else:
            return dataclasses.replace(decision, record=record), kept


def without_offers(change: ledger.MemberChange, offer_ids: Collection[str]) -> ledger.MemberChange:
    """The same change issuing none of ``offer_ids``, and not saying it does: a change lists the
    offers it issues in its response (and its purchase's body) under ``offers_issued``."""
    if not any(offer.offer_id in offer_ids for offer, _ in change.issue_offers):
        return change

    def unlisted(body: dict[str, Any]) -> dict[str, Any]:
        if "offers_issued" not in body:
            return body
        return {**body, "offers_issued": [o for o in body["offers_issued"] if o["offer_id"] not in offer_ids]}

    return dataclasses.replace(
        change,
        issue_offers=tuple((o, e) for o, e in change.issue_offers if o.offer_id not in offer_ids),
        response=unlisted(change.response),
        purchase=dataclasses.replace(change.purchase, body=unlisted(change.purchase.body)) if change.purchase else None,
    )
