from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.members import (
    REFERRAL_ALPHABET,
    REFERRAL_CODE_LENGTH,
    InvalidBirthday,
    age_on,
    check_birthday,
    new_referral_code,
    normalise_referral_code,
)

TODAY = date(2026, 11, 23)


def test_a_birthday_in_the_future_is_refused():
    with pytest.raises(InvalidBirthday, match="future"):
        check_birthday(date(2026, 11, 24), TODAY)


def test_an_absurdly_old_birthday_is_refused():
    with pytest.raises(InvalidBirthday):
        check_birthday(date(1890, 1, 1), TODAY)


def test_children_under_the_minimum_age_cannot_join():
    with pytest.raises(InvalidBirthday):
        check_birthday(date(2020, 1, 1), TODAY)


def test_a_plausible_birthday_passes():
    check_birthday(date(1990, 4, 12), TODAY)


@given(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
def test_age_counts_whole_years_passed(birthday):
    age = age_on(birthday, TODAY)
    assert age >= 0
    assert (birthday.month, birthday.day) <= (TODAY.month, TODAY.day) or age == TODAY.year - birthday.year - 1


def test_referral_codes_use_only_unambiguous_characters():
    for _ in range(200):
        code = new_referral_code()
        assert len(code) == REFERRAL_CODE_LENGTH
        assert set(code) <= set(REFERRAL_ALPHABET)
        assert not set(code) & set("01ILOUV")


def test_referral_codes_are_read_case_and_space_insensitively():
    assert normalise_referral_code(" ab-cd ef23 ") == "ABCDEF23"
