"""The ``fit_predictor`` job: the anticipation model (``domain/anticipation.py``) fitted on the
program's own purchase history, weekly, and every member who bought given a prediction from it.

1. **The history** is the snapshot's ``purchases`` dataset (``store/snapshot.py``): one row per
   purchase, net of refunds, kept from the purchases table's stream; a member who left is not in
   it. DuckDB sums it per member and program-local day, so the job reads a file, never the live
   tables.
2. **The fit** is stored in the catalog under its version (``predictor_fit/<version>``) and as
   ``predictor_fit/current``: every prediction names the version it came from.
3. **The predictions** go out through the contacts queue, ``PREDICTIONS_PER_MESSAGE`` members a
   message (the job's cost is one file read, one fit and a few queue batches; the writes are spread
   over the queue's consumers). Each member's features get the predicted visit (last visit plus
   their typical wait), the chance they are still active and the wait itself, unless they visited
   after the day the fit saw: their visit's own update (the fitted wait from that visit) is newer.

The reminders and win-back read the features; they never fit. scipy is imported here, in the job,
never on a request's path.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any, NotRequired, TypedDict

import structlog

from chalicelib import archives, queues
from chalicelib.domain.clock import isoformat
from chalicelib.domain.features import Prediction
from chalicelib.domain.prediction import CURRENT_FIT, StoredFit, noon
from chalicelib.services import member_snapshot, program
from chalicelib.store import catalog, snapshot
from chalicelib.store import features as features_store

NAME = "fit_predictor"
#: The body's ``job`` of the queue messages that carry predictions.
PREDICTIONS_JOB = "predictions"
#: Expected purchases are counted over this many days ahead (the fit's horizon).
HORIZON_DAYS = 90
#: A fit needs this many members who bought, over at least this many days of history: on less
#: (a program's first days) the likelihoods have nothing to learn from and the interval model's
#: predictions stay.
MIN_FIT_CUSTOMERS = 10
MIN_HISTORY_DAYS = 28
#: Members per queue message (about 100 bytes each, far within SQS's 256 KB).
PREDICTIONS_PER_MESSAGE = 100
#: Features written at once by one consumer (each an UpdateItem of its own).
WRITERS = 8

log = structlog.get_logger("loyalty.anticipation")


class FitRun(TypedDict):
    job: str
    at: str
    #: The fit's version (None: nothing was fitted, for ``not_fitted``'s reason).
    version: str | None
    not_fitted: str | None
    customers: int
    purchase_days: int
    fit_seconds: float
    #: Queue messages carrying the predictions.
    messages: int
    #: The function the fit was handed to (AWS, an admin's run: the API's package has no scipy);
    #: its figures are then in that function's log, and the others here are zero.
    running_in: NotRequired[str]


def history(as_of: date) -> list[tuple[str, date, float]]:
    """``(sub, day, amount in minor units)`` per member and program-local day with a purchase on or
    before ``as_of``; fully refunded purchases left out."""
    rules = program.rules()
    with snapshot.current().connect() as con:
        rows = con.execute(
            "SELECT m.sub, CAST((p.bought_at AT TIME ZONE 'UTC') AT TIME ZONE ? AS DATE) AS day, sum(p.amount_minor) "
            "FROM purchases p JOIN members m USING (customer_id) WHERE NOT p.refunded "
            "GROUP BY ALL HAVING day <= ? ORDER BY 1, 2",
            [rules.timezone, as_of],
        ).fetchall()
    return [(str(sub), day, float(amount or 0)) for sub, day, amount in rows]


def start_in_own_function(function: str, at: datetime) -> FitRun:
    """The fit handed to its own function (``fit_predictor_weekly``), asynchronously: on AWS only
    that function's package carries scipy. It runs as of ``at`` as the schedule's run would."""
    import boto3

    # The shape of the scheduled event the function is written for, as of ``at``.
    payload = json.dumps(
        {"version": "0", "id": uuid.uuid4().hex, "detail-type": "Scheduled Event", "source": "loyalty.api",
         "account": "", "time": isoformat(at), "region": "", "resources": [], "detail": {}}
    ).encode()  # fmt: skip
    boto3.client("lambda").invoke(FunctionName=function, InvocationType="Event", Payload=payload)
    log.info("predictor_fit_started", function=function)
    return {"job": NAME, "at": isoformat(at), "version": None, "not_fitted": None, "customers": 0,
            "purchase_days": 0, "fit_seconds": 0.0, "messages": 0, "running_in": function}  # fmt: skip


def fit_predictor(at: datetime) -> FitRun:
    """Fit on the history up to ``at``'s program day, store the fit, send out the predictions."""
    # scipy: the fitting job's, never a request's (on AWS only the fit's package carries it,
    # compressed: chalicelib/archives.py).
    archives.unpack("scipy")
    from chalicelib.domain import anticipation

    as_of = program.local_time(program.rules(), at).date()
    rows = history(as_of)
    past = anticipation.History.of(rows, as_of)
    reason = None
    if len(past) < MIN_FIT_CUSTOMERS:
        reason = "too_few_customers"
    elif (as_of - min(past.first)).days < MIN_HISTORY_DAYS:
        reason = "too_short_history"
    if reason is not None:
        log.info("predictor_not_fitted", reason=reason, customers=len(past))
        return {"job": NAME, "at": isoformat(at), "version": None, "not_fitted": reason, "customers": len(past),
                "purchase_days": len(rows), "fit_seconds": 0.0, "messages": 0}  # fmt: skip
    started = time.perf_counter()
    model = anticipation.fit(rows, as_of, HORIZON_DAYS, past)
    seconds = round(time.perf_counter() - started, 3)
    predicted = anticipation.predict(model, past)
    version = at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    stored = StoredFit(version, version, at, len(past), len(rows), seconds, model.to_json())
    catalog.put(stored)
    catalog.put(dataclasses.replace(stored, key=CURRENT_FIT))
    entries = [
        [sub, last.isoformat(), wait, round(float(p), 4)]
        for sub, last, wait, p in zip(past.ids, past.last, predicted.wait_days, predicted.p_active, strict=True)
    ]
    model_name = f"{model.model}@{version}"
    bodies = [
        {"job": PREDICTIONS_JOB, "at": isoformat(at), "model": model_name, "entries": chunk}
        for chunk in queues.chunks(entries, PREDICTIONS_PER_MESSAGE)
    ]
    messages = queues.send(queues.CONTACTS, bodies)
    log.info("predictor_fitted", version=version, customers=len(past), seconds=seconds, messages=messages)
    return {"job": NAME, "at": isoformat(at), "version": version, "not_fitted": None, "customers": len(past),
            "purchase_days": len(rows), "fit_seconds": seconds, "messages": messages}  # fmt: skip


def on_predictions(body: Mapping[str, Any]) -> None:
    """The contacts queue's consumer for one message of a fit's predictions: each member's written
    unless they visited since the fit's day. A message delivered twice writes the same again."""
    at = datetime.fromisoformat(str(body["at"]))
    model = str(body["model"])

    def write(entry: list[Any]) -> tuple[str, Prediction] | None:
        sub, last_day, wait, p_active = entry
        last = date.fromisoformat(last_day)
        prediction = Prediction(noon(last + timedelta(days=int(wait))), model, float(p_active), int(wait))
        return (str(sub), prediction) if features_store.set_fitted_prediction(str(sub), prediction, last, at) else None

    # The members of a message are independent writes: in parallel, as a batch of them is.
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        written: dict[str, Prediction | None] = dict(done for done in pool.map(write, body["entries"]) if done)
    member_snapshot.predictions_changed(written, at=at)
    log.info("predictions_written", model=model, written=len(written), newer=len(body["entries"]) - len(written))


def current_fit() -> StoredFit | None:
    return catalog.get(StoredFit, CURRENT_FIT)
