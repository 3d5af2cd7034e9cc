"""Customers' feedback.

``feedback`` (hash ``feedback_id``; GSIs ``by_inbox``, ``by_customer``)
    One item per piece of feedback. A review of a purchase has an id drawn from the member and the
    purchase, so a second review of it is refused by the write's condition. ``by_inbox`` (hash
    ``inbox`` = ``<merchant_id or program>#<status>``, range ``created``): the team's inbox by
    status, newest first. ``by_customer`` (hash ``customer_id``, range ``created``): the member's own.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.domain.clock import isoformat
from chalicelib.domain.feedback import CLOSED, Feedback
from chalicelib.store.base import BaseMeta, condition_failed, table_name

PROGRAM = "program"


class InboxIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    class Meta:
        index_name = "by_inbox"
        projection = AllProjection()

    inbox = UnicodeAttribute(hash_key=True)
    created = UnicodeAttribute(range_key=True)


class CustomerIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    created = UnicodeAttribute(range_key=True)


class FeedbackModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("feedback")

    feedback_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    rating = NumberAttribute()
    at = UTCDateTimeAttribute()
    created = UnicodeAttribute()
    status = UnicodeAttribute()
    inbox = UnicodeAttribute()
    text = UnicodeAttribute(null=True)
    store_id = UnicodeAttribute(null=True)
    purchase_id = UnicodeAttribute(null=True)
    merchant_id = UnicodeAttribute(null=True)
    answers = JSONAttribute(null=True)
    reply = UnicodeAttribute(null=True)
    replied_by = UnicodeAttribute(null=True)
    replied_at = UTCDateTimeAttribute(null=True)
    bonus_points = NumberAttribute(default=0)
    by_inbox = InboxIndex()
    by_customer = CustomerIndex()


class AlreadyGiven(Exception):
    """Feedback with this id exists (a purchase reviewed twice)."""


def _inbox(merchant_id: str | None, status: str) -> str:
    return f"{merchant_id or PROGRAM}#{status}"


def _feedback(item: FeedbackModel) -> Feedback:
    return Feedback(
        feedback_id=item.feedback_id,
        customer_id=item.customer_id,
        kind=item.kind,
        rating=int(item.rating),
        at=item.at,
        status=item.status,
        text=item.text,
        store_id=item.store_id,
        purchase_id=item.purchase_id,
        merchant_id=item.merchant_id,
        answers=item.answers or {},
        reply=item.reply,
        replied_by=item.replied_by,
        replied_at=item.replied_at,
        bonus_points=int(item.bonus_points or 0),
    )


def save(f: Feedback) -> None:
    try:
        FeedbackModel(
            f.feedback_id,
            customer_id=f.customer_id,
            kind=f.kind,
            rating=f.rating,
            at=f.at,
            created=f"{isoformat(f.at)}#{f.feedback_id}",
            status=f.status,
            inbox=_inbox(f.merchant_id, f.status),
            text=f.text,
            store_id=f.store_id,
            purchase_id=f.purchase_id,
            merchant_id=f.merchant_id,
            answers=dict(f.answers) or None,
            bonus_points=f.bonus_points,
        ).save(condition=FeedbackModel.feedback_id.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            raise AlreadyGiven(f.feedback_id) from error
        raise


def set_bonus(feedback_id: str, points: int) -> None:
    FeedbackModel(feedback_id).update(actions=[FeedbackModel.bonus_points.set(points)])


def get(feedback_id: str) -> Feedback | None:
    try:
        return _feedback(FeedbackModel.get(feedback_id, consistent_read=True))
    except FeedbackModel.DoesNotExist:
        return None


def close_with_reply(f: Feedback, reply: str, by: str, at: datetime) -> bool:
    """Record the team's reply and close the feedback, once (False: it was closed meanwhile)."""
    try:
        FeedbackModel(f.feedback_id).update(
            actions=[
                FeedbackModel.reply.set(reply),
                FeedbackModel.replied_by.set(by),
                FeedbackModel.replied_at.set(at),
                FeedbackModel.status.set(CLOSED),
                FeedbackModel.inbox.set(_inbox(f.merchant_id, CLOSED)),
            ],
            condition=FeedbackModel.status != CLOSED,
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def inbox(owner: str | None, status: str, limit: int, before: str | None) -> list[tuple[str, Feedback]]:
    """``(position, feedback)`` of one owner's (a merchant's, or the program's) inbox, newest first."""
    condition = FeedbackModel.created < before if before else None
    return [
        (item.created, _feedback(item))
        for item in FeedbackModel.by_inbox.query(
            _inbox(owner, status), range_key_condition=condition, scan_index_forward=False, limit=limit
        )
    ]


def of_customer(customer_id: str) -> list[Feedback]:
    return [_feedback(item) for item in FeedbackModel.by_customer.query(customer_id, scan_index_forward=False)]
