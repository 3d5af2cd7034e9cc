"""Keeping the members' columnar snapshot current from the write streams (``store/snapshot.py``).

The members table's stream gives every change of a member (a purchase, a tier, a consent, a
leaving) as the item after it; each batch of records becomes one delta file of rows without the
member's personal data. The predictor's updates (``services/prediction.py``) add theirs the same
way; the purchases table's stream keeps the purchase history the predictor is fitted on.
Compaction folds the deltas into a base each hour (the ``snapshot`` job).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict

import structlog

from chalicelib.domain.clock import isoformat
from chalicelib.domain.features import Prediction
from chalicelib.store import snapshot

log = structlog.get_logger("loyalty.snapshot")


def on_member_records(records: Iterable[Mapping[str, Any]], *, at: datetime) -> int:
    """One delta of the members' rows in this batch of the members table's stream (records as
    DynamoDB Streams and Lambda's event give them); returns how many rows. A record delivered
    twice writes the same row twice, which reads as one."""
    rows: list[dict[str, Any]] = []
    left: list[dict[str, Any]] = []
    purchases_left: list[dict[str, Any]] = []
    for record in records:
        change = record["dynamodb"]
        seq = snapshot.seq_of(change["SequenceNumber"])
        image = change.get("NewImage")
        if record["eventName"] == "REMOVE" or not image:
            sub = str(change["Keys"]["sub"]["S"])
            rows.append(snapshot.removed_row(sub, seq))
            left.append(snapshot.removed_row(sub, _time_seq(at)))
            customer_id = change.get("OldImage", {}).get("customer_id", {}).get("S")
            if customer_id:
                purchases_left.append(snapshot.customer_left_row(str(customer_id), at))
        else:
            rows.append(snapshot.member_row(image, seq))
    target = snapshot.current()
    target.append(snapshot.MEMBERS, rows)
    target.append(snapshot.PREDICTIONS, left)
    target.append(snapshot.PURCHASES, purchases_left)
    if rows:
        log.info("snapshot_members_written", rows=len(rows), left=len(left))
    return len(rows)


def on_purchase_records(records: Iterable[Mapping[str, Any]]) -> int:
    """One delta of the purchase history from this batch of the purchases table's stream: each new
    purchase, and each refunded one again with what it comes to now; returns how many rows."""
    rows = [
        snapshot.purchase_row(record["dynamodb"]["NewImage"])
        for record in records
        if record["eventName"] in ("INSERT", "MODIFY") and record["dynamodb"].get("NewImage")
    ]
    snapshot.current().append(snapshot.PURCHASES, rows)
    return len(rows)


def predictions_changed(predictions: Mapping[str, Prediction | None], *, at: datetime) -> None:
    """The predictor's latest word for these members (None: it has none any more)."""
    seq = _time_seq(at)
    rows = [
        {"sub": sub, "seq": seq, "deleted": True}
        if p is None
        else {"sub": sub, "seq": seq, "deleted": False, "next_visit_at": _naive_utc(p.next_visit_at), "model": p.model}
        for sub, p in predictions.items()
    ]
    snapshot.current().append(snapshot.PREDICTIONS, rows)


class CompactionRun(TypedDict):
    job: str
    at: str
    folded: int


def compact(at: datetime) -> CompactionRun:
    """The ``snapshot`` job: fold each dataset's deltas into a new base."""
    target = snapshot.current()
    folded = sum(target.compact(dataset) for dataset in snapshot.DATASETS)
    forgotten = snapshot.forget_old_holdouts(target)
    log.info("snapshot_compacted", folded=folded, holdouts_forgotten=forgotten)
    return {"job": "snapshot", "at": isoformat(at), "folded": folded}


def _time_seq(at: datetime) -> str:
    return snapshot.time_seq(at)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
