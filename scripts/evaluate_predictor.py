"""Score our predictor against the field's models on a real purchase log, split at dates.

    python -m scripts.evaluate_predictor                     # CDNOW, customers 1-11785, five splits
    python -m scripts.evaluate_predictor --transactions F.csv --split 2024-06-30:90

For each split (cut date and horizon in days) every model is fitted on the rows on or before the
cut and scored on the distinct purchase days of the horizon after it, per customer with a purchase
before the cut:

* MAE of expected purchases; AUC of expected purchases for "bought again at all"; mean Poisson
  deviance (a proper score for an expected count: shrinking predictions lowers MAE, not this);
  the predicted and actual totals; the median error in days of the next purchase's date for the
  customers who bought in the horizon.
* Models: ours (``chalicelib/domain/anticipation.py``); BG/NBD and Pareto/NBD fitted by
  ``lifetimes`` 0.11.3 (an implementation nobody here wrote); a naive rate (repeat days per day of
  history, times the horizon).

CDNOW (``CDNOW_master.txt``, shipped in the lifetimes wheel): only customers 1-11785 are read;
the higher ids are held out for the product's acceptance and are never loaded here.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources

import numpy as np

from chalicelib.domain import anticipation
from scripts.predict import InputError, Progress, read_transactions

#: CDNOW's development half: the customers with higher ids are the product's acceptance set.
CDNOW_DEVELOPMENT_IDS = 11785
CDNOW_SPLITS = (
    (date(1997, 9, 30), 273),  # the field's standard: 39 weeks of calibration, 39 of holdout
    (date(1997, 6, 30), 365),
    (date(1997, 8, 15), 181),
    (date(1997, 12, 31), 181),
    (date(1998, 2, 28), 120),
)

Rows = list[tuple[str, date, float]]


def cdnow_rows() -> Rows:
    text = resources.files("lifetimes.datasets").joinpath("CDNOW_master.txt").read_text()
    rows: Rows = []
    for line in text.splitlines()[1:]:
        customer, day, _quantity, dollars = line.split()
        if int(customer) <= CDNOW_DEVELOPMENT_IDS:
            rows.append((str(int(customer)), date(int(day[:4]), int(day[4:6]), int(day[6:])), float(dollars)))
    return rows


@dataclass(frozen=True)
class Score:
    model: str
    mae: float
    auc: float
    deviance: float
    predicted: float
    actual: float
    next_date_error: float


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Mann-Whitney AUC with ties counted half."""
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score))
    sorted_scores = score[order]
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    n_pos = int(positive.sum())
    n_neg = len(score) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    mu = np.maximum(mu, 1e-9)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
    return float(np.mean(2 * (term - (y - mu))))


def score(model: str, y: np.ndarray, mu: np.ndarray, next_error: float) -> Score:
    return Score(
        model,
        float(np.mean(np.abs(mu - y))),
        auc(mu, y > 0),
        poisson_deviance(y, mu),
        float(mu.sum()),
        float(y.sum()),
        next_error,
    )


