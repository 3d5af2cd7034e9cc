"""The local stack's scheduler runs every job due at a moment, not one of them."""

from datetime import UTC, datetime

from chalicelib import jobs
from scripts.local_scheduler import due_next


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, 24, hour, minute, second, tzinfo=UTC)


def test_every_job_runs_at_its_minute_and_the_daily_jobs_at_their_time():
    assert due_next(at(0, 31)) == (["campaigns"], at(0, 35))
    assert due_next(at(0, 56)) == (["snapshot", "campaigns"], at(1, 0))
    assert due_next(at(1, 0, 30)) == (["segments"], at(1, 2))
    names, when = due_next(at(1, 2, 30))
    assert when == at(1, 5)
    moments = [name for name, minute in jobs.HOURLY_AT_MINUTE.items() if minute == 5]
    assert len(moments) == 6
    assert sorted(names) == sorted([*moments, "campaigns"])
    assert due_next(at(1, 10)) == (["expire_points", "campaigns"], at(1, 15))


def test_the_predictor_is_fitted_weekly_on_monday_night():
    monday = datetime(2026, 11, 30, 2, 26, tzinfo=UTC)
    assert due_next(monday) == (["fit_predictor", "campaigns"], monday.replace(minute=30))
    tuesday = datetime(2026, 12, 1, 2, 26, tzinfo=UTC)
    assert due_next(tuesday) == (["campaigns"], tuesday.replace(minute=30))
    sunday_late = datetime(2026, 12, 6, 23, 59, tzinfo=UTC)
    assert "fit_predictor" not in due_next(sunday_late)[0]
