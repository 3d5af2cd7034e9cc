"""Anticipation: from a purchase log, per customer, the probability they are still active, the
purchases (distinct purchase days) they are expected to make in the next H days, and the most
likely date of the next one.

The model ("stacked latent attrition") has three layers, each fitted on the program's own history
and nothing else:

1. **Two latent-attrition models** of the field, fitted by maximum likelihood on each customer's
   (x, t_x, T): repeat purchase days, day of the last one, days since the first, all counted in
   days from the first purchase.

   * BG/NBD (Fader, Hardie and Lee 2005): Poisson purchases at a gamma-distributed rate, and after
     each purchase a beta-distributed chance of leaving for good. A one-time buyer can never have
     left: it over-predicts for the many customers who bought once and never came back.
   * Pareto/NBD (Schmittlein, Morrison and Colombo 1987): the same purchases, with a lifetime that
     ends at any moment (exponential, gamma-distributed dropout rate). It lets a one-time buyer
     have gone, and is over-confident about it when they come back.

   Their mean is the base prediction: the two err on opposite sides for the customers who matter
   most (the one-time buyers), so their average is a better forecast than either on a proper score.
2. **Spend.** Both models assume a customer's spend says nothing about how often they buy. It does:
   the average spend per visit day and the first day's spend shift the rate. A Poisson regression
   with the base as offset learns that shift on a back-test inside the history (fit at an earlier
   cut, score the days after it), so the weights are the program's own, checked on data the models
   did not see.
3. **The total** is BG/NBD's population forecast: the layers above move expected purchases between
   customers, not into or out of the program.

The next purchase's date is the customer's own rhythm when they have one (at least two gaps that
are regular: the median gap from their last visit, stepped past today), else the median waiting
time at their expected rate.

Pure: numpy and scipy's special functions and optimiser; no I/O. ``History.of`` builds the
summaries from (customer, day, amount) rows; ``fit`` returns a ``Fit`` that is stored as JSON and
versioned; ``predict`` evaluates it for any customers on any day without fitting again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

Array = NDArray[np.float64]

MODEL = "stacked-attrition-v1"
#: Below this many customers with a history before the back-test's cut, the spend layer is skipped.
MIN_BACKTEST_CUSTOMERS = 50
#: Ridge penalty of the spend layer (on standardised features).
RIDGE = 1.0
#: The models' log-parameters stay within these bounds (a degenerate history, e.g. nobody came
#: back, pushes a maximum-likelihood estimate to infinity).
LOG_PARAM_BOUND = 12.0
#: Shape parameters (r, a, b, s) stay under e^3.5 = 33: beyond it a gamma or beta mixing
#: distribution is all but a point and the likelihood is flat, while the hypergeometric series
#: slow down a hundredfold.
LOG_SHAPE_BOUND = 3.5
#: Intervals with a coefficient of variation under this count as a rhythm.
REGULAR_CV = 0.5


@dataclass(frozen=True)
class History:
    """Per-customer summaries at ``as_of``: purchase *days* (several purchases on one day are one)."""

    ids: tuple[str, ...]
    as_of: date
    #: Repeat purchase days, days from the first purchase to the last, days from the first to ``as_of``.
    x: Array
    t_x: Array
    age: Array
    #: Mean spend per purchase day, and the first day's spend.
    spend: Array
    first_spend: Array
    first: tuple[date, ...]
    last: tuple[date, ...]
    #: Median gap between purchase days and its coefficient of variation (NaN under two gaps).
    median_gap: Array
    gap_cv: Array

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def of(cls, rows: Iterable[tuple[str, date, float]], as_of: date) -> History:
        """Summaries of the rows dated on or before ``as_of`` (later rows are ignored)."""
        per_day: dict[str, dict[date, float]] = {}
        for customer, day, amount in rows:
            if day <= as_of:
                days = per_day.setdefault(customer, {})
                days[day] = days.get(day, 0.0) + amount
        ids = tuple(sorted(per_day))
        n = len(ids)
        x, t_x, age, spend, first_spend, median_gap, gap_cv = (np.empty(n) for _ in range(7))
        firsts: list[date] = []
        lasts: list[date] = []
        for i, customer in enumerate(ids):
            days = per_day[customer]
            ordered = sorted(days)
            first, last = ordered[0], ordered[-1]
            firsts.append(first)
            lasts.append(last)
            x[i] = len(ordered) - 1
            t_x[i] = (last - first).days
            age[i] = (as_of - first).days
            spend[i] = sum(days.values()) / len(days)
            first_spend[i] = days[first]
            if len(ordered) >= 3:
                gaps = np.diff([d.toordinal() for d in ordered]).astype(float)
                median_gap[i] = float(np.median(gaps))
                gap_cv[i] = float(gaps.std() / gaps.mean())
            else:
                median_gap[i] = gap_cv[i] = math.nan
        return cls(ids, as_of, x, t_x, age, spend, first_spend, tuple(firsts), tuple(lasts), median_gap, gap_cv)

    def features(self) -> Array:
        """The spend layer's inputs, unscaled: log of 1 + mean spend per day, of 1 + the first day's."""
        return np.column_stack([np.log1p(np.maximum(self.spend, 0.0)), np.log1p(np.maximum(self.first_spend, 0.0))])


# --- BG/NBD ------------------------------------------------------------------------------------


def bgnbd_log_likelihood(params: Array, x: Array, t_x: Array, age: Array) -> Array:
    """Each customer's log-likelihood under BG/NBD with ``params`` = (r, alpha, a, b)."""
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + age)
    repeat = x > 0
    a4 = np.where(
        repeat,
        np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return a1 + a2 + np.logaddexp(a3, a4)


def bgnbd_p_alive(params: Array, x: Array, t_x: Array, age: Array) -> Array:
    r, alpha, a, b = params
    repeat = x > 0
    odds = np.where(repeat, a / np.where(repeat, b + x - 1, 1.0) * ((alpha + age) / (alpha + t_x)) ** (r + x), 0.0)
    return 1.0 / (1.0 + odds)


def bgnbd_expected(params: Array, horizon: float, x: Array, t_x: Array, age: Array) -> Array:
    """Expected repeat purchase days in the next ``horizon`` days (Fader, Hardie and Lee, eq. 10)."""
    r, alpha, a, b = params
    z = horizon / (alpha + age + horizon)
    with np.errstate(all="ignore"):
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
        head = (a + b + x - 1) / (a - 1) * (1 - ((alpha + age) / (alpha + age + horizon)) ** (r + x) * hyp)
    p_alive = bgnbd_p_alive(params, x, t_x, age)
    # Where the closed form has no value (a = 1, or a + b + x <= 1: a history in which nobody came
    # back leaves a and b unidentified), the rate while alive over the horizon, an upper bound.
    bound = (r + x) / (alpha + age) * horizon
    return np.maximum(np.where(np.isfinite(head), head, bound) * p_alive, 0.0)


# --- Pareto/NBD --------------------------------------------------------------------------------


def _pareto_log_a0(params: Array, x: Array, t_x: Array, age: Array) -> Array:
    r, alpha, s, beta = params
    if alpha < beta:
        low, high, second = alpha, beta, r + x
    else:
        low, high, second = beta, alpha, s + 1.0 + 0 * x
    rsx = r + s + x
    p1 = hyp2f1(rsx, second, rsx + 1.0, (high - low) / (high + t_x))
    p2 = hyp2f1(rsx, second, rsx + 1.0, (high - low) / (high + age))
    q1, q2 = high + t_x, high + age
    # log(p1 / q1^rsx - p2 / q2^rsx), computed as one difference of positive terms
    log_first = np.log(p1) + rsx * np.log(q2)
    log_second = np.log(p2) + rsx * np.log(q1)
    diff = log_first + np.log1p(-np.exp(np.minimum(log_second - log_first, 0.0)))
    return diff - rsx * (np.log(q1) + np.log(q2))


def pareto_log_likelihood(params: Array, x: Array, t_x: Array, age: Array) -> Array:
    """Each customer's log-likelihood under Pareto/NBD with ``params`` = (r, alpha, s, beta)."""
    r, alpha, s, beta = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive_all_along = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
    with np.errstate(divide="ignore", invalid="ignore"):
        left_since = np.log(s) + _pareto_log_a0(params, x, t_x, age) - np.log(r + s + x)
    # a customer whose last purchase is today cannot have left since: only the first term (and
    # where the hypergeometric series gives out at extreme parameters, the term is taken as nil)
    left_since = np.where((age > t_x) & np.isfinite(left_since), left_since, -np.inf)
    return a1 + np.logaddexp(alive_all_along, left_since)


def _pareto_alive_terms(params: Array, x: Array, t_x: Array, age: Array) -> tuple[Array, Array]:
    r, alpha, s, beta = params
    log_alive = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    log_alive = log_alive - (r + x) * np.log(alpha + age) - s * np.log(beta + age)
    return log_alive, pareto_log_likelihood(params, x, t_x, age)


def pareto_p_alive(params: Array, x: Array, t_x: Array, age: Array) -> Array:
    log_alive, likelihood = _pareto_alive_terms(params, x, t_x, age)
    return np.clip(np.exp(log_alive - likelihood), 0.0, 1.0)


def pareto_expected(params: Array, horizon: float, x: Array, t_x: Array, age: Array) -> Array:
    """Expected repeat purchase days in the next ``horizon`` days (Schmittlein et al.; Fader and
    Hardie's note, eq. 41)."""
    r, alpha, s, beta = params
    if abs(s - 1.0) < 1e-9:
        decay = np.log((beta + age + horizon) / (beta + age))
    else:
        decay = (1 - ((beta + age) / (beta + age + horizon)) ** (s - 1)) / (s - 1)
    rate = (r + x) * (beta + age) / (alpha + age)
    return pareto_p_alive(params, x, t_x, age) * rate * decay


# --- fitting -----------------------------------------------------------------------------------


def _fit_model(
    log_likelihood: Any,
    x: Array,
    t_x: Array,
    age: Array,
    start: Array,
    shapes: tuple[int, ...],
    *,
    ftol: float = 1e-10,
) -> Array:
    def objective(theta: Array) -> float:
        params = np.exp(theta)
        value = -float(np.mean(log_likelihood(params, x, t_x, age)))
        return value if math.isfinite(value) else 1e12

    theta0 = np.log(start)
    bounds = [(-LOG_PARAM_BOUND, LOG_SHAPE_BOUND if i in shapes else LOG_PARAM_BOUND) for i in range(len(start))]
    best = minimize(objective, theta0, method="L-BFGS-B", bounds=bounds, options={"ftol": ftol, "gtol": 1e-9})
    if not np.isfinite(best.fun) or best.fun >= 1e12:
        best = minimize(objective, theta0, method="Nelder-Mead", options={"maxiter": 4000})
    return np.exp(best.x)


def fit_bgnbd(history: History) -> Array:
    scale = max(1.0, float(np.mean(history.age)))
    # to the last digit: the stacked model's population total is BG/NBD's
    start = np.array([1.0, scale, 1.0, 1.0])
    return _fit_model(bgnbd_log_likelihood, history.x, history.t_x, history.age, start, (0, 2, 3), ftol=1e-14)


def fit_pareto(history: History) -> Array:
    scale = max(1.0, float(np.mean(history.age)))
    start = np.array([1.0, scale, 1.0, scale])
    return _fit_model(pareto_log_likelihood, history.x, history.t_x, history.age, start, (0, 2))


def _poisson_regression(z: Array, y: Array, offset: Array, ridge: float) -> Array:
    """Newton's method on the penalised Poisson log-likelihood; z already has the intercept column."""
    beta = np.zeros(z.shape[1])
    penalty = ridge * np.eye(z.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(100):
        mu = np.exp(np.clip(offset + z @ beta, -30, 30))
        gradient = z.T @ (y - mu) - penalty @ beta
        hessian = z.T @ (z * mu[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        beta = beta + step
        if float(np.abs(step).max()) < 1e-9:
            break
    return beta


@dataclass(frozen=True)
class Fit:
    """What the weekly job stores (``to_json``) and every prediction reads."""

    as_of: date
    horizon_days: int
    customers: int
    bgnbd: tuple[float, float, float, float]
    pareto: tuple[float, float, float, float]
    #: The spend layer: intercept then one weight per standardised feature; their mean and scale.
    weights: tuple[float, ...] = ()
    feature_mean: tuple[float, ...] = ()
    feature_scale: tuple[float, ...] = ()
    #: Multiplies the layered prediction so the population total is BG/NBD's.
    scale: float = 1.0
    model: str = MODEL

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "as_of": self.as_of.isoformat(),
            "horizon_days": self.horizon_days,
            "customers": self.customers,
            "bgnbd": list(self.bgnbd),
            "pareto": list(self.pareto),
            "weights": list(self.weights),
            "feature_mean": list(self.feature_mean),
            "feature_scale": list(self.feature_scale),
            "scale": self.scale,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fit:
        return cls(
            as_of=date.fromisoformat(data["as_of"]),
            horizon_days=int(data["horizon_days"]),
            customers=int(data["customers"]),
            bgnbd=tuple(float(v) for v in data["bgnbd"]),  # type: ignore[arg-type]
            pareto=tuple(float(v) for v in data["pareto"]),  # type: ignore[arg-type]
            weights=tuple(float(v) for v in data["weights"]),
            feature_mean=tuple(float(v) for v in data["feature_mean"]),
            feature_scale=tuple(float(v) for v in data["feature_scale"]),
            scale=float(data["scale"]),
            model=str(data["model"]),
        )


def _base(bgnbd: Array, pareto: Array, horizon: float, history: History) -> tuple[Array, Array]:
    args = (history.x, history.t_x, history.age)
    expected_bg = bgnbd_expected(bgnbd, horizon, *args)
    expected_pareto = pareto_expected(pareto, horizon, *args)
    return expected_bg, (expected_bg + expected_pareto) / 2


def fit(rows: Iterable[tuple[str, date, float]], as_of: date, horizon_days: int, history: History | None = None) -> Fit:
    """Fit the three layers on the rows dated on or before ``as_of`` for predictions ``horizon_days`` ahead.
    ``history``: ``History.of(rows, as_of)`` when the caller has it already (it predicts from it too)."""
    if horizon_days < 1:
        raise ValueError("the horizon is at least one day")
    rows = [row for row in rows if row[1] <= as_of]
    if history is None or history.as_of != as_of:
        history = History.of(rows, as_of)
    if not len(history):
        raise ValueError("no purchases on or before the cut")
    bgnbd = fit_bgnbd(history)
    pareto = fit_pareto(history)
    weights, mean, scale_f = _fit_spend_layer(rows, history, horizon_days)
    expected_bg, base = _base(bgnbd, pareto, horizon_days, history)
    layered = base * _spend_effect(history, weights, mean, scale_f)
    scale = float(expected_bg.sum() / layered.sum()) if layered.sum() > 0 else 1.0
    return Fit(
        as_of,
        horizon_days,
        len(history),
        tuple(float(v) for v in bgnbd),  # type: ignore[arg-type]
        tuple(float(v) for v in pareto),  # type: ignore[arg-type]
        tuple(float(v) for v in weights),
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale_f),
        scale,
    )


def _fit_spend_layer(
    rows: list[tuple[str, date, float]], history: History, horizon_days: int
) -> tuple[Array, Array, Array]:
    """The spend layer's weights, learned on a back-test: fit the two models at an earlier cut and
    regress the purchase days after it on spend, with their prediction as offset."""
    features = history.features()
    mean, spread = features.mean(axis=0), features.std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    nothing = np.zeros(features.shape[1] + 1)
    span = (history.as_of - min(history.first)).days
    inner = min(horizon_days, span // 2)
    if inner < 1:
        return nothing, mean, spread
    cut = history.as_of - timedelta(days=inner)
    before = History.of(rows, cut)
    if len(before) < MIN_BACKTEST_CUSTOMERS or float(before.x.sum()) == 0:
        return nothing, mean, spread
    after: dict[str, set[date]] = {}
    for customer, day, _ in rows:
        if cut < day <= history.as_of:
            after.setdefault(customer, set()).add(day)
    y = np.array([len(after.get(customer, ())) for customer in before.ids], dtype=float)
    _, base = _base(fit_bgnbd(before), fit_pareto(before), inner, before)
    z = np.column_stack([np.ones(len(before)), (before.features() - mean) / spread])
    return _poisson_regression(z, y, np.log(np.maximum(base, 1e-9)), RIDGE), mean, spread


def _spend_effect(history: History, weights: Array | tuple[float, ...], mean: Any, spread: Any) -> Array:
    w = np.asarray(weights, dtype=float)
    if not len(w):
        return np.ones(len(history))
    z = (history.features() - np.asarray(mean)) / np.asarray(spread)
    # the intercept is the back-test's level, not this horizon's: the total comes from BG/NBD
    return np.exp(z @ w[1:])


@dataclass(frozen=True)
class Predictions:
    ids: tuple[str, ...]
    p_active: Array
    expected: Array
    next_purchase: tuple[date, ...]
    #: Days a customer typically waits after a purchase: their rhythm's gap, else the median wait
    #: at their rate while active. The reminders' due day is their last purchase plus this.
    wait_days: tuple[int, ...] = ()


def predict(model: Fit, history: History, horizon_days: int | None = None) -> Predictions:
    """Every customer of ``history``, at its ``as_of``, ``horizon_days`` ahead (the fit's by default)."""
    horizon = model.horizon_days if horizon_days is None else horizon_days
    if horizon < 0:
        raise ValueError("the horizon is not negative")
    bgnbd, pareto = np.array(model.bgnbd), np.array(model.pareto)
    args = (history.x, history.t_x, history.age)
    p_active = (bgnbd_p_alive(bgnbd, *args) + pareto_p_alive(pareto, *args)) / 2
    effect = _spend_effect(history, model.weights, model.feature_mean, model.feature_scale) * model.scale
    at_fit_horizon = _base(bgnbd, pareto, model.horizon_days, history)[1] * effect
    if horizon == model.horizon_days:
        expected = at_fit_horizon
    else:
        expected = np.zeros(len(history)) if horizon == 0 else _base(bgnbd, pareto, horizon, history)[1] * effect
    # the rate while active, per day, over the fit's own horizon (defined even for horizon 0)
    per_day = at_fit_horizon / model.horizon_days
    rate = per_day / np.maximum(p_active, 1e-6)
    waits, rhythmic = _waits(history, rate)
    return Predictions(history.ids, p_active, expected, _next_dates(history, waits, rhythmic), tuple(waits))


#: The longest wait said (ten years): a rate of (almost) nothing is "not expected back".
LONGEST_WAIT_DAYS = 3650


def _waits(history: History, rate: Array) -> tuple[list[int], list[bool]]:
    waits, rhythmic = [], []
    for i in range(len(history)):
        gap, cv = history.median_gap[i], history.gap_cv[i]
        regular = bool(math.isfinite(gap) and gap >= 1 and cv < REGULAR_CV)
        wait = gap if regular else (math.log(2) / rate[i] if rate[i] > 0 else LONGEST_WAIT_DAYS)
        waits.append(max(1, round(min(wait, LONGEST_WAIT_DAYS))))
        rhythmic.append(regular)
    return waits, rhythmic


def _next_dates(history: History, waits: list[int], rhythmic: list[bool]) -> tuple[date, ...]:
    """The next purchase after ``as_of``: a rhythm's next beat (stepped past today), else the median
    wait from today (purchases at a steady rate forget how long ago the last one was)."""
    out = []
    today = history.as_of
    for i, step in enumerate(waits):
        if rhythmic[i]:
            nxt = history.last[i] + timedelta(days=step)
            if nxt <= today:
                nxt += timedelta(days=step * ((today - nxt).days // step + 1))
        else:
            nxt = today + timedelta(days=step)
        out.append(nxt)
    return tuple(out)
