"""What the scheduled jobs remember between runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class JobState:
    name: str
    #: The latest moment a run was made as of; the next run starts its catch-up from here.
    last_run_at: datetime | None = None


def months_since(state: JobState | None, today: date, first_run_months: int) -> int:
    """How many months (this one included) a job that indexes by month must query to catch up
    with everything since its last run; ``first_run_months`` when it never ran."""
    if state is None or state.last_run_at is None:
        return first_run_months
    last = state.last_run_at.date()
    return max(1, (today.year - last.year) * 12 + today.month - last.month + 1)
