"""When a job may run as of a given moment."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.jobs import AS_OF_CLOCK_SKEW, AsOfInFuture, check_as_of

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ahead = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=365 * 70))


@given(ahead)
def test_the_local_stage_runs_a_job_as_of_any_moment(delta):
    check_as_of(NOW + delta, NOW, future_allowed=True)
    check_as_of(NOW - delta, NOW, future_allowed=True)


@given(ahead)
def test_elsewhere_a_job_runs_as_of_the_past_or_a_moment_within_the_clock_skew(delta):
    check_as_of(NOW - delta, NOW, future_allowed=False)
    check_as_of(NOW + min(delta, AS_OF_CLOCK_SKEW), NOW, future_allowed=False)


@given(ahead.filter(lambda d: d > timedelta(0)))
def test_elsewhere_a_job_as_of_beyond_the_clock_skew_is_refused(delta):
    with pytest.raises(AsOfInFuture):
        check_as_of(NOW + AS_OF_CLOCK_SKEW + delta, NOW, future_allowed=False)
