"""Amends at the till (``domain/compensations.py``): a cashier grants points within their limits at
once; above them the request waits for an admin. Staff limits are the admin's (``/v1/staff``)."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypedDict

import structlog

from chalicelib.domain.bonus import Bonus
from chalicelib.domain.catalog import StaffMember
from chalicelib.domain.clock import Clock, isoformat
from chalicelib.domain.compensations import GRANTED, PENDING, Compensation, DailyLimit, within_grant_limit
from chalicelib.domain.identity import Identity, Role
from chalicelib.errors import Conflict, InvalidField, NotFound
from chalicelib.services import cursors, issuing, policy, program
from chalicelib.services.idempotency import Outcome, scoped_key
from chalicelib.services.issuing import Sent
from chalicelib.store import catalog
from chalicelib.store import compensations as store
from chalicelib.store import feedback as feedback_store
from chalicelib.store import members as member_store

log = structlog.get_logger("loyalty.compensations")


@dataclass(frozen=True)
class RequestAmends:
    points: int
    reason: str
    feedback_id: str | None = None


@dataclass(frozen=True)
class StaffLimits:
    role: Role
    merchant_id: str
    compensation_limit_points: int
    name: str | None = None
    store_id: str | None = None
    daily_compensation_limit_points: int | None = None


class CompensationView(TypedDict):
    compensation_id: str
    customer_id: str
    points: int
    reason: str
    feedback_id: str | None
    status: str
    requested_by: str
    requested_at: str
    merchant_id: str | None
    store_id: str | None
    decided_by: str | None
    decided_at: str | None
    note: str | None


class CompensationPage(TypedDict):
    items: list[CompensationView]
    next_cursor: str | None


class StaffView(TypedDict):
    sub: str
    name: str
    role: str
    merchant_id: str | None
    store_id: str | None
    compensation_limit_points: int
    daily_compensation_limit_points: int | None


def request(identity: Identity, customer_id: str, req: RequestAmends, key: str | None, *, clock: Clock) -> Outcome:
    """A cashier's amends for a customer: 201 granted within their limits, 202 pending above them.
    Once per Idempotency-Key: a retry answers as the first request did."""
    merchant_id = policy.acting_for(identity)
    scoped = scoped_key(identity.sub, "compensation", key)
    compensation_id = "cmp_" + hashlib.sha256(scoped.encode()).hexdigest()[:20]
    earlier = store.get(compensation_id)
    if earlier is not None:
        return _replayed(earlier, req)
    claim = member_store.find_claim("customer", customer_id)
    if claim is None:
        raise NotFound("no such customer", code="customer_not_found")
    if req.feedback_id is not None:
        given = feedback_store.get(req.feedback_id)
        if given is None or given.customer_id != customer_id:
            raise InvalidField("feedback_id", "no such feedback from this customer", code="unknown_feedback")
    at = clock()
    staff = catalog.get(StaffMember, identity.sub)
    grant_limit = staff.compensation_limit_points if staff is not None else 0
    asked = Compensation(
        compensation_id=compensation_id,
        customer_id=customer_id,
        points=req.points,
        reason=req.reason,
        requested_by=identity.sub,
        requested_at=at,
        status=PENDING,
        merchant_id=merchant_id,
        store_id=identity.store_id,
        feedback_id=req.feedback_id,
    )
    month, day = _month_and_day(at)
    if within_grant_limit(req.points, grant_limit):
        daily_ceiling = staff.daily_compensation_limit_points if staff is not None else None
        daily = DailyLimit(identity.sub, day, daily_ceiling if daily_ceiling is not None else 10**12)
        granted = dataclasses.replace(asked, status=GRANTED, decided_by=identity.sub, decided_at=at)
        try:
            _grant(claim[0], granted, store.CompensationWrite(granted, month, daily), at)
            return Outcome(201, dict(view(granted)))
        except store.OverDailyLimit:
            asked = dataclasses.replace(asked, note="over_daily_limit")
        except store.NotPending:
            again = store.get(compensation_id)
            if again is not None:
                return _replayed(again, req)
            raise
    else:
        asked = dataclasses.replace(asked, note="over_grant_limit")
    if not store.save_pending(asked, month):
        again = store.get(compensation_id)
        if again is not None:
            return _replayed(again, req)
    log.info("compensation_pending", why=asked.note)
    return Outcome(202, dict(view(asked)))


def approve(identity: Identity, compensation_id: str, *, clock: Clock) -> CompensationView:
    """An admin grants a pending request (no daily limit holds an admin); approving a granted one
    again answers with it, a rejected one is 409."""
    found = _found(compensation_id)
    if found.status == GRANTED:
        return view(found)
    if found.status != PENDING:
        raise Conflict(f"the request was {found.status}", code="already_decided")
    claim = member_store.find_claim("customer", found.customer_id)
    if claim is None:
        raise Conflict("the customer has left the program", code="customer_left")
    at = clock()
    granted = dataclasses.replace(found, status=GRANTED, decided_by=identity.sub, decided_at=at)
    month, _ = _month_and_day(found.requested_at)
    try:
        _grant(claim[0], granted, store.CompensationWrite(granted, month, None, expected_status=PENDING), at)
    except store.NotPending:
        again = _found(compensation_id)
        if again.status == GRANTED:
            return view(again)
        raise Conflict(f"the request was {again.status}", code="already_decided") from None
    return view(granted)


def reject(identity: Identity, compensation_id: str, note: str | None, *, clock: Clock) -> CompensationView:
    found = _found(compensation_id)
    if found.status != PENDING:
        raise Conflict(f"the request was {found.status}", code="already_decided")
    if not store.reject(compensation_id, identity.sub, clock(), note):
        raise Conflict("the request was decided meanwhile", code="already_decided")
    return view(_found(compensation_id))


def pending(identity: Identity, status: str, limit: int, cursor: str | None) -> CompensationPage:
    before = cursors.position(identity, f"compensations_{status}", cursor)
    page = store.with_status(status, limit, before)
    last = page[-1][0] if len(page) == limit else None
    return {
        "items": [view(c) for _, c in page],
        "next_cursor": cursors.next_cursor(identity, f"compensations_{status}", last),
    }


def _grant(sub: str, granted: Compensation, write: store.CompensationWrite, at: datetime) -> None:
    sent = issuing.send(
        sub,
        "amends",
        f"amends#{granted.compensation_id}",
        f"We're sorry: {granted.points} points for you",
        granted.reason,
        clock=lambda: at,
        bonus=Bonus(
            granted.points,
            "compensation",
            granted_by=granted.decided_by,
            note=granted.reason,
            feedback_id=granted.feedback_id,
        ),
        compensation=write,
    )
    if not isinstance(sent, Sent):
        raise Conflict(f"the amends could not reach the customer ({sent.reason})", code="not_delivered")


def _replayed(earlier: Compensation, req: RequestAmends) -> Outcome:
    if (earlier.points, earlier.reason, earlier.feedback_id) != (req.points, req.reason, req.feedback_id):
        raise Conflict("this Idempotency-Key was used for a different request", code="idempotency_key_reused")
    return Outcome(201 if earlier.status == GRANTED else 202, dict(view(earlier)), replayed=True)


def _found(compensation_id: str) -> Compensation:
    found = store.get(compensation_id)
    if found is None:
        raise NotFound("no such compensation", code="compensation_not_found")
    return found


def _month_and_day(at: datetime) -> tuple[str, str]:
    local: date = program.local_time(program.rules(), at).date()
    return local.strftime("%Y-%m"), local.isoformat()


def put_staff(sub: str, limits: StaffLimits) -> StaffView:
    """The admin sets a staff member's role, merchant, store and amends limits."""
    if limits.role not in (Role.CASHIER, Role.MARKETER, Role.ADMIN):
        raise InvalidField("role", "a staff role: cashier, marketer or admin", code="not_a_staff_role")
    old = catalog.get(StaffMember, sub)
    staff = StaffMember(
        sub=sub,
        name=limits.name or (old.name if old else sub),
        role=limits.role,
        merchant_id=limits.merchant_id,
        store_id=limits.store_id,
        compensation_limit_points=limits.compensation_limit_points,
        daily_compensation_limit_points=limits.daily_compensation_limit_points,
    )
    catalog.put(staff)
    return staff_view(staff)


