from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.program import (
    CumulativeDiscount,
    ProgramRules,
    RedemptionRules,
    Tier,
    cumulative_discount_percent,
    redeemable_points,
    tier_for,
    tier_progress,
    tier_progress_in_window,
)

RULES = ProgramRules(
    name="Test",
    currency="EUR",
    default_region="DE",
    timezone="Europe/Berlin",
    tiers=(Tier("Bronze"), Tier("Silver", 30_000, 12), Tier("Gold", 100_000, 40)),
)


@given(
    balance=st.integers(min_value=0, max_value=10**9),
    bill=st.integers(min_value=-100, max_value=10**9),
    value=st.integers(min_value=1, max_value=100),
    minimum=st.integers(min_value=0, max_value=1000),
    share=st.integers(min_value=0, max_value=100),
)
def test_redeemable_points_never_exceed_the_balance_nor_the_share_of_the_bill(balance, bill, value, minimum, share):
    rules = RedemptionRules(point_value_minor=value, min_points=minimum, max_share_percent=share)
    points = redeemable_points(balance, bill, rules)
    assert 0 <= points <= balance
    assert points * value <= max(0, bill) * share // 100
    if balance < minimum:
        assert points == 0


def test_half_the_bill_can_be_paid_with_points_by_default():
    assert redeemable_points(10_000, 1_250, RedemptionRules()) == 625


def test_below_the_minimum_balance_nothing_is_redeemable():
    assert redeemable_points(99, 10_000, RedemptionRules(min_points=100)) == 0


def test_tier_is_reached_by_spend_or_by_visits():
    assert tier_for(RULES, 0, 0).name == "Bronze"
    assert tier_for(RULES, 30_000, 0).name == "Silver"
    assert tier_for(RULES, 0, 12).name == "Silver"
    assert tier_for(RULES, 100_000, 3).name == "Gold"


def test_progress_names_the_next_tier_and_what_is_missing():
    progress = tier_progress(RULES, "Bronze", 10_000, 5)
    assert (progress.next_tier, progress.spend_needed_minor, progress.visits_needed) == ("Silver", 20_000, 7)
    top = tier_progress(RULES, "Gold", 0, 0)
    assert top.next_tier is None and top.spend_needed_minor is None


@given(st.integers(min_value=0, max_value=1000))
def test_the_cumulative_discount_grows_per_visit_and_stops_at_the_cap(visits):
    rules = CumulativeDiscount(enabled=True, base_percent=5, step_percent=1, max_percent=15)
    percent = cumulative_discount_percent(rules, visits)
    assert percent == min(15, 5 + visits)
    assert cumulative_discount_percent(CumulativeDiscount(enabled=False), visits) == 0


def test_add_months_keeps_the_day_or_takes_the_months_last():
    from datetime import date

    from chalicelib.domain.program import add_months

    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 11, 23), 3) == date(2028, 2, 23)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)


def test_a_review_keeps_a_tier_the_window_still_reaches_and_graces_one_it_does_not():
    from datetime import date

    from chalicelib.domain.program import review_tier

    today = date(2027, 11, 23)
    kept = review_tier(RULES, "Silver", 35_000, 0, today, None)
    assert (kept.tier, kept.review_due, kept.grace_until) == ("Silver", date(2028, 11, 23), None)
    grace = review_tier(RULES, "Gold", 35_000, 0, today, None)
    assert (grace.tier, grace.grace_until) == ("Gold", date(2027, 12, 23))
    lowered = review_tier(RULES, "Gold", 35_000, 0, date(2027, 12, 23), date(2027, 12, 23))
    assert (lowered.tier, lowered.review_due) == ("Silver", date(2028, 12, 23))
    to_base = review_tier(RULES, "Silver", 0, 0, date(2027, 12, 23), date(2027, 12, 23))
    assert (to_base.tier, to_base.review_due) == ("Bronze", None)


def test_tier_progress_counts_only_the_tier_window_not_the_lifetime():
    rules = ProgramRules(
        name="Test",
        currency="EUR",
        default_region="DE",
        timezone="Europe/Berlin",
        tiers=RULES.tiers,
        tier_window_months=3,
    )
    # A big spender two years ago, one small visit this month.
    monthly = {"2024-05": (500_000, 60), "2026-11": (1_000, 1)}
    progress = tier_progress_in_window(rules, "Bronze", monthly, "2026-11")
    assert (progress.next_tier, progress.spend_needed_minor, progress.visits_needed) == ("Silver", 29_000, 11)
    # The months inside the window all count, the one before it does not.
    window = {"2026-08": (90_000, 9), "2026-09": (10_000, 1), "2026-10": (10_000, 1), "2026-11": (5_000, 1)}
    progress = tier_progress_in_window(rules, "Bronze", window, "2026-11")
    assert (progress.spend_needed_minor, progress.visits_needed) == (5_000, 9)
