import pytest

from chalicelib.domain.phones import InvalidPhone, looks_like_phone, normalise_phone, phone_readings


@pytest.mark.parametrize(
    "typed",
    ["0151 23456701", "015123456701", "+49 151 23456701", "0049 151 2345 6701", "(0151) 234-567-01", "+4915123456701"],
)
def test_the_usual_ways_of_writing_a_german_mobile_number_give_one_e164(typed):
    assert normalise_phone(typed, "DE") == "+4915123456701"


def test_a_foreign_number_keeps_its_country():
    assert normalise_phone("+351 912 345 609", "DE") == "+351912345609"


@pytest.mark.parametrize("typed", ["", "hello", "0151", "+49 151 2", "12345678901234567890"])
def test_what_is_not_a_valid_number_is_refused(typed):
    with pytest.raises(InvalidPhone):
        normalise_phone(typed, "DE")


def test_looks_like_phone_accepts_spoken_formats_and_refuses_letters():
    assert looks_like_phone("0151 234-567 01")
    assert not looks_like_phone("LC1.abc")
    assert not looks_like_phone("   ")


@pytest.mark.parametrize("said", ["4915123456701", "49 151 23456701", "49-151-234-567-01"])
def test_a_country_code_said_without_its_plus_is_one_of_the_readings(said):
    assert "+4915123456701" in phone_readings(said, "DE")


def test_a_number_written_nationally_or_with_plus_has_one_reading():
    assert phone_readings("0151 23456701", "DE") == ["+4915123456701"]
    assert phone_readings("+351 912 345 609", "DE") == ["+351912345609"]
    assert phone_readings("hello", "DE") == []
