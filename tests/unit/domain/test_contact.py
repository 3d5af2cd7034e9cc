"""The contact policy: who may be sent what, when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import contact
from chalicelib.domain.contact import (
    ALREADY_CONTACTED,
    FREQUENCY_CAP,
    FREQUENCY_WINDOW,
    KEY_MEMORY,
    NO_CONSENT,
    NOT_A_MEMBER,
    Allowed,
    Purpose,
    Refused,
    in_quiet_hours,
    quiet_hours_end,
    recorded,
)
from chalicelib.domain.features import Features
from chalicelib.domain.members import Member, QuietHours
from chalicelib.domain.program import ContactPolicy
from tests.fakes import alice

BERLIN = ZoneInfo("Europe/Berlin")
JOINED = datetime(2026, 1, 5, 10, tzinfo=UTC)
#: Noon in Berlin on a winter day (UTC+1).
NOON = datetime(2026, 11, 24, 11, tzinfo=UTC)
MARKETING = [kind for kind, purpose in contact.KINDS.items() if purpose is Purpose.MARKETING]
TRANSACTIONAL = [kind for kind, purpose in contact.KINDS.items() if purpose is Purpose.TRANSACTIONAL]
SERVICE = [kind for kind, purpose in contact.KINDS.items() if purpose is Purpose.SERVICE]
#: The program's defaults: one marketing message a week, quiet 21:00-09:00 for who set none.
POLICY = ContactPolicy()
DEFAULT_QUIET_HOURS = QuietHours(POLICY.quiet_start, POLICY.quiet_end)
decide = partial(contact.decide, policy=POLICY)
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC", "Pacific/Apia"]


def member(**changes: object) -> Member:
    return alice(customer_id="c_1", joined_at=JOINED, consent_updated_at=JOINED, **changes)


NOBODY = Features("alice")


def test_a_campaign_reaches_a_consenting_member_at_noon():
    assert decide(member(), NOBODY, "campaign", "campaign#c1", NOON) == Allowed(Purpose.MARKETING)


def test_marketing_needs_consent():
    assert decide(member(marketing_consent=False), NOBODY, "campaign", "campaign#c1", NOON) == Refused(NO_CONSENT)


def test_nobody_who_left_or_has_not_joined_yet_is_contacted():
    assert decide(None, NOBODY, "receipt", "receipt#p1", NOON) == Refused(NOT_A_MEMBER)
    before_joining = JOINED - timedelta(minutes=1)
    assert decide(member(), NOBODY, "receipt", "receipt#p1", before_joining) == Refused(NOT_A_MEMBER)


def test_a_key_is_sent_once_for_as_long_as_it_is_remembered():
    sent = recorded(NOBODY, "birthday", "birthday#2026", NOON)
    a_week_later = NOON + FREQUENCY_WINDOW
    assert decide(member(), sent, "birthday", "birthday#2026", a_week_later) == Refused(ALREADY_CONTACTED)
    assert decide(member(), sent, "birthday", "birthday#2027", a_week_later) == Allowed(Purpose.MARKETING)
    assert decide(member(), sent, "birthday", "birthday#2026", NOON + KEY_MEMORY) == Allowed(Purpose.MARKETING)


def test_the_frequency_cap_counts_a_rolling_week_not_a_calendar_week():
    sunday_night = datetime(2026, 11, 29, 18, tzinfo=UTC)
    sent = recorded(NOBODY, "campaign", "campaign#c1", sunday_night)
    monday = sunday_night + timedelta(hours=16)
    assert decide(member(), sent, "campaign", "campaign#c2", monday) == Refused(FREQUENCY_CAP)
    week_later = datetime(2026, 12, 6, 18, 1, tzinfo=UTC)
    assert decide(member(), sent, "campaign", "campaign#c2", week_later) == Allowed(Purpose.MARKETING)


def test_transactional_messages_are_neither_capped_nor_counted_nor_held_by_consent_or_quiet_hours():
    at_night = NOON.replace(hour=23)
    capped = recorded(NOBODY, "campaign", "campaign#c1", at_night - timedelta(hours=1))
    nobody_wants_marketing = member(marketing_consent=False)
    for kind in TRANSACTIONAL:
        assert decide(nobody_wants_marketing, capped, kind, f"{kind}#1", at_night) == Allowed(Purpose.TRANSACTIONAL)
    receipts = recorded(NOBODY, "amends", "amends#p1", NOON)
    assert receipts.marketing_sent == ()
    assert decide(member(), receipts, "campaign", "campaign#c1", NOON) == Allowed(Purpose.MARKETING)


def test_service_messages_need_no_consent_and_no_room_under_the_cap_but_their_push_waits_out_quiet_hours():
    at_night = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    capped = recorded(NOBODY, "campaign", "campaign#c1", at_night - timedelta(hours=1))
    nobody_wants_marketing = member(marketing_consent=False)
    morning = datetime(2026, 11, 25, 9, tzinfo=BERLIN)
    for kind in SERVICE:
        decision = decide(nobody_wants_marketing, capped, kind, f"{kind}#1", at_night)
        assert decision == Allowed(Purpose.SERVICE, push_after=morning)
        assert decide(nobody_wants_marketing, capped, kind, f"{kind}#1", NOON) == Allowed(Purpose.SERVICE)
    assert recorded(NOBODY, "points_expiring", "points_expiring#2026-12-01", NOON).marketing_sent == ()


def test_marketing_in_quiet_hours_is_decided_now_and_its_push_waits_for_their_end_in_the_members_zone():
    late = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    assert decide(member(), NOBODY, "campaign", "campaign#c1", late) == Allowed(
        Purpose.MARKETING, push_after=datetime(2026, 11, 25, 9, tzinfo=BERLIN)
    )
    # Early morning, before the default end: the same day's end.
    early = datetime(2026, 11, 25, 6, tzinfo=UTC)
    assert decide(member(), NOBODY, "campaign", "campaign#c1", early) == Allowed(
        Purpose.MARKETING, push_after=datetime(2026, 11, 25, 9, tzinfo=BERLIN)
    )
    # The member's own hours, in their own zone: 23:30 in Berlin is 17:30 in New York.
    own = member(timezone="America/New_York", quiet_hours=QuietHours("17:00", "18:15"))
    assert decide(own, NOBODY, "campaign", "campaign#c1", late) == Allowed(
        Purpose.MARKETING, push_after=datetime(2026, 11, 24, 18, 15, tzinfo=ZoneInfo("America/New_York"))
    )


def test_the_programs_policy_sets_the_cap_and_the_default_quiet_hours():
    generous = ContactPolicy(marketing_per_week=2, quiet_start="23:00", quiet_end="07:00")
    once = recorded(NOBODY, "birthday", "birthday#2026", NOON - timedelta(days=1))
    assert contact.decide(member(), once, "campaign", "campaign#c1", NOON, generous) == Allowed(Purpose.MARKETING)
    twice = recorded(once, "campaign", "campaign#c1", NOON)
    later = NOON + timedelta(hours=1)
    assert contact.decide(member(), twice, "reminder", "reminder#x", later, generous) == Refused(FREQUENCY_CAP)
    ten_pm = datetime(2026, 11, 24, 21, tzinfo=UTC)  # 22:00 in Berlin: quiet by default, not under this policy
    assert contact.decide(member(), NOBODY, "campaign", "campaign#c2", ten_pm, generous) == Allowed(Purpose.MARKETING)
    assert decide(member(), NOBODY, "campaign", "campaign#c2", ten_pm).push_after is not None
    silent = ContactPolicy(marketing_per_week=0)
    assert contact.decide(member(), NOBODY, "campaign", "campaign#c1", NOON, silent) == Refused(FREQUENCY_CAP)


def test_equal_start_and_end_mean_no_quiet_hours():
    always_open = member(quiet_hours=QuietHours("00:00", "00:00"))
    assert decide(always_open, NOBODY, "campaign", "campaign#c1", NOON.replace(hour=2)) == Allowed(Purpose.MARKETING)


def test_a_decision_on_another_members_features_is_a_bug_not_a_message():
    with pytest.raises(ValueError, match="another member"):
        decide(member(), Features("bob"), "receipt", "receipt#p1", NOON)


def test_a_kind_nobody_classified_cannot_be_sent():
    with pytest.raises(ValueError, match="unknown message kind"):
        decide(member(), NOBODY, "newsletter", "newsletter#1", NOON)


def test_recording_forgets_what_no_rule_reads_again():
    old = recorded(NOBODY, "campaign", "campaign#old", NOON - KEY_MEMORY)
    now = recorded(old, "receipt", "receipt#p1", NOON)
    assert now.keys == {"receipt#p1": NOON}
    assert now.marketing_sent == ()
    assert now.last_contact == {"campaign": NOON - KEY_MEMORY, "receipt": NOON}
    assert now.revision == old.revision == 0  # the store bumps it when it commits the contact


# --- properties ------------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2026, 1, 6), max_value=datetime(2030, 12, 31), timezones=st.just(UTC))
wall_times = st.times().map(lambda t: t.replace(second=0, microsecond=0).strftime("%H:%M"))
quiet_hours = st.none() | st.builds(QuietHours, wall_times, wall_times)
members = st.builds(
    member,
    marketing_consent=st.booleans(),
    timezone=st.sampled_from(ZONES),
    quiet_hours=quiet_hours,
)


@st.composite
def histories(draw: st.DrawFn) -> tuple[Features, datetime]:
    """Features after a few sends at increasing moments, and a moment after them."""
    features, at = NOBODY, draw(moments)
    for _ in range(draw(st.integers(0, 4))):
        at += draw(st.timedeltas(timedelta(0), timedelta(days=10)))
        kind = draw(st.sampled_from(sorted(contact.KINDS)))
        features = recorded(features, kind, f"{kind}#{draw(st.integers(0, 3))}", at)
    return features, at + draw(st.timedeltas(timedelta(0), timedelta(days=10)))


@given(members, histories(), st.sampled_from(sorted(contact.KINDS)), st.integers(0, 3))
def test_marketing_never_goes_without_consent_nor_over_the_cap_and_no_push_goes_in_quiet_hours(
    member_, history, kind, n
):
    features, now = history
    decision = decide(member_, features, kind, f"{kind}#{n}", now)
    if not isinstance(decision, Allowed):
        return
    if contact.KINDS[kind] is Purpose.MARKETING:
        assert member_.marketing_consent
        assert features.marketing_since(now - FREQUENCY_WINDOW) < POLICY.marketing_per_week
    if contact.KINDS[kind] is not Purpose.TRANSACTIONAL:
        quiet = member_.quiet_hours or DEFAULT_QUIET_HOURS
        zone = ZoneInfo(member_.timezone)
        assert (decision.push_after is not None) == in_quiet_hours(quiet, zone, now)
        if decision.push_after is not None:
            assert decision.push_after > now and not in_quiet_hours(quiet, zone, decision.push_after)


@given(members, histories(), st.sampled_from(TRANSACTIONAL), st.integers(0, 3))
def test_transactional_ignores_consent_the_cap_and_quiet_hours(member_, history, kind, n):
    features, now = history
    key = f"{kind}#{n}"
    decision = decide(member_, features, kind, key, now)
    assert decision == (Refused(ALREADY_CONTACTED) if key in features.keys else Allowed(Purpose.TRANSACTIONAL))


@given(members, histories(), st.sampled_from(sorted(contact.KINDS)), st.integers(0, 3))
def test_a_message_sent_under_a_key_is_never_allowed_again_under_it_while_remembered(member_, history, kind, n):
    features, now = history
    key = f"{kind}#{n}"
    after = recorded(features, kind, key, now)
    later = now + timedelta(days=n * 30)
    assert decide(member_, after, kind, key, later) == Refused(ALREADY_CONTACTED)


@given(st.sampled_from(ZONES), quiet_hours.filter(lambda q: q is not None), moments)
def test_a_deferral_ends_after_now_outside_quiet_hours_and_within_a_day_or_so(zone, quiet, now):
    tz = ZoneInfo(zone)
    end = quiet_hours_end(quiet, tz, now)
    if not in_quiet_hours(quiet, tz, now):
        assert end is None
        return
    assert end is not None
    assert now < end <= now + timedelta(days=2)
    assert not in_quiet_hours(quiet, tz, end)
    # Nothing in between is outside them: the member is not kept waiting past the first chance.
    step = now
    while step + timedelta(minutes=30) < end:
        step += timedelta(minutes=30)
        assert in_quiet_hours(quiet, tz, step) or _clock_jumped(tz, step)


def _clock_jumped(tz: ZoneInfo, at: datetime) -> bool:
    """Within an hour of a change of the zone's offset (a wall-clock range that never happens)."""
    return (at - timedelta(hours=1)).astimezone(tz).utcoffset() != (at + timedelta(hours=1)).astimezone(tz).utcoffset()
