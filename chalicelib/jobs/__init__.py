"""Scheduled and queue-driven work (birthdays, reminders, campaigns, expiry).

Every job is ``run(at) -> summary`` and idempotent for the same moment; ``run`` here dispatches
by name for the admin's ``POST /v1/jobs/{name}/run`` and for the schedules.

When each job runs is ``chalicelib/schedule.py``'s (re-exported here: ``DAILY_AT_UTC``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from chalicelib import schedule
from chalicelib.config import settings
from chalicelib.domain.clock import Clock
from chalicelib.domain.jobs import check_as_of
from chalicelib.errors import NotFound
from chalicelib.jobs import (
    birthdays,
    expire_points,
    fanout,
    keep_in_touch,
    points_expiring,
    reminders,
    surprises,
    tier_review,
    winback,
)
from chalicelib.schedule import DAILY_AT_UTC, EVERY_MINUTES, HOURLY_AT_MINUTE, NAMES, WEEKLY_AT_UTC
from chalicelib.services import anticipation, campaigns, member_snapshot, segments
from chalicelib.services.catalog_cache import one_reading

#: What a job's run says it did.
JobSummary = (
    expire_points.ExpiryRun
    | tier_review.TierReviewRun
    | fanout.FanoutRun
    | segments.MembershipRun
    | member_snapshot.CompactionRun
    | campaigns.CampaignsRun
    | anticipation.FitRun
)

fanout.HANDLERS.update(
    {
        "campaign_run": campaigns.on_run,
        "campaign": campaigns.on_members,
        anticipation.PREDICTIONS_JOB: anticipation.on_predictions,
    }
)

JOBS: dict[str, Callable[[datetime], JobSummary]] = {
    expire_points.NAME: expire_points.run,
    tier_review.NAME: tier_review.run,
    # The members' snapshot folded (hourly), and each saved segment's membership written from it.
    "snapshot": member_snapshot.compact,
    "segments": segments.refresh_memberships,
    # Campaign runs that came due (every few minutes; a launch for now starts its run itself).
    "campaigns": campaigns.run_due,
    # The anticipation model fitted on the purchase history (weekly), its predictions fanned out.
    anticipation.NAME: anticipation.fit_predictor,
    # The moments: each selects through its index and fans out on the contacts queue.
    **{name: partial(fanout.run, moment) for name, moment in fanout.MOMENTS.items()},
}

#: The moments' jobs, in the order ``schedule.MOMENTS`` names them.
MOMENTS = (birthdays, points_expiring, keep_in_touch, reminders, winback, surprises)
if set(JOBS) != NAMES or tuple(m.NAME for m in MOMENTS) != schedule.MOMENTS:
    raise RuntimeError(f"chalicelib/schedule.py names {sorted(NAMES)}, the jobs are {sorted(JOBS)}")


def run(name: str, at: datetime) -> JobSummary:
    job = _job(name)
    with one_reading():  # a job over many members reads the catalog's version once
        return job(at)


def run_on_request(name: str, at: datetime | None, *, clock: Clock) -> JobSummary:
    """An admin's run, as of now or of the moment they give (never ahead of now outside local)."""
    job = _job(name)
    now = clock()
    if at is not None:
        check_as_of(at, now, future_allowed=settings().is_local)
    fit_function = settings().fit_function
    if name == anticipation.NAME and fit_function:
        return anticipation.start_in_own_function(fit_function, at or now)
    return job(at or now)


def _job(name: str) -> Callable[[datetime], JobSummary]:
    job = JOBS.get(name)
    if job is None:
        raise NotFound(f"no job named {name!r}; jobs: {', '.join(sorted(JOBS))}", code="unknown_job")
    return job


__all__ = ["DAILY_AT_UTC", "EVERY_MINUTES", "HOURLY_AT_MINUTE", "JOBS", "WEEKLY_AT_UTC", "JobSummary", "run"]
