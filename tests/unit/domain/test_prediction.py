"""The interval predictor: a member's own rhythm."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.moments import fair_order
from chalicelib.domain.prediction import VISITS_KEPT, IntervalPredictor, recent

TODAY = date(2026, 11, 24)


def test_a_weekly_regular_is_expected_a_week_after_the_last_visit():
    visits = [date(2026, 11, 3), date(2026, 11, 10), date(2026, 11, 17)]
    prediction = IntervalPredictor(min_visits=3).predict(visits, TODAY)
    assert prediction is not None and prediction.next_visit_at.date() == date(2026, 11, 24)
    assert prediction.model == "interval-median"


def test_too_few_visits_make_no_rhythm():
    assert IntervalPredictor(min_visits=3).predict([date(2026, 11, 3), date(2026, 11, 10)], TODAY) is None
    assert IntervalPredictor(min_visits=1).predict([date(2026, 11, 3)], TODAY) is None


def test_one_long_holiday_does_not_move_a_steady_rhythm():
    visits = [date(2026, 1, 1) + timedelta(days=7 * n) for n in range(6)] + [date(2026, 4, 1)]
    prediction = IntervalPredictor().predict(visits, TODAY)
    assert prediction is not None and prediction.next_visit_at.date() == date(2026, 4, 8)


@given(st.lists(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)), min_size=0, max_size=40))
def test_the_prediction_is_after_the_last_visit(visits):
    prediction = IntervalPredictor(min_visits=2).predict(visits, TODAY)
    if len(set(visits)) < 2:
        assert prediction is None
    else:
        assert prediction is not None and prediction.next_visit_at.date() > max(visits)
    assert len(recent(visits)) <= VISITS_KEPT


def test_the_draw_is_fair_and_replayable():
    subs = [f"m{n}" for n in range(50)]
    assert fair_order(subs, "seed-a") == fair_order(list(reversed(subs)), "seed-a")
    assert fair_order(subs, "seed-a") != fair_order(subs, "seed-b")
    assert sorted(fair_order(subs, "seed-a")) == sorted(subs)
