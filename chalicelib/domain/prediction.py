"""When a member is expected back: the predictor interface the reminders and win-back read
through. Each week the ``fit_predictor`` job fits the stacked latent-attrition model
(``domain/anticipation.py``) on the program's purchase history and gives every member who bought a
prediction with their typical wait; between fits, a visit moves the expected one by that wait
(``FittedWait``). A member the last fit did not know yet gets the simple interval model's."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from chalicelib.domain.features import Prediction

#: Recent visits kept per member: enough for a rhythm, bounded so the item does not grow.
VISITS_KEPT = 20


class Predictor(Protocol):
    name: str

    def predict(self, visit_days: Sequence[date], today: date, previous: Prediction | None = None) -> Prediction | None:
        """The member's next visit from their visit days (distinct, any order) and the prediction
        they had before the newest, or None when there is no rhythm to speak of."""
        ...


class IntervalPredictor:
    """The member's typical gap: the median of their recent gaps between visits (robust to a
    holiday or a double visit), added to their last visit."""

    name = "interval-median"

    def __init__(self, min_visits: int = 3, gaps_used: int = 10) -> None:
        self.min_visits = min_visits
        self.gaps_used = gaps_used

    def predict(self, visit_days: Sequence[date], today: date, previous: Prediction | None = None) -> Prediction | None:
        days = sorted(set(visit_days))
        if len(days) < max(2, self.min_visits):
            return None
        gaps = [(b - a).days for a, b in itertools.pairwise(days)][-self.gaps_used :]
        interval = max(1, round(statistics.median(gaps)))
        next_day = days[-1] + timedelta(days=interval)
        return Prediction(noon(next_day), self.name)


#: The catalog key of the newest fit (each fit is also kept under its own version).
CURRENT_FIT = "current"


@dataclass(frozen=True)
class StoredFit:
    """A fit of the anticipation model as the catalog keeps it: under its ``version`` (when it was
    fitted, ``YYYYMMDDTHHMMSSZ``, so versions sort in time) and, the newest, under ``current``."""

    key: str
    version: str
    fitted_at: datetime
    #: The history it was fitted on: customers, their purchase days, the last day it saw.
    customers: int
    purchase_days: int
    seconds: float
    #: ``anticipation.Fit.to_json()``: the parameters every prediction of this version came from.
    params: dict[str, Any] = field(default_factory=dict)


def noon(day: date) -> datetime:
    """A predicted visit day as a moment (midday UTC: the same day in every program's zone)."""
    return datetime.combine(day, time(12), tzinfo=UTC)


class FittedWait:
    """Between two fits: the member's fitted wait after a visit, from their newest visit (they just
    bought, so they are active). A member the last fit did not know falls back to ``fallback``."""

    def __init__(self, fallback: Predictor) -> None:
        self.fallback = fallback
        self.name = fallback.name

    def predict(self, visit_days: Sequence[date], today: date, previous: Prediction | None = None) -> Prediction | None:
        if previous is None or previous.wait_days is None or not visit_days:
            return self.fallback.predict(visit_days, today, previous)
        last = max(visit_days)
        return Prediction(noon(last + timedelta(days=previous.wait_days)), previous.model, 1.0, previous.wait_days)


def recent(visit_days: Sequence[date]) -> list[date]:
    """The visit days worth keeping, oldest first."""
    return sorted(set(visit_days))[-VISITS_KEPT:]
