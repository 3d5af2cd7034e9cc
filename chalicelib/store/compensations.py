"""Amends (compensations) and the staff's daily totals.

``compensations`` (hash ``compensation_id``; GSIs ``by_status``, ``by_month``)
    One item per request, its id drawn from the cashier's scoped Idempotency-Key (a retried
    request finds it). A grant writes it (``granted``) in the member change that gives the points,
    with the granting cashier's day total on ``counters`` (``staff#<sub>`` / ``<YYYY-MM-DD>``,
    conditioned on their daily limit); a request above a limit is written ``pending``, and an
    admin's approval grants it in a member change conditioned on it still being pending.
    ``by_status`` (hash ``status``, range ``requested``): the admin's queue of pending requests.
    ``by_month`` (hash ``month`` of the request, program time; range ``requested``): the report.
    ``by_customer`` (hash ``customer_id``): the member's export.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.domain.clock import isoformat
from chalicelib.domain.compensations import PENDING, Compensation, DailyLimit
from chalicelib.store.base import BaseMeta, OwnedWrite, condition_failed, table_name
from chalicelib.store.counters import CounterModel

#: A staff member's day total is kept a while for the report, then expires.
DAY_TOTAL_TTL = timedelta(days=400)
#: Owners of the items a grant adds to the member change (to tell whose condition failed).
DAILY_LIMIT = "compensation_daily_limit"
STILL_PENDING = "compensation_still_pending"


class ByStatusIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    requested = UnicodeAttribute(range_key=True)


class ByMonthIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    class Meta:
        index_name = "by_month"
        projection = AllProjection()

    month = UnicodeAttribute(hash_key=True)
    requested = UnicodeAttribute(range_key=True)


class ByCustomerIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    requested = UnicodeAttribute(range_key=True)


class CompensationModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("compensations")

    compensation_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    points = NumberAttribute()
    reason = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    #: ``<ISO time>#<id>``: the indexes' order.
    requested = UnicodeAttribute()
    month = UnicodeAttribute()
    status = UnicodeAttribute()
    merchant_id = UnicodeAttribute(null=True)
    store_id = UnicodeAttribute(null=True)
    feedback_id = UnicodeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    decided_at = UTCDateTimeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    by_status = ByStatusIndex()
    by_month = ByMonthIndex()
    by_customer = ByCustomerIndex()


@dataclass(frozen=True)
class CompensationWrite:
    """What a grant writes in its member change: the compensation as granted, the staff member's
    day (None: an admin's approval, which no daily limit holds), and the status it must still have
    (``pending`` for an approval; None for a new grant, which must not exist yet)."""

    compensation: Compensation
    month: str
    daily: DailyLimit | None = None
    expected_status: str | None = None


class NotPending(Exception):
    """The compensation was approved or rejected meanwhile (or, new, exists already)."""


class OverDailyLimit(Exception):
    """The grant would take the staff member past their daily limit."""


def _item(c: Compensation, month: str) -> CompensationModel:
    return CompensationModel(
        c.compensation_id,
        customer_id=c.customer_id,
        points=c.points,
        reason=c.reason,
        requested_by=c.requested_by,
        requested_at=c.requested_at,
        requested=f"{isoformat(c.requested_at)}#{c.compensation_id}",
        month=month,
        status=c.status,
        merchant_id=c.merchant_id,
        store_id=c.store_id,
        feedback_id=c.feedback_id,
        decided_by=c.decided_by,
        decided_at=c.decided_at,
        note=c.note,
    )


def _compensation(item: CompensationModel) -> Compensation:
    return Compensation(
        compensation_id=item.compensation_id,
        customer_id=item.customer_id,
        points=int(item.points),
        reason=item.reason,
        requested_by=item.requested_by,
        requested_at=item.requested_at,
        status=item.status,
        merchant_id=item.merchant_id,
        store_id=item.store_id,
        feedback_id=item.feedback_id,
        decided_by=item.decided_by,
        decided_at=item.decided_at,
        note=item.note,
    )


def write(tx: OwnedWrite, grant: CompensationWrite, at: datetime) -> None:
    """In a member change: the compensation as granted, and the staff member's day total."""
    expected = grant.expected_status
    condition = (
        CompensationModel.status == expected
        if expected is not None
        else CompensationModel.compensation_id.does_not_exist()
    )
    tx.save(_item(grant.compensation, grant.month), condition=condition, owner=STILL_PENDING)
    daily = grant.daily
    if daily is not None:
        points = grant.compensation.points
        tx.update(
            CounterModel(f"staff#{daily.staff_sub}", daily.day),
            actions=[CounterModel.points_issued.add(points), CounterModel.expires_at.set(at + DAY_TOTAL_TTL)],
            condition=CounterModel.points_issued.does_not_exist()
            | (CounterModel.points_issued <= daily.ceiling - points),
            owner=DAILY_LIMIT,
        )


def save_pending(c: Compensation, month: str) -> bool:
    """A request waiting for an admin; False if one with its id exists (a retried request)."""
    if c.status != PENDING:
        raise ValueError("only a pending request is saved alone")
    try:
        _item(c, month).save(condition=CompensationModel.compensation_id.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    return True


def reject(compensation_id: str, by: str, at: datetime, note: str | None) -> bool:
    try:
        CompensationModel(compensation_id).update(
            actions=[
                CompensationModel.status.set("rejected"),
                CompensationModel.decided_by.set(by),
                CompensationModel.decided_at.set(at),
                CompensationModel.note.set(note) if note else CompensationModel.note.remove(),
            ],
            condition=CompensationModel.status == PENDING,
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def get(compensation_id: str) -> Compensation | None:
    try:
        return _compensation(CompensationModel.get(compensation_id, consistent_read=True))
    except CompensationModel.DoesNotExist:
        return None


def with_status(status: str, limit: int, before: str | None) -> list[tuple[str, Compensation]]:
    """``(position, compensation)`` with ``status``, newest first."""
    condition = CompensationModel.requested < before if before else None
    return [
        (item.requested, _compensation(item))
        for item in CompensationModel.by_status.query(
            status, range_key_condition=condition, scan_index_forward=False, limit=limit
        )
    ]


def in_months(months: list[str]) -> Iterator[Compensation]:
    """Every request made in these months (program time), month by month, by key."""
    for month in months:
        for item in CompensationModel.by_month.query(month):
            yield _compensation(item)


def day_total(staff_sub: str, day: str) -> int:
    try:
        return int(CounterModel.get(f"staff#{staff_sub}", day, consistent_read=True).points_issued or 0)
    except CounterModel.DoesNotExist:
        return 0


def of_customer(customer_id: str) -> list[Compensation]:
    return [_compensation(item) for item in CompensationModel.by_customer.query(customer_id, scan_index_forward=False)]
