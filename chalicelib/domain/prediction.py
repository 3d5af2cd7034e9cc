"""When a member is expected back: the predictor interface the reminders and win-back read
through, and the simple interval model behind it now (a better model plugs in without touching
the jobs: ``services/prediction.py``)."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from chalicelib.domain.features import Prediction

#: Recent visits kept per member: enough for a rhythm, bounded so the item does not grow.
VISITS_KEPT = 20


class Predictor(Protocol):
    name: str

    def predict(self, visit_days: Sequence[date], today: date) -> Prediction | None:
        """The member's next visit from their visit days (distinct, any order), or None when
        there is no rhythm to speak of."""
        ...


class IntervalPredictor:
    """The member's typical gap: the median of their recent gaps between visits (robust to a
    holiday or a double visit), added to their last visit."""

    name = "interval-median"

    def __init__(self, min_visits: int = 3, gaps_used: int = 10) -> None:
        self.min_visits = min_visits
        self.gaps_used = gaps_used

    def predict(self, visit_days: Sequence[date], today: date) -> Prediction | None:
        days = sorted(set(visit_days))
        if len(days) < max(2, self.min_visits):
            return None
        gaps = [(b - a).days for a, b in itertools.pairwise(days)][-self.gaps_used :]
        interval = max(1, round(statistics.median(gaps)))
        next_day = days[-1] + timedelta(days=interval)
        return Prediction(datetime.combine(next_day, time(12), tzinfo=UTC), self.name)


def recent(visit_days: Sequence[date]) -> list[date]:
    """The visit days worth keeping, oldest first."""
    return sorted(set(visit_days))[-VISITS_KEPT:]