def get_staff(sub: str) -> StaffView:
    found = catalog.get(StaffMember, sub)
    if found is None:
        raise NotFound("no such staff member", code="staff_not_found")
    return staff_view(found)


def staff_view(s: StaffMember) -> StaffView:
    return {
        "sub": s.sub,
        "name": s.name,
        "role": s.role.value,
        "merchant_id": s.merchant_id,
        "store_id": s.store_id,
        "compensation_limit_points": s.compensation_limit_points,
        "daily_compensation_limit_points": s.daily_compensation_limit_points,
    }


def view(c: Compensation) -> CompensationView:
    return {
        "compensation_id": c.compensation_id,
        "customer_id": c.customer_id,
        "points": c.points,
        "reason": c.reason,
        "feedback_id": c.feedback_id,
        "status": c.status,
        "requested_by": c.requested_by,
        "requested_at": isoformat(c.requested_at),
        "merchant_id": c.merchant_id,
        "store_id": c.store_id,
        "decided_by": c.decided_by,
        "decided_at": isoformat(c.decided_at) if c.decided_at else None,
        "note": c.note,
    }


def of_customer(customer_id: str) -> list[CompensationView]:
    return [view(c) for c in store.of_customer(customer_id)]


class StaffTotalView(TypedDict):
    staff_sub: str
    granted: int
    points: int


CompensationReportView = TypedDict(
    "CompensationReportView",
    {
        "from": str,
        "to": str,
        "granted": int,
        "points_granted": int,
        "pending": int,
        "rejected": int,
        "by_staff": list[StaffTotalView],
        "items": list[CompensationView],
    },
)


def report(identity: Identity, first: date, last: date) -> CompensationReportView:
    """Every amends request of the period (program days), who granted what and why; by month
    through the ``by_month`` index, never a scan. A merchant's marketer sees their merchant's."""
    if last < first:
        raise InvalidField("to", "must not be before from", code="invalid_period")
    if (last - first).days >= 366:
        raise InvalidField("to", "a period is at most 366 days", code="period_too_long")
    merchant = policy.acting_for(identity)
    months = sorted({(first + timedelta(days=n)).strftime("%Y-%m") for n in range((last - first).days + 1)})
    rules = program.rules()
    items = [
        c
        for c in store.in_months(months)
        if first <= program.local_time(rules, c.requested_at).date() <= last
        and (merchant is None or c.merchant_id == merchant)
    ]
    items.sort(key=lambda c: c.requested_at, reverse=True)
    totals: dict[str, list[int]] = {}
    for c in items:
        if c.status == GRANTED and c.decided_by:
            total = totals.setdefault(c.decided_by, [0, 0])
            total[0] += 1
            total[1] += c.points
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "granted": sum(c.status == GRANTED for c in items),
        "points_granted": sum(c.points for c in items if c.status == GRANTED),
        "pending": sum(c.status == PENDING for c in items),
        "rejected": sum(c.status == "rejected" for c in items),
        "by_staff": [
            {"staff_sub": sub, "granted": n, "points": points}
            for sub, (n, points) in sorted(totals.items(), key=lambda kv: -kv[1][1])
        ],
        "items": [view(c) for c in items],
    }
