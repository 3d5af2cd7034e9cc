"""Feedback: customers give it, the team answers it (``domain/feedback.py``)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict

import structlog

from chalicelib.domain import feedback as rules
from chalicelib.domain.bonus import Bonus
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.feedback import Feedback
from chalicelib.domain.identity import Identity
from chalicelib.domain.moments import first_name
from chalicelib.domain.webhooks import Event
from chalicelib.errors import Conflict, InvalidField, NotFound
from chalicelib.ports import new_id
from chalicelib.services import cursors, issuing, places, policy, program, webhooks
from chalicelib.services.issuing import Sent
from chalicelib.store import feedback as store
from chalicelib.store import ledger
from chalicelib.store import members as member_store

log = structlog.get_logger("loyalty.feedback")


@dataclass(frozen=True)
class GiveFeedback:
    kind: str
    rating: int
    text: str | None = None
    store_id: str | None = None
    purchase_id: str | None = None
    answers: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    text: str


class FeedbackView(TypedDict):
    feedback_id: str
    customer_id: str
    kind: str
    rating: int
    text: str | None
    store_id: str | None
    purchase_id: str | None
    merchant_id: str | None
    answers: dict[str, object]
    status: str
    at: str
    reply: str | None
    replied_at: str | None
    bonus_points: int


class FeedbackPage(TypedDict):
    items: list[FeedbackView]
    next_cursor: str | None


def give(identity: Identity, req: GiveFeedback, *, clock: Clock) -> FeedbackView:
    member = member_store.get_member(identity.sub)
    if member is None:
        raise NotFound("you are not a member of the program yet", code="not_a_member")
    merchant_id = None
    store_id = req.store_id
    if req.purchase_id is not None:
        found = ledger.get_purchase(req.purchase_id)
        if found is None or found[0].customer_id != member.customer_id:
            raise InvalidField("purchase_id", "no such purchase of yours", code="unknown_purchase")
        purchase = found[0]
        if store_id is not None and store_id != purchase.store_id:
            raise InvalidField("store_id", "the purchase was made at another store", code="wrong_store")
        store_id, merchant_id = purchase.store_id, purchase.merchant_id
    elif store_id is not None:
        shop = places.store(store_id)
        if shop is None:
            raise InvalidField("store_id", "no such store", code="unknown_store")
        merchant_id = shop.merchant_id
    at = clock()
    reviewed_purchase = req.kind == "review" and req.purchase_id is not None
    feedback_id = _review_id(member.customer_id, req.purchase_id) if reviewed_purchase else new_id("fb", 16)
    given = Feedback(
        feedback_id=feedback_id,
        customer_id=member.customer_id,
        kind=req.kind,
        rating=req.rating,
        at=at,
        status=rules.first_status(req.kind, req.rating),
        text=req.text,
        store_id=store_id,
        purchase_id=req.purchase_id,
        merchant_id=merchant_id,
        answers=dict(req.answers),
    )
    try:
        store.save(given)
    except store.AlreadyGiven:
        raise Conflict("you have reviewed this purchase already", code="already_reviewed") from None
    webhooks.safely_emit(
        [
            Event(
                f"feedback:{feedback_id}",
                "feedback.created",
                at,
                {
                    "feedback_id": feedback_id,
                    "customer_id": member.customer_id,
                    "kind": req.kind,
                    "rating": req.rating,
                    "store_id": store_id,
                    "purchase_id": req.purchase_id,
                },
            )
        ]
    )
    points = program.rules().feedback.review_bonus_points
    if reviewed_purchase and points:
        # Once per purchase (the message's key); never fails the feedback itself.
        try:
            sent = issuing.send(
                identity.sub,
                "review_thanks",
                f"review#{req.purchase_id}",
                f"Thank you, {first_name(member.name)}: {points} points",
                "for your review. It helps us get better.",
                clock=lambda: at,
                bonus=Bonus(points, "review_bonus", feedback_id=feedback_id),
            )
            if isinstance(sent, Sent):
                store.set_bonus(feedback_id, points)
                given = Feedback(**{**vars(given), "bonus_points": points})
        except Exception as exc:  # noqa: BLE001 - the bonus is a side effect: the feedback is in
            log.warning("review_bonus_not_given", error=type(exc).__name__)
    return view(given)


def _review_id(customer_id: str, purchase_id: str | None) -> str:
    return "fb_" + hashlib.sha256(f"review|{customer_id}|{purchase_id}".encode()).hexdigest()[:16]


def inbox(identity: Identity, status: str, limit: int, cursor: str | None) -> FeedbackPage:
    """The team's inbox: feedback with ``status`` at the caller's merchant and the program-wide
    feedback (an admin: every merchant's), newest first."""
    owners = _owners(identity)
    before = cursors.position(identity, f"feedback_{status}", cursor)
    found: list[tuple[str, Feedback]] = []
    for owner in owners:
        found += store.inbox(owner, status, limit + 1, before)
    found.sort(key=lambda pair: pair[0], reverse=True)
    page = found[:limit]
    last = page[-1][0] if len(found) > limit else None
    return {
        "items": [view(f) for _, f in page],
        "next_cursor": cursors.next_cursor(identity, f"feedback_{status}", last),
    }


def reply(identity: Identity, feedback_id: str, req: Reply, *, clock: Clock) -> FeedbackView:
    """The team's answer: to the customer's inbox, and the feedback closed (once: a second reply
    to closed feedback is 409)."""
    found = store.get(feedback_id)
    if found is None or (found.merchant_id or store.PROGRAM) not in _owners(identity):
        raise NotFound("no such feedback", code="feedback_not_found")
    if found.status == rules.CLOSED:
        raise Conflict("this feedback is closed: it has its answer", code="feedback_closed")
    at = clock()
    claim = member_store.find_claim("customer", found.customer_id)
    if claim is None:
        raise Conflict("the customer has left the program", code="customer_left")
    sent = issuing.send(
        claim[0],
        "feedback_reply",
        f"feedback_reply#{feedback_id}",
        "We read your feedback",
        req.text,
        clock=lambda: at,
    )
    if not isinstance(sent, Sent):
        raise Conflict(f"the reply could not reach the customer ({sent.reason})", code="not_delivered")
    store.close_with_reply(found, req.text, identity.sub, at)
    closed = store.get(feedback_id)
    return view(closed or found)


def of_customer(customer_id: str) -> list[FeedbackView]:
    return [view(f) for f in store.of_customer(customer_id)]


def _owners(identity: Identity) -> list[str]:
    from chalicelib.domain.catalog import Merchant
    from chalicelib.store import catalog

    merchant = policy.acting_for(identity)
    if merchant is not None:
        return [merchant, store.PROGRAM]
    return [store.PROGRAM, *(m.merchant_id for m in catalog.list_all(Merchant))]


def view(f: Feedback) -> FeedbackView:
    return {
        "feedback_id": f.feedback_id,
        "customer_id": f.customer_id,
        "kind": f.kind,
        "rating": f.rating,
        "text": f.text,
        "store_id": f.store_id,
        "purchase_id": f.purchase_id,
        "merchant_id": f.merchant_id,
        "answers": dict(f.answers),
        "status": f.status,
        "at": isoformat(f.at),
        "reply": f.reply,
        "replied_at": isoformat(f.replied_at) if f.replied_at else None,
        "bonus_points": f.bonus_points,
    }
