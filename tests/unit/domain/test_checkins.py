from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.checkins import (
    DWELL,
    MAX_SPEED_M_S,
    PER_MINUTE,
    Checkin,
    ImpossibleSpeed,
    MinuteCount,
    Sighting,
    TooManyCheckins,
    count_minute,
    decide_checkin,
)
from chalicelib.domain.errors import RefusalKind
from chalicelib.geo.distance import haversine_m

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
MITTE = (13.4050, 52.5200)
#: About 2.5 km east of MITTE.
ALEX = (13.4420, 52.5200)


def last(at=NOW, store_id="s1", position=MITTE, wallet_ids=("o1#1",), minute_count=1, fixed_at=None):
    return Checkin(
        "chk_first",
        at,
        store_id,
        position[0] if position else None,
        position[1] if position else None,
        wallet_ids,
        at,
        minute_count,
        fixed_at,
    )


def decide(previous, sighting, now):
    return decide_checkin(previous, count_minute(previous, now), sighting, now, "chk_new")


def test_the_first_checkin_at_a_store_is_a_new_visit_that_may_issue():
    decision = decide(None, Sighting("s1", MITTE), NOW)
    assert not decision.same_visit and decision.may_issue
    assert decision.record.checkin_id == "chk_new" and decision.record.wallet_ids == ()
    assert (decision.record.lon, decision.record.lat, decision.record.fixed_at) == (*MITTE, NOW)


def test_the_same_store_within_the_dwell_window_is_the_same_visit_with_its_offers():
    decision = decide(last(), Sighting("s1", MITTE), NOW + DWELL - timedelta(seconds=1))
    assert decision.same_visit and not decision.may_issue
    assert decision.record.checkin_id == "chk_first" and decision.record.at == NOW
    assert decision.record.wallet_ids == ("o1#1",)


def test_the_same_store_after_the_dwell_window_or_another_store_is_a_new_visit():
    assert not decide(last(), Sighting("s1", MITTE), NOW + DWELL).same_visit
    assert not decide(last(), Sighting("s2", MITTE), NOW + timedelta(minutes=1)).same_visit


def test_a_checkin_that_locates_nothing_may_issue_nothing_and_keeps_the_last_known_position():
    decision = decide(last(), Sighting(None, None), NOW + timedelta(minutes=5))
    assert not decision.may_issue
    assert (decision.record.lon, decision.record.lat, decision.record.fixed_at) == (*MITTE, NOW)
    # so a fix far away right after is still too fast
    with pytest.raises(ImpossibleSpeed):
        decide(decision.record, Sighting("s9", (MITTE[0] + 1, MITTE[1])), NOW + timedelta(minutes=6))


def test_a_jump_faster_than_a_person_is_refused_naming_the_type():
    with pytest.raises(ImpossibleSpeed) as refused:
        decide(last(), Sighting("s2", (MITTE[0] + 1, MITTE[1])), NOW + timedelta(seconds=30))
    assert refused.value.field == "type" and refused.value.code == "impossible_speed"


def test_a_short_hop_is_never_too_fast_even_in_the_same_instant():
    assert decide(last(), Sighting("s2", (MITTE[0] + 0.01, MITTE[1])), NOW).record.store_id == "s2"


def test_more_checkins_in_a_minute_than_a_phone_sends_are_rate_limited():
    assert count_minute(last(minute_count=PER_MINUTE - 1), NOW + timedelta(seconds=59)) == MinuteCount(NOW, PER_MINUTE)
    with pytest.raises(TooManyCheckins) as refused:
        count_minute(last(minute_count=PER_MINUTE), NOW + timedelta(seconds=59))
    assert refused.value.kind is RefusalKind.RATE_LIMITED and refused.value.code == "checkin_rate_limited"
    assert count_minute(last(minute_count=PER_MINUTE), NOW + timedelta(minutes=1)) == MinuteCount(
        NOW + timedelta(minutes=1), 1
    )


seconds = st.integers(min_value=0, max_value=3 * 3600)
offsets = st.floats(min_value=-0.5, max_value=0.5, allow_nan=False)


@given(gaps=st.lists(seconds, min_size=1, max_size=30))
def test_no_run_of_checkins_ever_counts_more_than_a_phone_sends_in_a_minute(gaps):
    previous, now = None, NOW
    for gap in gaps:
        now += timedelta(seconds=gap)
        try:
            minute = count_minute(previous, now)
        except TooManyCheckins:
            continue
        assert 1 <= minute.count <= PER_MINUTE and now - minute.start < timedelta(minutes=1)
        previous = decide_checkin(previous, minute, Sighting(None, None), now, "chk").record


@given(gap=seconds, dx=offsets, dy=offsets)
def test_a_fix_is_refused_exactly_when_it_is_far_and_faster_than_a_person(gap, dx, dy):
    position = (MITTE[0] + dx, MITTE[1] + dy)
    now = NOW + timedelta(minutes=5, seconds=gap)
    distance = haversine_m(*MITTE, *position)
    too_fast = distance > 1_000 and distance / max(1.0, (now - NOW).total_seconds()) > MAX_SPEED_M_S
    try:
        decide(last(), Sighting("s2", position), now)
    except ImpossibleSpeed:
        assert too_fast
    else:
        assert not too_fast


@given(gaps=st.lists(st.tuples(seconds, st.sampled_from(["s1", "s2", None])), min_size=1, max_size=20))
def test_a_visit_keeps_its_id_and_start_and_only_a_new_visit_to_a_store_may_issue(gaps):
    previous, now = None, NOW
    for gap, store_id in gaps:
        now += timedelta(seconds=gap, minutes=1)  # past the rate window: only the visit rules speak
        sighting = Sighting(store_id, MITTE if store_id else None)
        decision = decide(previous, sighting, now)
        if decision.same_visit:
            assert previous is not None
            assert (decision.record.checkin_id, decision.record.at) == (previous.checkin_id, previous.at)
            assert now - previous.at < DWELL and not decision.may_issue
        else:
            assert decision.record.at == now and decision.may_issue == (store_id is not None)
        previous = decision.record
