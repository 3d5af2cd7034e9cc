"""What the scheduled jobs remember between runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from chalicelib.domain.errors import DomainRefusal


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


#: How far ahead of this server's clock an admin's "now" may be: their clock, or the moment
#: they typed a minute ago, runs a little ahead of ours.
AS_OF_CLOCK_SKEW = timedelta(minutes=5)


class AsOfInFuture(DomainRefusal):
    """A job asked to run as of a moment that has not come yet."""

    default_field = "at"
    default_code = "at_in_future"


def check_as_of(at: datetime, now: datetime, *, future_allowed: bool) -> None:
    """Refuse a run as of the future where it would act on real members.

    Expiring points "as of" next year destroys points that are not due yet, and a tier review
    ahead of time demotes members early; the local stage allows it for demos and tests.
    """
    if not future_allowed and at > now + AS_OF_CLOCK_SKEW:
        raise AsOfInFuture("must not be in the future on this stage")
