"""Referrals: who brought whom, and what came of it.

``referrals`` (hash ``friend`` = the friend's ``customer_id``; GSI ``by_referrer``)
    One item per friend who joined with a code, written in the friend's join transaction: the
    referrer (both by their random ``customer_id`` only: a member who leaves is named nowhere
    here, as their ``customer`` claim no longer leads to anyone), when, and the status
    (``joined`` -> ``rewarded`` on the first qualifying purchase, or ``refused`` with a reason, or
    ``taken_back`` when that purchase was refunded). ``by_referrer`` (hash ``referrer``, range
    ``joined`` = ``<ISO time>#<friend>``) lists a member's friends. The cap on a code is an atomic
    counter on ``counters`` (``referrer#<customer_id>`` / ``friends``), conditioned in the same
    join transaction, so racing joins cannot pass it; ``referrer#<customer_id>`` / ``rewarded``
    counts the friends rewarded and the points they earned the referrer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import isoformat
from chalicelib.store.base import BaseMeta, failed_items, table_name, transaction
from chalicelib.store.counters import CounterModel

JOINED = "joined"
REWARDED = "rewarded"
REFUSED = "refused"
TAKEN_BACK = "taken_back"


class ByReferrerIndex(GlobalSecondaryIndex):  # type: ignore[type-arg,no-untyped-call]
    class Meta:
        index_name = "by_referrer"
        projection = AllProjection()

    referrer = UnicodeAttribute(hash_key=True)
    joined = UnicodeAttribute(range_key=True)


class ReferralModel(Model):
    class Meta(BaseMeta):
        table_name = table_name("referrals")

    friend = UnicodeAttribute(hash_key=True)
    referrer = UnicodeAttribute()
    joined = UnicodeAttribute()
    joined_at = UTCDateTimeAttribute()
    status = UnicodeAttribute(default=JOINED)
    reason = UnicodeAttribute(null=True)
    purchase_id = UnicodeAttribute(null=True)
    purchase_amount = NumberAttribute(null=True)
    rewarded_at = UTCDateTimeAttribute(null=True)
    referrer_points = NumberAttribute(null=True)
    friend_points = NumberAttribute(null=True)
    taken_back_at = UTCDateTimeAttribute(null=True)
    by_referrer = ByReferrerIndex()


@dataclass(frozen=True)
class Referral:
    friend: str
    referrer: str
    joined_at: datetime
    status: str
    reason: str | None = None
    purchase_id: str | None = None
    purchase_amount: int | None = None
    rewarded_at: datetime | None = None
    referrer_points: int = 0
    friend_points: int = 0
    taken_back_at: datetime | None = None


def _referral(item: ReferralModel) -> Referral:
    return Referral(
        friend=item.friend,
        referrer=item.referrer,
        joined_at=item.joined_at,
        status=item.status,
        reason=item.reason,
        purchase_id=item.purchase_id,
        purchase_amount=int(item.purchase_amount) if item.purchase_amount is not None else None,
        rewarded_at=item.rewarded_at,
        referrer_points=int(item.referrer_points or 0),
        friend_points=int(item.friend_points or 0),
        taken_back_at=item.taken_back_at,
    )


def write_joined(tx: TransactWrite, referral: Referral, max_friends: int) -> None:
    """In the friend's join transaction: the referral and one more friend on the referrer's count,
    refused (the transaction cancelled at the counter) once the code has brought ``max_friends``."""
    tx.save(
        ReferralModel(
            referral.friend,
            referrer=referral.referrer,
            joined=f"{isoformat(referral.joined_at)}#{referral.friend}",
            joined_at=referral.joined_at,
            status=JOINED,
        ),
        condition=ReferralModel.friend.does_not_exist(),
    )
    tx.update(
        CounterModel(f"referrer#{referral.referrer}", "friends"),
        actions=[CounterModel.entries.add(1)],
        condition=CounterModel.entries.does_not_exist() | (CounterModel.entries < max_friends),
    )


def get(friend: str) -> Referral | None:
    try:
        return _referral(ReferralModel.get(friend, consistent_read=True))
    except ReferralModel.DoesNotExist:
        return None


def of_referrer(referrer: str, limit: int, before: str | None) -> list[tuple[str, Referral]]:
    """``(position, referral)`` of the referrer's friends, newest first. The index names the page's
    friends; their items are read from the table itself (one consistent BatchGetItem), so a status
    agrees with the totals beside it: the index is eventually consistent and may lag a reward."""
    condition = ReferralModel.joined < before if before else None
    page = [
        (item.joined, item.friend)
        for item in ReferralModel.by_referrer.query(
            referrer, range_key_condition=condition, scan_index_forward=False, limit=limit
        )
    ]
    current = {item.friend: item for item in ReferralModel.batch_get([f for _, f in page], consistent_read=True)}
    return [(position, _referral(current[friend])) for position, friend in page if friend in current]


def settle(referral: Referral, status: str, at: datetime, **fields: object) -> bool:
    """Move a ``joined`` referral to ``status`` (rewarded or refused) once; False if it had moved.
    Rewarded, the referrer's totals (friends rewarded, points earned) move in the same transaction."""
    actions = [ReferralModel.status.set(status)]
    if status == REWARDED:
        actions.append(ReferralModel.rewarded_at.set(at))
    for name, value in fields.items():
        actions.append(getattr(ReferralModel, name).set(value))
    points = int(str(fields.get("referrer_points", 0)))
    return _moved(referral, actions, JOINED, +1 if status == REWARDED else 0, points if status == REWARDED else 0)


def take_back(referral: Referral, at: datetime) -> bool:
    """A rewarded referral whose purchase was refunded: ``taken_back`` once."""
    actions = [ReferralModel.status.set(TAKEN_BACK), ReferralModel.taken_back_at.set(at)]
    return _moved(referral, actions, REWARDED, -1, -referral.referrer_points)


def _moved(referral: Referral, actions: list[Any], expected: str, rewarded: int, points: int) -> bool:
    try:
        with transaction() as tx:
            tx.update(ReferralModel(referral.friend), actions=actions, condition=ReferralModel.status == expected)
            if rewarded or points:
                tx.update(
                    CounterModel(f"referrer#{referral.referrer}", "rewarded"),
                    actions=[CounterModel.entries.add(rewarded), CounterModel.points_issued.add(points)],
                )
    except TransactWriteError as error:
        if failed_items(error) == [0]:
            return False
        raise
    return True


@dataclass(frozen=True)
class Totals:
    friends_joined: int
    friends_rewarded: int
    points_earned: int


def totals(referrer: str) -> Totals:
    """The referrer's counts (one BatchGetItem of two counters)."""
    found = {
        item.sk: item
        for item in CounterModel.batch_get([(f"referrer#{referrer}", "friends"), (f"referrer#{referrer}", "rewarded")])
    }
    joined, rewarded = found.get("friends"), found.get("rewarded")
    return Totals(
        int(joined.entries or 0) if joined else 0,
        int(rewarded.entries or 0) if rewarded else 0,
        int(rewarded.points_issued or 0) if rewarded else 0,
    )
