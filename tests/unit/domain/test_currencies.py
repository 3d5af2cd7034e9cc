import dataclasses

import pytest

from chalicelib.domain.currencies import ACTIVE_CURRENCIES, is_active_currency
from chalicelib.domain.program import CumulativeDiscount, InvalidRules, ProgramRules, check_rules

RULES = ProgramRules(name="T", currency="EUR", default_region="DE", timezone="Europe/Berlin")


@pytest.mark.parametrize("code", ["EUR", "USD", "JPY", "CHF", "ZWG", "XCG", "XOF", "BHD"])
def test_money_in_use_is_an_active_currency(code):
    assert is_active_currency(code)


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("ZZZ", "never assigned"),
        ("HRK", "withdrawn when Croatia took the euro"),
        ("ZWL", "replaced by ZWG"),
        ("XAU", "gold: no minor unit"),
        ("XTS", "reserved for testing"),
        ("XXX", "no currency"),
        ("eur", "codes are upper case"),
    ],
)
def test_codes_that_are_not_a_currency_in_use_are_refused(code, why):
    assert not is_active_currency(code), why
    with pytest.raises(InvalidRules) as refused:
        check_rules(dataclasses.replace(RULES, currency=code))
    assert refused.value.field == "currency"


def test_the_list_is_three_letter_codes_only():
    assert all(len(c) == 3 and c.isascii() and c.isupper() for c in ACTIVE_CURRENCIES)


@pytest.mark.parametrize("top", [51, 100])
def test_a_discount_ladder_above_half_the_bill_is_refused_with_the_reason(top):
    ladder = CumulativeDiscount(enabled=True, base_percent=5, step_percent=1, max_percent=top)
    with pytest.raises(InvalidRules) as refused:
        check_rules(dataclasses.replace(RULES, cumulative_discount=ladder))
    assert refused.value.field == "cumulative_discount.max_percent"
    assert "at most 50" in str(refused.value) and "margin" in str(refused.value)


def test_a_ladder_starting_above_its_top_is_refused_and_one_up_to_half_is_fine():
    with pytest.raises(InvalidRules) as refused:
        check_rules(dataclasses.replace(RULES, cumulative_discount=CumulativeDiscount(True, 20, 1, 10)))
    assert refused.value.field == "cumulative_discount.base_percent"
    check_rules(dataclasses.replace(RULES, cumulative_discount=CumulativeDiscount(True, 50, 0, 50)))