def evaluate_split(rows: Rows, cut: date, horizon: int) -> tuple[list[Score], dict[str, float]]:
    from lifetimes import BetaGeoFitter, ParetoNBDFitter

    history = anticipation.History.of(rows, cut)
    end = cut + timedelta(days=horizon)
    later: dict[str, set[date]] = {}
    for customer, day, _ in rows:
        if cut < day <= end:
            later.setdefault(customer, set()).add(day)
    y = np.array([len(later.get(c, ())) for c in history.ids], dtype=float)
    first_after = np.array([(min(later[c]) - cut).days if c in later else math.nan for c in history.ids])
    bought = np.isfinite(first_after)

    def next_error(days_ahead: np.ndarray) -> float:
        return float(np.median(np.abs(days_ahead[bought] - first_after[bought]))) if bought.any() else math.nan

    started = time.perf_counter()
    model = anticipation.fit([r for r in rows if r[1] <= cut], cut, horizon)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ours = anticipation.predict(model, history, horizon)
    predict_seconds = time.perf_counter() - started
    ours_next = np.array([(d - cut).days for d in ours.next_purchase], dtype=float)

    x, t_x, age = history.x, history.t_x, history.age
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = BetaGeoFitter().fit(x, t_x, age)
        pareto = ParetoNBDFitter().fit(x, t_x, age)
        mu_bg = np.asarray(bg.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, age), float)
        mu_pareto = np.asarray(pareto.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, age), float)
    # BG/NBD's next date: the median wait while alive (its rate's posterior is gamma(r + x, alpha + T))
    r, alpha = float(bg.params_["r"]), float(bg.params_["alpha"])
    bg_next = (alpha + age) * (2 ** (1 / (r + x)) - 1)
    # Pareto/NBD's likewise (the same posterior of the purchase rate)
    pr, palpha = float(pareto.params_["r"]), float(pareto.params_["alpha"])
    pareto_next = (palpha + age) * (2 ** (1 / (pr + x)) - 1)
    rate = x / np.maximum(age, 1.0)
    naive_next = np.where(rate > 0, math.log(2) / np.maximum(rate, 1e-9), 3650.0)
    scores = [
        score("ours", y, ours.expected, next_error(ours_next)),
        score("BG/NBD", y, mu_bg, next_error(bg_next)),
        score("Pareto/NBD", y, mu_pareto, next_error(pareto_next)),
        score("naive rate", y, rate * horizon, next_error(naive_next)),
    ]
    timing = {
        "customers": float(len(history)),
        "fit_s": fit_seconds,
        "predict_ms_per_1000": predict_seconds * 1000 / max(1, len(history)) * 1000,
    }
    return scores, timing


def table(cut: date, horizon: int, scores: list[Score], timing: dict[str, float]) -> str:
    lines = [
        f"split {cut.isoformat()} + {horizon} days: {int(timing['customers']):,} customers, "
        f"our fit {timing['fit_s']:.1f} s, predictions {timing['predict_ms_per_1000']:.1f} ms per 1,000 customers",
        f"  {'model':<11} {'MAE':>7} {'AUC':>7} {'deviance':>9} {'predicted':>10} {'actual':>8}"
        f" {'next-date err (d)':>18}",
    ]
    for s in scores:
        lines.append(
            f"  {s.model:<11} {s.mae:7.4f} {s.auc:7.4f} {s.deviance:9.4f} {s.predicted:10.1f} {s.actual:8.0f} "
            f"{s.next_date_error:18.1f}"
        )
    ours, bg = scores[0], scores[1]
    wins = {
        "MAE": ours.mae < bg.mae,
        "AUC": ours.auc > bg.auc,
        "deviance": ours.deviance < bg.deviance,
        # to the tenth of a purchase day, as printed
        "total": round(abs(ours.predicted - ours.actual), 1) <= round(abs(bg.predicted - bg.actual), 1),
    }
    lines.append("  ours vs BG/NBD: " + ", ".join(f"{k} {'better' if v else 'WORSE'}" for k, v in wins.items()))
    return "\n".join(lines)


def _split(text: str) -> tuple[date, int]:
    try:
        cut, horizon = text.split(":")
        return date.fromisoformat(cut), int(horizon)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not CUT:DAYS (e.g. 1997-09-30:273)") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.evaluate_predictor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", help="a CSV with customer_id,date,amount (default: CDNOW's development half)")
    parser.add_argument("--split", type=_split, action="append", help="CUT:DAYS, repeatable (default: CDNOW's five)")
    args = parser.parse_args(argv)
    progress = Progress(sys.stderr.isatty())
    try:
        from pathlib import Path

        rows = read_transactions(Path(args.transactions), progress) if args.transactions else cdnow_rows()
    except InputError as error:
        print(f"evaluate_predictor: {error}", file=sys.stderr)
        return 2
    splits = args.split or (CDNOW_SPLITS if not args.transactions else None)
    if not splits:
        print("evaluate_predictor: --split CUT:DAYS is needed with --transactions", file=sys.stderr)
        return 2
    source = args.transactions or f"CDNOW customers 1-{CDNOW_DEVELOPMENT_IDS}"
    print(f"{source}: {len(rows):,} purchases of {len({r[0] for r in rows}):,} customers")
    for cut, horizon in splits:
        progress(f"split {cut} + {horizon} days")
        scores, timing = evaluate_split(rows, cut, horizon)
        print(table(cut, horizon, scores, timing), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
