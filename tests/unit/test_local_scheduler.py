"""The local stack's scheduler runs every job due at a moment, not one of them."""

from datetime import UTC, datetime

from chalicelib import jobs
from scripts.local_scheduler import due_next


def test_every_hourly_moment_runs_at_its_minute_and_the_daily_jobs_at_their_time():
    names, at = due_next(datetime(2026, 11, 24, 0, 30, tzinfo=UTC))
    assert (names, at) == (["snapshot"], datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    names, at = due_next(datetime(2026, 11, 24, 1, 0, 30, tzinfo=UTC))
    assert (names, at) == (["segments"], datetime(2026, 11, 24, 1, 2, tzinfo=UTC))
    names, at = due_next(datetime(2026, 11, 24, 1, 2, 30, tzinfo=UTC))
    assert at == datetime(2026, 11, 24, 1, 5, tzinfo=UTC)
    assert sorted(names) == sorted(name for name, minute in jobs.HOURLY_AT_MINUTE.items() if minute == 5)
    assert len(names) == 6
    names, at = due_next(datetime(2026, 11, 24, 1, 10, tzinfo=UTC))
    assert (names, at) == (["expire_points"], datetime(2026, 11, 24, 1, 15, tzinfo=UTC))
