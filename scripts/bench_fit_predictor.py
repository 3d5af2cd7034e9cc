"""The weekly ``fit_predictor`` job's figures, on DynamoDB Local and moto's SQS server in this
process, over a synthetic program of N members (default 25,000) with purchase histories drawn from
a BG/NBD process (gamma rates, a beta chance of leaving after each purchase), kept in the
snapshot's ``members`` and ``purchases`` datasets as the streams keep them:

1. The job as the schedule runs it (``anticipation.fit_predictor``): reading the history from the
   snapshot (DuckDB, per member and day), fitting, predicting, storing the fit, enqueueing the
   predictions; the time of each part, the queue messages.
2. The predictions landing: the contacts queue drained by the same handler Lambda calls, each
   member's features written under the stale-visit condition: predictions per second, DynamoDB
   requests per prediction.

    python -m scripts.bench_fit_predictor
    python -m scripts.bench_fit_predictor --members 100000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from scripts import bench_foundation
from scripts.bench_foundation import DynamoCounter, Report, progress

#: The synthetic program's purchase process: rates ~ Gamma(R, 1/ALPHA) per day, leaving after a
#: purchase with chance ~ Beta(A, B) (CDNOW-like: most buy once or twice, a few every few weeks).
R, ALPHA, A, B = 0.6, 25.0, 0.8, 2.5
HISTORY_DAYS = 540


def purchase_rows(members: int, as_of: date, seed: int = 7) -> list[dict[str, Any]]:
    """Purchase-history rows for the members ``bench_segments.synthetic`` makes (same customer ids)."""
    import hashlib

    from chalicelib.store import snapshot

    rng = np.random.default_rng(seed)
    rates = rng.gamma(R, 1 / ALPHA, members)
    leave = rng.beta(A, B, members)
    firsts = rng.integers(1, HISTORY_DAYS, members)
    rows: list[dict[str, Any]] = []
    for i in range(members):
        customer = "cus_" + hashlib.md5(str(i).encode(), usedforsecurity=False).hexdigest()[:20]
        day = float(HISTORY_DAYS - firsts[i])
        n = 0
        while day <= HISTORY_DAYS:
            at = datetime.combine(as_of - timedelta(days=HISTORY_DAYS - int(day)), datetime.min.time()) + timedelta(
                hours=10
            )
            rows.append(
                {
                    "purchase_id": f"p_{i}_{n}",
                    "seq": snapshot.seq_of(0),
                    "deleted": False,
                    "customer_id": customer,
                    "bought_at": at,
                    "amount_minor": int(rng.lognormal(7.3, 0.6)),
                    "refunded": False,
                }
            )
            n += 1
            if rng.random() < leave[i]:
                break
            day += rng.exponential(1 / rates[i])
    return rows


def measure(report: Report, members: int) -> None:
    with bench_foundation.seeded_with_local_sqs(), tempfile.TemporaryDirectory(prefix="bench-fit-") as tmp:
        measure_job(report, Path(tmp), members)


def measure_job(report: Report, root: Path, members: int) -> None:
    import app as handlers
    from chalicelib import queues
    from chalicelib.domain import anticipation as model
    from chalicelib.services import anticipation
    from chalicelib.store import snapshot
    from scripts.bench_segments import synthetic

    section = f"fit_predictor, {members:,} members"
    at = datetime.now(UTC).replace(hour=2, minute=30, second=0, microsecond=0)
    as_of = at.date()
    progress(f"[{section}] building the history ...")
    rows = purchase_rows(members, as_of)
    with snapshot.replaced(root):
        shot = snapshot.current()
        shot.replace_with_query(snapshot.MEMBERS, synthetic(members))
        shot.replace_all(snapshot.PURCHASES, rows)
        report.add(section, "purchase history", f"{len(rows):,} purchases")

        started = time.perf_counter()
        history_rows = anticipation.history(as_of)
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        past = model.History.of(history_rows, as_of)
        fitted = model.fit(history_rows, as_of, anticipation.HORIZON_DAYS, past)
        fit_s = time.perf_counter() - started
        started = time.perf_counter()
        model.predict(fitted, past)
        predict_s = time.perf_counter() - started

        progress(f"[{section}] the job ...")
        counter = DynamoCounter()
        with counter.installed(), counter.measure() as job_calls:
            started = time.perf_counter()
            result = anticipation.fit_predictor(at)
            job_s = time.perf_counter() - started
        report.add(section, "the job, whole (read, fit, predict, store, enqueue)", f"{job_s:.1f} s")
        report.add(
            section,
            "  history read from the snapshot (DuckDB)",
            f"{read_s * 1000:.0f} ms ({result['purchase_days']:,} member-days, {result['customers']:,} members)",
        )
        report.add(section, "  fit (both models, the spend layer's back-test)", f"{fit_s:.1f} s")
        report.add(
            section,
            "  predictions",
            f"{predict_s * 1000:.0f} ms ({predict_s * 1000 / max(len(past), 1) * 1000:.1f} ms per 1,000 members)",
        )
        report.add(
            section,
            "  enqueued",
            f"{result['messages']:,} messages; DynamoDB requests {bench_foundation.ops(job_calls)}",
        )

        progress(f"[{section}] the predictions landing ...")
        with counter.installed(), counter.measure() as calls:
            started = time.perf_counter()
            while queues.poll_once(queues.CONTACTS, handlers.contact_members):
                pass
            landed_s = time.perf_counter() - started
        written = result["customers"]
        report.add(
            section,
            "predictions written per second, one consumer",
            f"{written / landed_s:,.0f} ({written:,} in {landed_s:.1f} s)",
        )
        report.add(
            section,
            "DynamoDB requests per prediction",
            f"{len(calls) / max(written, 1):.2f} ({bench_foundation.ops(calls)})",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=bench_foundation.positive, default=25_000)
    args = parser.parse_args()
    report = Report(title="fit_predictor figures")

    def run(r: Report, n: int, endpoint: str) -> None:
        measure(r, args.members)

    bench_foundation.run_phases(
        report, [("fit_predictor", False, lambda: bench_foundation.measure_requests(report, 0, run))]
    )


if __name__ == "__main__":
    main()
