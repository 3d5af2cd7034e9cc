"""The member's activity item and the one request that reads it with the member.

``activity`` (hash ``sub``, like ``members``): one small item per member (``domain.activity``):
the last check-in with its per-minute count, the offers' issue history (per offer issued to the
member: n and the last time) and the live wallet keys with their expiry. Keyed by the token's
subject so that :func:`read_member` gets the member, this item and the catalog's version in one
strongly consistent BatchGetItem: a check-in then reads nothing else, and never the wallet.

Written by the check-in's transaction (``issued.save_checkin``) and, for an offer a member change
issues, by ``ledger.apply``; both set only the paths they change. Created when a member joins; a
member from before it gets it once from the old records (:func:`migrate_activity`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.domain.activity import Activity, from_wallet
from chalicelib.domain.checkins import Checkin
from chalicelib.domain.members import Member
from chalicelib.errors import NotFound, Unavailable
from chalicelib.store.base import connection, transaction
from chalicelib.store.catalog import VERSION_KEY, CatalogVersion, CatalogVersionItem
from chalicelib.store.members import MemberModel, to_member
from chalicelib.store.wallet import ActivityModel, activity_item, last_checkin, wallet

#: Tries of a BatchGetItem whose keys DynamoDB left unprocessed (it does under throttling).
BATCH_ATTEMPTS = 5


def to_activity(item: ActivityModel) -> Activity:
    last = None
    if item.checkin_id is not None and item.at is not None and item.minute_start is not None:
        last = Checkin(
            item.checkin_id,
            item.at,
            item.store_id,
            float(item.lon) if item.lon is not None else None,
            float(item.lat) if item.lat is not None else None,
            tuple(item.wallet_ids or ()),
            item.minute_start,
            int(item.minute_count or 0),
            item.fixed_at,
        )
    history = {
        str(offer_id): (int(kept["n"]), datetime.fromisoformat(str(kept["at"])))
        for offer_id, kept in _raw(item.history).items()
    }
    live = {str(wallet_id): datetime.fromisoformat(str(expires)) for wallet_id, expires in _raw(item.live).items()}
    return Activity(last, history, live)


def _raw(kept: Any) -> dict[str, Any]:
    """A map attribute as a dict (an item written without it reads as empty)."""
    if kept is None:
        return {}
    found: dict[str, Any] = kept.as_dict() if hasattr(kept, "as_dict") else dict(kept)
    return found


def activity(sub: str) -> Activity | None:
    """The member's activity item (one consistent GetItem), None if it was never written."""
    try:
        return to_activity(ActivityModel.get(sub, consistent_read=True))
    except ActivityModel.DoesNotExist:
        return None


def migrate_activity(sub: str, customer_id: str, now: datetime) -> Activity:
    """The activity of a member from before the ``activity`` item: built once from the old check-in
    item and the whole wallet (consistent reads: an issue that just committed must count) and
    written while they are still a member, unless another request wrote it first (then that one).

    Every writer of history reads the activity item first and writes to it only while it exists,
    so an item written here from reads older than another request's issue cannot exist: that
    issue would have had to find the item first, and then this write fails its condition."""
    built = from_wallet(last_checkin(customer_id), wallet(customer_id, consistent=True), now)
    item = activity_item(sub, customer_id, built)
    try:
        with transaction() as tx:
            tx.condition_check(MemberModel, sub, condition=MemberModel.customer_id == customer_id)
            tx.save(item, condition=ActivityModel.sub.does_not_exist())
    except TransactWriteError as error:
        found = activity(sub)
        if found is None:
            raise NotFound("you are not a member of the program", code="not_a_member") from error
        return found
    return built


@dataclass(frozen=True)
class MemberRead:
    """What one request read about a member: the member (None: not a member), the catalog's
    version at that moment (None before the first catalog write), and the activity item if it
    was asked for (None: not asked for, or not written yet)."""

    member: Member | None
    catalog_version: CatalogVersion | None
    activity: Activity | None = None


def read_member(sub: str, *, with_activity: bool = False) -> MemberRead:
    """The member, the catalog's version (and the member's activity item) in one strongly
    consistent BatchGetItem: each table is read as GetItem would with ``ConsistentRead``."""
    wanted: dict[str, dict[str, Any]] = {
        MemberModel.Meta.table_name: {"Keys": [{"sub": {"S": sub}}], "ConsistentRead": True},
        CatalogVersionItem.Meta.table_name: {
            "Keys": [{"pk": {"S": VERSION_KEY[0]}, "sk": {"S": VERSION_KEY[1]}}],
            "ConsistentRead": True,
        },
    }
    if with_activity:
        wanted[ActivityModel.Meta.table_name] = {"Keys": [{"sub": {"S": sub}}], "ConsistentRead": True}
    found: dict[str, list[dict[str, Any]]] = {}
    for _ in range(BATCH_ATTEMPTS):
        answer = connection().client.batch_get_item(RequestItems=wanted, ReturnConsumedCapacity="TOTAL")
        for table, items in answer.get("Responses", {}).items():
            found.setdefault(table, []).extend(items)
        wanted = answer.get("UnprocessedKeys") or {}
        if not wanted:
            break
    else:
        raise Unavailable("the database did not answer; try again", code="store_unavailable")
    members = found.get(MemberModel.Meta.table_name, [])
    versions = found.get(CatalogVersionItem.Meta.table_name, [])
    activities = found.get(ActivityModel.Meta.table_name, [])
    version = None
    if versions:
        item = CatalogVersionItem.from_raw_data(versions[0])
        version = CatalogVersion(item.generation or "", int(item.counter))
    return MemberRead(
        to_member(MemberModel.from_raw_data(members[0])) if members else None,
        version,
        to_activity(ActivityModel.from_raw_data(activities[0])) if activities else None,
    )
