"""The one issuing service: every way an offer or a message reaches a customer goes through here.

A moment (a check-in at a store, a purchase; next a birthday, a campaign, amends) and the
customer come in; the service decides which offers fit (``domain.offers.choose_offers``:
eligibility, limits, budget, cooldown) and builds their wallet entries (``domain.wallet``), and
the caller's transaction adds them with their inbox messages: a check-in's through
:func:`commit_checkin`, a member change's through ``MemberChange.issue_offers``.
A message (a greeting, a campaign, amends) passes the contact policy (``domain.contact``:
consent, the frequency cap, once per key; quiet hours hold the push back) in :func:`message`, which gives the
caller's ``MemberChange`` its ``contact``; :func:`send` is a message alone, exactly once.
An offer the transaction refuses (a racing issue of the same n, a spent budget) never sinks the
caller's change: ``Skipped`` leaves it out, logs it, and the change commits without it.
Only this module (and ``store/``) imports the store's wallet and inbox writers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.domain import contact
from chalicelib.domain.activity import History
from chalicelib.domain.bonus import Bonus, grant
from chalicelib.domain.catalog import Store
from chalicelib.domain.changes import Notice
from chalicelib.domain.checkins import CheckinDecision
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.contact import Contact, Refused
from chalicelib.domain.features import Features
from chalicelib.domain.members import Member
from chalicelib.domain.offers import Customer, Moment, Offer, affinity, choose_offers
from chalicelib.domain.wallet import WalletOffer, wallet_entry
from chalicelib.services import program
from chalicelib.services.catalog_cache import cache
from chalicelib.services.idempotency import exactly_once, replay, request_hash
from chalicelib.services.skipped_offers import Skipped
from chalicelib.store import activity as activity_store
from chalicelib.store import catalog, ledger
from chalicelib.store import features as features_store
from chalicelib.store import issued as issued_store
from chalicelib.store import members as members_store
from chalicelib.store import wallet as wallet_store
from chalicelib.store.compensations import CompensationWrite

#: An offer and the wallet entry that issues it.
Issue = tuple[Offer, WalletOffer]

OFFERS_PER_CHECKIN = 2
#: Offers a purchase can earn (cross-promotions), at most.
OFFERS_PER_PURCHASE = 1
#: Why a message with an offer is not sent: the member cannot get the offer (limits, budget, targeting).
OFFER_UNAVAILABLE = "offer_unavailable"


def _cached_offers() -> list[Offer]:
    """The offers as the catalog cache holds them (their issued counts may be a little behind:
    the budget's truth is the transaction's condition)."""
    return cache().offers()


def program_timezone() -> ZoneInfo:
    return ZoneInfo(program.rules().timezone)


def _customer(member: Member, history: History, segments: frozenset[str] = frozenset()) -> Customer:
    return Customer(
        member.tier, member.visits_total, member.last_visit_at, member.category_counts, segments, history=history
    )


def for_checkin(
    member: Member, store: Store, zone: str | None, trigger: str, now: datetime, *, history: History
) -> list[Issue]:
    """The offers a new visit to ``store`` issues (the member's tier is its current one), counted
    on ``history`` (the member's activity item, read with the member)."""
    moment = Moment(
        trigger, now, store_id=store.store_id, zone=zone, merchant_id=store.merchant_id, timezone=program_timezone()
    )
    return _issue(_cached_offers(), moment, member, OFFERS_PER_CHECKIN, lambda: history)


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
    return _issue(fresh, moment, member, OFFERS_PER_PURCHASE, lambda: _history(member, now))


def _history(member: Member, now: datetime) -> History:
    """The member's issue history from their activity item (one GetItem), built once from the
    wallet for a member from before it: the change that issues then counts in that item."""
    kept = activity_store.activity(member.sub) or activity_store.migrate_activity(member.sub, member.customer_id, now)
    return kept.history


def _issue(
    offers: list[Offer],
    moment: Moment,
    member: Member,
    at_most: int,
    history_of: Callable[[], History],
    segments: frozenset[str] | None = None,
) -> list[Issue]:
    """The chosen offers as wallet entries, issued where the moment happened (a store, or none for
    a message). The customer's history only narrows what is eligible (per-customer limits,
    cooldowns), so when nothing fits a customer without one it is not read at all: a moment where
    no offer applies costs no read for it. Likewise the member's segments (``None``: not read yet)
    are read from their features only when an offer for a segment is among those that could fit."""
    if segments is None:
        segments = _segments_if_targeted(offers, member)
    if not choose_offers(offers, moment, _customer(member, {}, segments), at_most):
        return []
    history = history_of()
    chosen = choose_offers(offers, moment, _customer(member, history, segments), at_most)
    return [(offer, wallet_entry(offer, moment.store_id, moment.merchant_id, moment.at, history)) for offer in chosen]


def _segments_if_targeted(offers: Iterable[Offer], member: Member) -> frozenset[str]:
    if any(o.targeting.segment_id is not None and o.status == "active" for o in offers):
        return features_store.get_features(member.sub).segments
    return frozenset()


def offer_for(member: Member, trigger: str, now: datetime, preferred: str | None = None) -> Offer | None:
    """The offer a message at this moment brings the member: ``preferred`` (an offer the program
    names for the moment) if they may get it, else the best active offer with ``trigger`` their
    tier, categories and limits fit; None when none fits."""
    offers = _cached_offers()
    preferred_ones = [o for o in offers if o.offer_id == preferred] if preferred else []
    customer = _customer(member, {})
    rest = sorted(
        (o for o in offers if o.trigger.type == trigger and o.status == "active" and o.offer_id != preferred),
        key=lambda o: (-o.priority, -affinity(o, customer), o.offer_id),
    )
    history: list[History] = []

    def read_once() -> History:
        if not history:
            history.append(_history(member, now))
        return history[0]

    candidates = [*preferred_ones, *rest]
    segments = _segments_if_targeted(candidates, member)
    for offer in candidates:
        moment = Moment(trigger, now, merchant_id=offer.merchant_id, timezone=program_timezone())
        if _issue([offer], moment, member, 1, read_once, segments):
            return offer
    return None


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


def message(
    member: Member | None,
    features: Features,
    kind: str,
    key: str,
    title: str,
    body: str | None,
    now: datetime,
    offer: Offer | None = None,
) -> Contact | Refused:
    """A message of ``kind`` to ``member`` once per contact ``key``, if the contact policy lets it
    reach them now: the ``Contact`` the caller's ``MemberChange`` carries (the inbox message, the
    features after it, ``offer`` issued into the wallet, and when its push may go: after the
    member's quiet hours), or why not (``Refused``). The offer passes the same rules as a check-in's (trigger, targeting
    with the member's segments, limits, budget); a message promising an offer the member cannot
    get is refused (``OFFER_UNAVAILABLE``) rather than sent without it."""
    policy = program.rules().contact
    decision = contact.decide(member, features, kind, key, now, policy)
    if not isinstance(decision, contact.Allowed):
        return decision
    if member is None:  # the policy never allows a message to nobody; this says so to the type checker
        return Refused(contact.NOT_A_MEMBER)
    issued: list[Issue] = []
    if offer is not None:
        moment = Moment(kind, now, merchant_id=offer.merchant_id, timezone=program_timezone())
        issued = _issue([offer], moment, member, 1, lambda: _history(member, now), features.segments)
        if not issued:
            return Refused(OFFER_UNAVAILABLE)
    notice = Notice(kind, title, body, offer.offer_id if offer is not None else None)
    return Contact(
        key,
        notice,
        contact.recorded(features, kind, key, now, contact.keep_in_touch_after(policy)),
        decision.purpose,
        tuple(issued),
        decision.push_after,
    )


@dataclass(frozen=True)
class Sent:
    message_id: str
    at: datetime
    #: True when this key's message had already been sent (the first send's answer, replayed).
    replayed: bool = False
    #: The wallet entries of the offers the message brought (none when the store refused them).
    wallet_ids: tuple[str, ...] = ()
    #: When the push may go (the member's quiet hours hold it back); None: at once.
    push_after: datetime | None = None


class _NotSent(Exception):
    """The policy's answer when it is not "send", out of ``exactly_once``'s preparation."""

    def __init__(self, decision: Refused) -> None:
        super().__init__(decision.reason)
        self.decision = decision


def contact_idempotency_key(customer_id: str, key: str) -> str:
    return f"contact|{key}|{customer_id}"


def send(
    sub: str,
    kind: str,
    key: str,
    title: str,
    body: str | None = None,
    *,
    clock: Clock,
    offer: Offer | None = None,
    bonus: Bonus | None = None,
    personalise: Callable[[Member], tuple[str, str | None]] | None = None,
    compensation: CompensationWrite | None = None,
) -> Sent | Refused:
    """A message alone, exactly once per member and contact ``key``: a campaign's
    (``contact.campaign_key``), a birthday greeting (``contact.birthday_key``). Sending the same
    key again answers with the first send (``replayed``) while its idempotency record lives (a
    day) and ``Refused(already_contacted)`` after, for as long as the features remember the key
    (``contact.KEY_MEMORY``). ``bonus``: points given with the message, in the same change (no
    message, no points); a racing send of another key that would pass the frequency cap
    with this one makes one of them read again and be refused. ``offer``: see :func:`message`.
    ``personalise``: the title and body for the member as read (a campaign's ``{name}``), instead
    of ``title`` and ``body``. ``compensation``: the amends the bonus is, written in the same
    change (``store.compensations``: its refusals, a daily limit or a decided request, propagate)."""
    first = members_store.get_member(sub)
    if first is None:
        return Refused(contact.NOT_A_MEMBER)
    customer_id = first.customer_id
    idempotency_key = contact_idempotency_key(customer_id, key)
    # The key alone: a campaign whose text was edited after it reached the member is still sent.
    fingerprint = request_hash({"kind": kind, "key": key})

    unread = [first]  # the first attempt decides on this read; a retry reads again

    def prepare() -> ledger.MemberChange:
        member = unread.pop() if unread else members_store.get_member(sub)
        if member is None or member.customer_id != customer_id:
            raise _NotSent(Refused(contact.NOT_A_MEMBER))
        at = clock()
        text = personalise(member) if personalise is not None else (title, body)
        decided = message(member, features_store.get_features(sub), kind, key, text[0], text[1], at, offer)
        if not isinstance(decided, Contact):
            raise _NotSent(decided)
        points = grant(member, program.rules(), bonus, at) if bonus is not None else None
        response = {
            "customer_id": customer_id,
            "kind": kind,
            "key": key,
            "message_id": issued_store.keyed_message_id(at, key),
            "sent_at": isoformat(at),
            "offers_issued": [{"offer_id": o.offer_id, "wallet_id": e.wallet_id} for o, e in decided.offers],
            "bonus_points": bonus.points if bonus is not None else 0,
            "push_after": isoformat(decided.push_after) if decided.push_after is not None else None,
        }
        return ledger.MemberChange(
            member,
            idempotency_key,
            fingerprint,
            at,
            response,
            points=points,
            contact=decided,
            compensation=compensation,
        )

    try:
        outcome = exactly_once(idempotency_key, fingerprint, prepare)
    except _NotSent as not_sent:
        # A retry of a send whose answer was lost finds the key already contacted: it gets the
        # first send's answer while the idempotency record lives.
        earlier = replay(idempotency_key, fingerprint)
        if earlier is None:
            return not_sent.decision
        outcome = earlier
    sent = outcome.body
    return Sent(
        sent["message_id"],
        datetime.fromisoformat(sent["sent_at"]),
        outcome.replayed,
        tuple(o["wallet_id"] for o in sent.get("offers_issued", [])),
        datetime.fromisoformat(sent["push_after"]) if sent.get("push_after") else None,
    )
