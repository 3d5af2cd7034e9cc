"""The stacked latent-attrition predictor: its two models checked against lifetimes (an
implementation nobody here wrote), parameters recovered from simulated logs, and the edge cases."""

import math
import warnings
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, ParetoNBDFitter

from chalicelib.domain import anticipation as A

CUT = date(2025, 12, 31)
START = date(2025, 1, 1)


def simulate_bgnbd(n, r, alpha, a, b, *, days=365, seed=7):
    """Purchase days of ``n`` customers from BG/NBD with known parameters (rates per day), each
    joining with a purchase on a day of the first quarter."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        rate = rng.gamma(r, 1 / alpha)
        leave = rng.beta(a, b)
        joined = rng.integers(0, 90)
        t = float(joined)
        rows.append((f"c{i}", START + timedelta(days=int(t)), 10.0))
        while True:  # alive until the first repeat purchase; after each, gone with chance ``leave``
            t += rng.exponential(1 / rate)
            if t >= days:
                break
            rows.append((f"c{i}", START + timedelta(days=int(t)), 10.0))
            if rng.random() < leave:
                break
    return rows


@pytest.fixture(scope="module")
def simulated():
    return simulate_bgnbd(4000, r=0.8, alpha=40.0, a=0.7, b=3.0)


def lifetimes_fitter(cls, names, params):
    fitter = cls()
    fitter.params_ = pd.Series(dict(zip(names, params, strict=True)))
    return fitter


def test_bgnbd_matches_lifetimes_on_the_same_parameters(simulated):
    history = A.History.of(simulated, CUT)
    params = np.array([0.8, 40.0, 0.7, 3.0])
    reference = lifetimes_fitter(BetaGeoFitter, ["r", "alpha", "a", "b"], params)
    args = (history.x, history.t_x, history.age)
    assert np.allclose(A.bgnbd_p_alive(params, *args), reference.conditional_probability_alive(*args), rtol=1e-9)
    expected = reference.conditional_expected_number_of_purchases_up_to_time(30, *args)
    assert np.allclose(A.bgnbd_expected(params, 30, *args), expected, rtol=1e-7)


def test_pareto_matches_lifetimes_on_the_same_parameters(simulated):
    history = A.History.of(simulated, CUT)
    args = (history.x, history.t_x, history.age)
    for params in (np.array([0.6, 70.0, 0.5, 45.0]), np.array([0.6, 30.0, 0.5, 90.0])):
        reference = lifetimes_fitter(ParetoNBDFitter, ["r", "alpha", "s", "beta"], params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alive = reference.conditional_probability_alive(*args)
            expected = reference.conditional_expected_number_of_purchases_up_to_time(30, *args)
        assert np.allclose(A.pareto_p_alive(params, *args), alive, rtol=1e-6)
        assert np.allclose(A.pareto_expected(params, 30, *args), np.asarray(expected, float), rtol=1e-6)


def test_the_likelihoods_are_probabilities_of_the_histories():
    # one customer who bought once and never again, seen for T days: BG/NBD says they are alive
    # and made no purchase, so the likelihood is E[exp(-lambda T)] = (alpha / (alpha + T))^r
    params = np.array([0.5, 10.0, 1.0, 2.0])
    zero = np.array([0.0])
    value = A.bgnbd_log_likelihood(params, zero, zero, np.array([20.0]))[0]
    assert value == pytest.approx(0.5 * math.log(10 / 30))
    # more history without a purchase is less likely, under both models
    ages = np.array([10.0, 20.0, 40.0])
    for log_likelihood, p in (
        (A.bgnbd_log_likelihood, params),
        (A.pareto_log_likelihood, np.array([0.5, 10.0, 1.0, 20.0])),
    ):
        values = log_likelihood(p, np.zeros(3), np.zeros(3), ages)
        assert np.all(np.diff(values) < 0)


def test_the_fit_recovers_simulated_parameters_and_agrees_with_lifetimes(simulated):
    history = A.History.of(simulated, CUT)
    fitted = A.fit_bgnbd(history)
    r, alpha, a, b = fitted
    assert r == pytest.approx(0.8, rel=0.2)
    assert r / alpha == pytest.approx(0.8 / 40.0, rel=0.15)  # the mean purchase rate
    assert a / (a + b) == pytest.approx(0.7 / 3.7, rel=0.25)  # the mean chance of leaving
    reference = BetaGeoFitter().fit(history.x, history.t_x, history.age).params_
    assert np.allclose(fitted, reference[["r", "alpha", "a", "b"]].to_numpy(), rtol=1e-2)


def test_predictions_track_what_happens_next(simulated):
    train = [row for row in simulated if row[1] <= date(2025, 9, 30)]
    model = A.fit(train, date(2025, 9, 30), 92)
    predictions = A.predict(model, A.History.of(train, date(2025, 9, 30)))
    actual = sum(1 for row in {(c, d) for c, d, _ in simulated if d > date(2025, 9, 30)})
    assert predictions.expected.sum() == pytest.approx(actual, rel=0.15)
    assert np.all((predictions.p_active >= 0) & (predictions.p_active <= 1))
    assert all(d > date(2025, 9, 30) for d in predictions.next_purchase)


def test_the_fit_is_stored_and_read_back_whole(simulated):
    model = A.fit(simulated, CUT, 30)
    again = A.Fit.from_json(model.to_json())
    assert again == model
    history = A.History.of(simulated, CUT)
    assert np.array_equal(A.predict(again, history).expected, A.predict(model, history).expected)


def test_several_purchases_on_one_day_are_one_purchase_day():
    rows = [("a", date(2025, 3, 1), 5.0), ("a", date(2025, 3, 1), 7.0), ("a", date(2025, 3, 8), 4.0)]
    history = A.History.of(rows, date(2025, 3, 31))
    assert history.x[0] == 1 and history.t_x[0] == 7 and history.age[0] == 30
    assert history.spend[0] == 8.0 and history.first_spend[0] == 12.0


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([(f"c{i}", date(2025, 1, 1 + i % 28), 9.0) for i in range(200)], id="one purchase each"),
        pytest.param([(f"c{i}", date(2025, 6, 1), 9.0) for i in range(200) for _ in range(3)], id="all on one day"),
        pytest.param([("solo", date(2025, 2, 1), 3.0), ("solo", date(2025, 5, 1), 3.0)], id="one customer"),
    ],
)
def test_degenerate_histories_give_finite_predictions(rows):
    cut = date(2025, 6, 1)
    model = A.fit(rows, cut, 30)
    predictions = A.predict(model, A.History.of(rows, cut))
    assert np.all(np.isfinite(predictions.expected)) and np.all(predictions.expected >= 0)
    assert np.all(np.isfinite(predictions.p_active))
    assert all(d > cut for d in predictions.next_purchase)


def test_a_customer_whose_first_purchase_is_on_the_cut_date(simulated):
    rows = [*simulated, ("newcomer", CUT, 25.0)]
    model = A.fit(rows, CUT, 30)
    predictions = A.predict(model, A.History.of(rows, CUT))
    i = predictions.ids.index("newcomer")
    assert 0 < predictions.expected[i] < 30
    assert predictions.p_active[i] == pytest.approx(1.0)
    assert predictions.next_purchase[i] > CUT


def test_a_regular_customer_is_expected_on_their_rhythm(simulated):
    weekly = [("regular", date(2025, 11, 5) + timedelta(weeks=k), 6.0) for k in range(8)]
    rows = [*simulated, *weekly]
    model = A.fit(rows, CUT, 30)
    # last visit 24 December, a Wednesday; the next Wednesday after the cut
    predictions = A.predict(model, A.History.of(rows, CUT))
    assert predictions.next_purchase[predictions.ids.index("regular")] == date(2025, 12, 31) + timedelta(days=7)


def test_horizon_zero_expects_nothing_and_a_negative_one_is_refused(simulated):
    model = A.fit(simulated, CUT, 30)
    history = A.History.of(simulated, CUT)
    assert not A.predict(model, history, 0).expected.any()
    with pytest.raises(ValueError, match="horizon"):
        A.predict(model, history, -1)


def test_rows_after_the_cut_are_not_learned_from(simulated):
    later = [(c, d + timedelta(days=400), a) for c, d, a in simulated]
    assert A.fit(simulated + later, CUT, 30) == A.fit(simulated, CUT, 30)
    with pytest.raises(ValueError, match="no purchases"):
        A.fit(later, CUT, 30)
