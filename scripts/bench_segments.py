"""Segment figures over the members' columnar snapshot (DuckDB over Parquet), no DynamoDB needed:

1. Building: a base of N synthetic members (generated in SQL, written as the compaction writes it),
   its size on disk; the stream's write path (``Snapshot.append`` of 100-row deltas, as a batch of
   the members table's stream) in rows per second; a compaction folding those deltas.
2. Previews, as ``POST /v1/segments/preview`` runs them (``store.audience.preview``: the count, the
   program's size and a sample of 20), over the base plus the unfolded deltas: the median and worst
   time of a few runs per definition, and the bytes DuckDB read (its profiler's ``total_bytes_read``
   for the count query).

    python -m scripts.bench_segments                         # 10,000 / 100,000 / 1,000,000 members
    python -m scripts.bench_segments --members 100000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from chalicelib.domain.segments import DayRange, Definition
from chalicelib.store import audience, snapshot
from scripts.bench_foundation import Report, progress

TODAY = date(2026, 11, 23)
TZ = ZoneInfo("Europe/Berlin")
#: Deltas written before the previews: an hour's worth of changes for a busy program.
DELTA_ROWS = 2_000
DELTA_BATCH = 100

DEFINITIONS: dict[str, Definition] = {
    "everyone": Definition(),
    "Silver+Gold, consenting": Definition(tiers=("Silver", "Gold"), consent_only=True),
    "coffee, away 30-90 days": Definition(categories=("coffee",), last_visit_days=DayRange(30, 90)),
    "RFM 5** or 45*": Definition(rfm=("5**", "45*")),
    "birthday in May, home store, 3+ visits": Definition(birthday_month=5, home_store_id="s_7", min_visits=3),
}

#: Synthetic members: tiers 70/23/7 %, 60 % consent, visits and spend skewed like a real program's,
#: last visits over two years, 1-3 of eight categories.
CATEGORIES = "['coffee', 'cake', 'tea', 'breakfast', 'lunch', 'beans', 'merch', 'juice']"
SYNTHETIC = """
SELECT
    'sub_' || lpad(i::VARCHAR, 8, '0') AS sub,
    lpad('0', 40, '0') AS seq,
    false AS deleted,
    'cus_' || md5(i::VARCHAR)[:20] AS customer_id,
    CASE WHEN h % 100 < 70 THEN 'Bronze' WHEN h % 100 < 93 THEN 'Silver' ELSE 'Gold' END AS tier,
    (h // 100) % 10 < 6 AS consent,
    (1 + (h // 1000) % 12)::TINYINT AS birthday_month,
    's_' || ((h // 12000) % 40) AS home_store_id,
    TIMESTAMP '2023-01-01' + to_seconds((h // 7) % 90000000) AS joined_at,
    visits,
    (visits * (800 + (h // 13) % 4000))::BIGINT AS spend_minor,
    CASE WHEN visits > 0 THEN TIMESTAMP '2026-11-23' - to_seconds((h // 17) % 63000000) END AS last_visit_at,
    ((h // 19) % 3000)::BIGINT AS points_balance,
    CASE WHEN visits > 0 THEN list_slice({categories}, 1 + (h // 23) % 6, 1 + (h // 23) % 6 + (h // 29) % 3)
        ELSE [] END AS categories,
    CASE WHEN visits > 0 THEN {categories}[1 + (h // 23) % 6] END AS favourite_category,
    'Europe/Berlin' AS timezone,
    NULL::VARCHAR AS referred_by,
    CASE WHEN visits > 0 THEN [strftime(TIMESTAMP '2026-11-23' - to_seconds((h // 17) % 63000000), '%Y-%m')]
        ELSE []::VARCHAR[] END AS visit_months
FROM (
    SELECT i, h,
        CASE WHEN h % 10 < 2 THEN 0 ELSE (1 + floor(pow(((h // 31) % 1000) / 1000.0, 3) * 80))::INTEGER END AS visits
    FROM (SELECT i, (hash(i) % 9223372036854775807)::BIGINT AS h FROM range({n}) t(i))
)
"""


def synthetic(members: int) -> str:
    return SYNTHETIC.format(n=members, categories=CATEGORIES)


def measure(report: Report, sizes: list[int], runs: int) -> None:
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-snapshot-") as tmp:
            measure_size(report, Path(tmp), size, runs)


def measure_size(report: Report, root: Path, size: int, runs: int) -> None:
    section = f"{size:,} members"
    shot = snapshot.Snapshot(root)
    progress(f"[{section}] generating the base ...")
    started = time.perf_counter()
    base = shot.replace_with_query(snapshot.MEMBERS, synthetic(size))
    report.add(section, "base written (generated in SQL)", f"{time.perf_counter() - started:.2f} s")
    size_on_disk = base.stat().st_size
    report.add(section, "base on disk", f"{size_on_disk / 1e6:.1f} MB ({size_on_disk / size:.0f} B/member)")

    with shot.connect() as con:
        rows = con.execute(f"SELECT * FROM ({synthetic(DELTA_ROWS)}) ORDER BY sub").fetchall()  # noqa: S608
        names = [d[0] for d in con.description]
    changed = [dict(zip(names, row, strict=True)) | {"seq": snapshot.seq_of(n + 1)} for n, row in enumerate(rows)]
    started = time.perf_counter()
    for start in range(0, len(changed), DELTA_BATCH):
        shot.append(snapshot.MEMBERS, changed[start : start + DELTA_BATCH])
    spent = time.perf_counter() - started
    report.add(
        section,
        f"stream deltas ({DELTA_ROWS:,} rows in {DELTA_BATCH}-row batches)",
        f"{DELTA_ROWS / spent:,.0f} rows/s, {spent / (DELTA_ROWS / DELTA_BATCH) * 1000:.1f} ms a batch",
    )

    for label, definition in DEFINITIONS.items():
        timings = []
        found = None
        for _ in range(runs):
            started = time.perf_counter()
            found = audience.preview(shot, definition, TODAY, TZ, 20)
            timings.append(time.perf_counter() - started)
        assert found is not None
        read = bytes_read(shot, definition)
        report.add(
            section,
            f"preview: {label}",
            f"{statistics.median(timings) * 1000:.0f} ms median, {max(timings) * 1000:.0f} ms worst; "
            f"{found.count:,} of {found.members:,}; {read / 1e6:.1f} MB read",
        )

    started = time.perf_counter()
    folded = shot.compact(snapshot.MEMBERS)
    report.add(section, f"compaction ({folded} deltas into the base)", f"{time.perf_counter() - started:.2f} s")


def bytes_read(shot: snapshot.Snapshot, definition: Definition) -> int:
    """DuckDB's own count of the bytes the preview's count query read."""
    profile = shot.root / "profile.json"
    with shot.connect(profile_to=profile) as con:
        con.execute(*audience.count_query(definition, TODAY, TZ)).fetchall()
    return int(json.loads(profile.read_text())["io"]["total_bytes_read"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    report = Report(title="Segment figures (members' snapshot: DuckDB over Parquet)")
    measure(report, args.members, args.runs)
    report.notes.append(
        "preview = the count, the program's size and a 20-member sample: three queries, as the API runs them"
    )
    print(report.render())


if __name__ == "__main__":
    main()
