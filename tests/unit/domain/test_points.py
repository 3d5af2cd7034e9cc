from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.points import (
    NEVER,
    NotEnoughPoints,
    Points,
    earn,
    expire,
    expiry_date,
    spend,
    take_back,
)

DAYS = st.sampled_from(["2027-01-31", "2027-02-28", "2027-03-31", NEVER])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(0, 500), DAYS),
        st.tuples(st.just("spend"), st.integers(0, 500), st.none()),
        st.tuples(st.just("take_back"), st.integers(0, 500), st.none()),
        st.tuples(st.just("expire"), st.just(0), DAYS),
    ),
    max_size=40,
)


def check(points: Points) -> None:
    assert points.balance >= 0 and points.debt >= 0
    assert points.balance == sum(n for _, n in points.lots)
    assert [d for d, _ in points.lots] == sorted(d for d, _ in points.lots)
    assert all(n > 0 for _, n in points.lots)


@given(OPS)
def test_the_balance_is_always_the_sum_of_its_lots_and_never_negative(ops):
    points = Points()
    net = 0
    for op, n, day in ops:
        if op == "earn":
            points, repaid = earn(points, n, day)
            net += n - repaid
        elif op == "spend":
            if n > points.balance:
                with pytest.raises(NotEnoughPoints):
                    spend(points, n)
                continue
            points = spend(points, n)
            net -= n
        elif op == "take_back":
            points, taken = take_back(points, n)
            net -= taken
        else:
            points, expired = expire(points, date.fromisoformat(day) if day != NEVER else date(9999, 12, 30))
            net -= expired
        check(points)
    assert points.balance == net


def test_spending_takes_the_oldest_points_first():
    points, _ = earn(Points(), 100, "2027-03-31")
    points, _ = earn(points, 50, "2027-01-31")
    points = spend(points, 70)
    assert points.lots == (("2027-03-31", 80),)


def test_a_take_back_the_balance_cannot_cover_becomes_debt_repaid_by_the_next_earning():
    points, _ = earn(Points(), 30, NEVER)
    points, taken = take_back(points, 100)
    assert (points.balance, points.debt, taken) == (0, 70, 30)
    points, repaid = earn(points, 50, NEVER)
    assert (points.balance, points.debt, repaid) == (0, 20, 50)
    points, repaid = earn(points, 50, NEVER)
    assert (points.balance, points.debt, repaid) == (30, 0, 20)


@pytest.mark.parametrize(
    ("earned", "months", "expires"),
    [
        (date(2026, 11, 23), 24, "2028-11-30"),
        (date(2026, 1, 31), 1, "2026-02-28"),
        (date(2027, 12, 1), 2, "2028-02-29"),
        (date(2026, 5, 5), None, NEVER),
    ],
)
def test_points_expire_at_the_end_of_the_month(earned, months, expires):
    assert expiry_date(earned, months) == expires


def test_expire_keeps_lots_that_are_not_yet_due():
    points, _ = earn(Points(), 10, "2027-01-31")
    points, _ = earn(points, 20, "2027-02-28")
    assert expire(points, date(2027, 1, 31))[1] == 0  # usable through its last day
    kept, expired = expire(points, date(2027, 2, 1))
    assert expired == 10 and kept.lots == (("2027-02-28", 20),) and kept.balance == 20


def test_a_refund_gives_redeemed_points_back_with_the_expiry_they_had():
    from chalicelib.domain.points import lots_taken, restore

    points, _ = earn(Points(), 100, "2027-01-31")
    points, _ = earn(points, 100, "2027-06-30")
    taken = lots_taken(points, 150)
    assert taken == (("2027-01-31", 100), ("2027-06-30", 50))
    spent = spend(points, 150)
    partly, left = restore(spent, taken, 60)
    # The latest-expiring go back first.
    assert partly.lots == (("2027-01-31", 10), ("2027-06-30", 100)) and left == (("2027-01-31", 90),)
    whole, left = restore(partly, left, 90)
    assert whole == points and left == ()
