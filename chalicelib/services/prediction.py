"""The member's rhythm, kept as events happen: each purchase (from the ledger's stream) adds its
day to the member's visit days and the predictor says when they are next expected: the weekly
fit's wait for the member from this visit (``FittedWait``; ``services/anticipation.py`` fits), the
interval model for a member no fit knows yet. The predictor is a port (``replaced``): the jobs
that read its predictions do not know which model wrote them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from chalicelib.domain.clock import Clock
from chalicelib.domain.features import Prediction
from chalicelib.domain.prediction import FittedWait, IntervalPredictor, Predictor, recent
from chalicelib.services import member_snapshot, program
from chalicelib.store import counters
from chalicelib.store import features as features_store
from chalicelib.store import members as member_store

log = structlog.get_logger("loyalty.prediction")

#: Ledger reasons that mean the member was in a store and bought.
VISIT_REASONS = frozenset({"purchase", "redemption"})

_predictor: Predictor | None = None


def predictor() -> Predictor:
    return _predictor or FittedWait(IntervalPredictor(min_visits=program.rules().moments.reminder.min_visits))


@contextmanager
def replaced(replacement: Predictor) -> Iterator[Predictor]:
    global _predictor
    before, _predictor = _predictor, replacement
    try:
        yield replacement
    finally:
        _predictor = before


def on_ledger_records(records: Iterable[tuple[str, dict[str, Any] | None]], *, clock: Clock) -> int:
    """Each new purchase entry adds its day to the member's visits and updates their prediction;
    returns how many members were updated. A record delivered twice adds the same day again,
    which changes nothing."""
    rules = program.rules()
    model = predictor()
    now = clock()
    updated = 0
    seen: set[tuple[str, str]] = set()
    predicted: dict[str, Prediction | None] = {}
    for event_name, image in records:
        if event_name != "INSERT" or not image:
            continue
        reason = image.get("reason", {}).get("S")
        if reason not in VISIT_REASONS or "purchase_id" not in image:
            continue
        event = counters.event_from_image(image)
        day = program.local_time(rules, event.at).date()
        if (event.customer_id, day.isoformat()) in seen:
            continue  # a purchase's redemption and earning are one visit
        seen.add((event.customer_id, day.isoformat()))
        found = member_store.find_claim("customer", event.customer_id)
        if found is None:
            continue  # the member left
        sub = found[0]
        features = features_store.add_visit(sub, day, now)
        kept = tuple(recent(features.visit_days))
        predicted[sub] = model.predict(kept, day, features.prediction)
        features_store.set_rhythm(sub, features.visit_days, kept, predicted[sub], now)
        updated += 1
    member_snapshot.predictions_changed(predicted, at=now)
    if updated:
        log.info("rhythm_updated", members=updated, model=model.name)
    return updated
