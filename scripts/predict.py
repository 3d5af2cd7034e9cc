"""Predict each customer's next purchases from a purchase log, as the weekly ``fit_predictor`` job
does for the program (``chalicelib/domain/anticipation.py``).

    python -m scripts.predict --transactions FILE.csv --as-of YYYY-MM-DD --horizon DAYS --out OUT.csv

Input: a CSV with a header naming ``customer_id``, ``date`` (``YYYY-MM-DD``) and ``amount`` (other
columns are ignored). The model is fitted on the rows dated on or before ``--as-of`` and nothing
else; the output has a row per customer with at least one such row:
``customer_id,p_active,expected_purchases,next_purchase_date`` (expected purchases are distinct
purchase days within the horizon). Bad input is one line naming the problem and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

COLUMNS = ("customer_id", "date", "amount")


class InputError(Exception):
    """A problem with the input, told to the user in one line."""


class Progress:
    """Stages and their times on standard error, when it is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.enabled:
            print(f"[{time.perf_counter() - self.started:6.1f}s] {message}", file=sys.stderr, flush=True)


def read_transactions(path: Path, progress: Progress) -> list[tuple[str, date, float]]:
    """(customer, day, amount) rows; ``InputError`` names the first bad line."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    rows: list[tuple[str, date, float]] = []
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(f"{path}: empty file, expected a header with {', '.join(COLUMNS)}") from None
        except (csv.Error, UnicodeDecodeError) as error:
            raise InputError(f"{path}: line 1: not CSV text ({error})") from None
        names = [name.strip() for name in header]
        missing = [column for column in COLUMNS if column not in names]
        if missing:
            raise InputError(f"{path}: the header has no column {', '.join(missing)} (found: {', '.join(names)})")
        at = {column: names.index(column) for column in COLUMNS}
        width = max(at.values()) + 1
        try:
            for fields in reader:
                line = reader.line_num
                if not fields or all(not f.strip() for f in fields):
                    continue
                if len(fields) < width:
                    raise InputError(f"{path}: line {line}: {len(fields)} fields, the header has {len(names)}")
                rows.append(_row(path, line, fields, at))
                if line % 100_000 == 0:
                    progress(f"read {line:,} lines")
        except (csv.Error, UnicodeDecodeError) as error:
            raise InputError(f"{path}: line {reader.line_num}: not CSV text ({error})") from None
    return rows


def _row(path: Path, line: int, fields: list[str], at: dict[str, int]) -> tuple[str, date, float]:
    customer = fields[at["customer_id"]].strip()
    if not customer:
        raise InputError(f"{path}: line {line}: customer_id is empty")
    raw_date = fields[at["date"]].strip()
    try:
        if len(raw_date) != 10:
            raise ValueError
        day = date.fromisoformat(raw_date)
    except ValueError:
        raise InputError(f"{path}: line {line}: date {raw_date!r} is not a YYYY-MM-DD date") from None
    raw_amount = fields[at["amount"]].strip()
    try:
        amount = float(raw_amount)
    except ValueError:
        raise InputError(f"{path}: line {line}: amount {raw_amount!r} is not a number") from None
    if not math.isfinite(amount):
        raise InputError(f"{path}: line {line}: amount {raw_amount!r} is not a finite number")
    return customer, day, amount


def _as_of(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a YYYY-MM-DD date") from None


def _horizon(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if days < 0:
        raise argparse.ArgumentTypeError(f"{days} is negative: the horizon is a number of days ahead, 0 or more")
    return days


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # one line, not argparse's usage block
        self.exit(2, f"predict: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="python -m scripts.predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=Path, required=True, help="CSV with customer_id,date,amount")
    parser.add_argument("--as-of", type=_as_of, required=True, help="fit on rows dated on or before this day")
    parser.add_argument("--horizon", type=_horizon, required=True, help="days ahead to count purchases in")
    parser.add_argument("--out", type=Path, required=True, help="where to write the predictions (CSV)")
    args = parser.parse_args(argv)
    progress = Progress(sys.stderr.isatty())
    try:
        write_predictions(args.transactions, args.as_of, args.horizon, args.out, progress)
    except InputError as error:
        print(f"predict: {error}", file=sys.stderr)
        return 2
    return 0


def write_predictions(source: Path, as_of: date, horizon: int, out: Path, progress: Progress) -> int:
    from chalicelib.domain import anticipation  # numpy and scipy: after the arguments are checked

    progress(f"reading {source}")
    rows = read_transactions(source, progress)
    kept = [row for row in rows if row[1] <= as_of]
    if not kept:
        raise InputError(f"{source}: no rows dated on or before {as_of.isoformat()} (of {len(rows):,})")
    progress(f"{len(kept):,} of {len(rows):,} rows on or before {as_of.isoformat()}; fitting")
    history = anticipation.History.of(kept, as_of)
    model = anticipation.fit(kept, as_of, max(horizon, 1), history)
    progress(f"fitted on {len(history):,} customers; predicting {horizon} days ahead")
    predictions = anticipation.predict(model, history, horizon)
    try:
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["customer_id", "p_active", "expected_purchases", "next_purchase_date"])
            for i, customer in enumerate(predictions.ids):
                writer.writerow(
                    [
                        customer,
                        f"{predictions.p_active[i]:.6f}",
                        f"{predictions.expected[i]:.6f}",
                        predictions.next_purchase[i].isoformat(),
                    ]
                )
    except OSError as error:
        raise InputError(f"{out}: cannot be written ({error.strerror})") from None
    progress(f"wrote {len(predictions.ids):,} rows to {out}")
    return len(predictions.ids)


if __name__ == "__main__":
    sys.exit(main())
