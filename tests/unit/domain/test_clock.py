"""Moments shown in UTC, whatever their offset, even at the edges of datetime's range."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.clock import in_utc, isoformat

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.builds(lambda naive, tz: naive.replace(tzinfo=tz), st.datetimes(), offsets)


@given(moments)
def test_every_aware_moment_has_a_utc_form_and_a_timestamp_text(moment):
    shown = in_utc(moment)
    assert shown.utcoffset() == timedelta(0)
    assert isoformat(moment).endswith("Z")


@given(moments)
def test_a_moment_python_can_hold_in_utc_is_the_same_instant(moment):
    try:
        exact = moment.astimezone(UTC)
    except OverflowError:
        return
    assert in_utc(moment) == exact == moment


def test_moments_beyond_the_range_are_pinned_to_its_edges():
    assert isoformat(datetime.fromisoformat("0001-01-01T00:00:00+14:00")) == "0001-01-01T00:00:00Z"
    assert isoformat(datetime.fromisoformat("9999-12-31T23:59:59-14:00")) == "9999-12-31T23:59:59Z"
