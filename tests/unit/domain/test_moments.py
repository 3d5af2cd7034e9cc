"""Whose birthday it is, wherever they live."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.moments import birthday_greeting, birthday_month_days, dates_somewhere, is_birthday


def test_it_is_two_or_three_dates_somewhere_at_any_instant():
    assert dates_somewhere(datetime(2026, 11, 24, 12, tzinfo=UTC)) == [date(2026, 11, 24), date(2026, 11, 25)]
    assert dates_somewhere(datetime(2026, 11, 24, 11, tzinfo=UTC)) == [
        date(2026, 11, 23),
        date(2026, 11, 24),
        date(2026, 11, 25),
    ]


def test_29_february_is_greeted_on_28_february_in_other_years():
    assert is_birthday(date(2000, 2, 29), date(2027, 2, 28))
    assert not is_birthday(date(2000, 2, 29), date(2028, 2, 28))
    assert is_birthday(date(2000, 2, 29), date(2028, 2, 29))
    assert not is_birthday(date(2000, 2, 28), date(2028, 2, 29))
    assert "02-29" in birthday_month_days(datetime(2027, 2, 28, 12, tzinfo=UTC))
    assert "02-29" not in birthday_month_days(datetime(2028, 2, 28, 0, tzinfo=UTC))


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_every_zones_today_is_among_the_days_asked_for(at):
    asked = birthday_month_days(at)
    for hours in range(-12, 15):
        local = (at + timedelta(hours=hours)).date()
        assert local.strftime("%m-%d") in asked


def test_the_greeting_is_in_the_members_name_and_says_what_comes_with_it():
    title, body = birthday_greeting("Greta Geburtstag", 100, "Free slice of cake")
    assert title == "Happy birthday, Greta!"
    assert "100 birthday points" in body and "Free slice of cake" in body
    assert birthday_greeting("Greta", 0, None)[1] == "Have a wonderful day, from all of us."
    assert birthday_greeting("Greta", 0, "Cake")[1].startswith("A treat is waiting")
