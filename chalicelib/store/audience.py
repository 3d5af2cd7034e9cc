"""A segment definition as SQL over the members' snapshot (``store/snapshot.py``): the count, a
sample, and every member in it. The same SQL runs on Athena over the same Parquet files.

Days are the program's: "visited in the last 30 days" counts local calendar days back from today
in the program's time zone. The day boundaries are worked out here, in Python, as UTC instants
(the snapshot stores UTC), so the SQL compares timestamps and needs no time-zone extension.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.segments import DayRange, Definition
from chalicelib.store.snapshot import Snapshot, quoted

#: How many subs a full listing fetches from DuckDB at a time.
FETCH_ROWS = 10_000


@dataclass(frozen=True)
class SampleRow:
    customer_id: str
    tier: str
    visits: int
    spend_minor: int
    last_visit_at: datetime | None
    favourite_category: str | None


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[SampleRow]
    #: Members in the snapshot (the denominator).
    members: int


def count_query(definition: Definition, today: date, tz: ZoneInfo) -> tuple[str, list[Any]]:
    """The SQL (and its parameters) that counts the members ``definition`` matches."""
    where, params, needs_rfm = _where(definition, today, tz)
    return f"{_source(needs_rfm)} SELECT count(*) FROM m WHERE {where}", params


def preview(snapshot: Snapshot, definition: Definition, today: date, tz: ZoneInfo, sample: int) -> Preview:
    where, params, needs_rfm = _where(definition, today, tz)
    source = _source(needs_rfm)
    with snapshot.connect() as con:
        (count,) = _one(con.execute(*count_query(definition, today, tz)))
        (members,) = _one(con.execute("SELECT count(*) FROM members"))
        rows = con.execute(
            f"{source} SELECT customer_id, tier, visits, spend_minor, last_visit_at, favourite_category "
            f"FROM m WHERE {where} ORDER BY hash(sub) LIMIT {int(sample)}",
            params,
        ).fetchall()
    return Preview(
        count=int(count),
        members=int(members),
        sample=[
            SampleRow(
                customer_id=r[0],
                tier=r[1],
                visits=int(r[2] or 0),
                spend_minor=int(r[3] or 0),
                last_visit_at=r[4].replace(tzinfo=UTC) if r[4] is not None else None,
                favourite_category=r[5],
            )
            for r in rows
        ],
    )


def members(snapshot: Snapshot, definition: Definition, today: date, tz: ZoneInfo) -> Iterator[tuple[str, bool]]:
    """``(sub, consents to marketing)`` of every member in the segment, in ``sub`` order."""
    where, params, needs_rfm = _where(definition, today, tz)
    with snapshot.connect() as con:
        cursor = con.execute(f"{_source(needs_rfm)} SELECT sub, consent FROM m WHERE {where} ORDER BY sub", params)
        while chunk := cursor.fetchmany(FETCH_ROWS):
            for sub, consent in chunk:
                yield str(sub), bool(consent)


def _one(cursor: Any) -> tuple[Any, ...]:
    row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def _source(needs_rfm: bool) -> str:
    joined = "SELECT members.*, predictions.next_visit_at FROM members LEFT JOIN predictions USING (sub)"
    if not needs_rfm:
        return f"WITH m AS ({joined})"
    # Quintiles over the members with a visit: 5 x the share of them at or below the member's value,
    # rounded up, so equal values score alike and a small program still has a top fifth.
    return (
        f"WITH j AS ({joined}), m AS (SELECT j.*, {_quintile('last_visit_at')} AS r, "
        f"{_quintile('visits')} AS f, {_quintile('spend_minor')} AS mo FROM j)"
    )


def _quintile(column: str) -> str:
    return f"CASE WHEN visits > 0 THEN ceil(5 * cume_dist() OVER (PARTITION BY visits > 0 ORDER BY {column})) END"


def _where(definition: Definition, today: date, tz: ZoneInfo) -> tuple[str, list[Any], bool]:
    clauses: list[str] = ["true"]
    params: list[Any] = []

    def add(clause: str, *values: Any) -> None:
        clauses.append(clause)
        params.extend(values)

    if definition.tiers:
        add("tier IN (SELECT unnest(?::VARCHAR[]))", list(definition.tiers))
    if definition.categories:
        add("list_has_any(categories, ?::VARCHAR[])", list(definition.categories))
    if definition.min_visits is not None:
        add("visits >= ?", definition.min_visits)
    if definition.max_visits is not None:
        add("visits <= ?", definition.max_visits)
    if definition.min_spend is not None:
        add("spend_minor >= ?", definition.min_spend)
    if definition.birthday_month is not None:
        add("birthday_month = ?", definition.birthday_month)
    if definition.home_store_id is not None:
        add("home_store_id = ?", definition.home_store_id)
    if definition.consent_only:
        add("consent")
    _days_back("last_visit_at", definition.last_visit_days, today, tz, add)
    _days_back("joined_at", definition.joined_days, today, tz, add)
    if definition.next_visit_days is not None:
        days = definition.next_visit_days
        if days.min is not None:
            add("next_visit_at >= ?", _day_start(today + timedelta(days=days.min), tz))
        if days.max is not None:
            add("next_visit_at < ?", _day_start(today + timedelta(days=days.max + 1), tz))
        add("next_visit_at IS NOT NULL")
    cells = definition.rfm_cells()
    if cells:
        ors = []
        for r, f, m in cells:
            parts = ["visits > 0"]
            for column, score in (("r", r), ("f", f), ("mo", m)):
                if score is not None:
                    parts.append(f"{column} = ?")
                    params.append(score)
            ors.append("(" + " AND ".join(parts) + ")")
        clauses.append("(" + " OR ".join(ors) + ")")
    return " AND ".join(clauses), params, bool(cells)


def _days_back(column: str, days: DayRange | None, today: date, tz: ZoneInfo, add: Any) -> None:
    """``column`` fell between ``days.max`` and ``days.min`` local days before ``today``."""
    if days is None:
        return
    add(f"{column} IS NOT NULL")
    if days.min is not None:
        add(f"{column} < ?", _day_start(today - timedelta(days=days.min - 1), tz))
    if days.max is not None:
        add(f"{column} >= ?", _day_start(today - timedelta(days=days.max), tz))


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant (naive, as the snapshot stores it) a local day begins."""
    return datetime.combine(day, time(0), tz).astimezone(UTC).replace(tzinfo=None)


@dataclass
class MembershipChange:
    """Who came into a saved segment and who left it since its last run. ``commit`` (after the
    features were written) makes this run's members the next run's baseline; a run that fails
    before it is simply done again (adding a member to a set twice changes nothing)."""

    joined: list[str]
    left: list[str]
    total: int
    _next: Path
    _current: Path
    _snapshot: Snapshot

    def commit(self) -> None:
        os.replace(self._next, self._current)
        self._snapshot.publish(self._current)


def refresh_membership(
    snapshot: Snapshot, segment_id: str, definition: Definition | None, today: date, tz: ZoneInfo
) -> MembershipChange:
    """``definition`` None: the segment ended, everyone leaves it."""
    snapshot.pull("segments")
    folder = snapshot.folder("segments")
    current = folder / f"{segment_id}.parquet"
    following = folder / f"{segment_id}.next.parquet"
    with snapshot.connect() as con:
        if definition is None:
            con.execute("CREATE TEMP TABLE now_in AS SELECT NULL::VARCHAR AS sub WHERE false")
        else:
            where, params, needs_rfm = _where(definition, today, tz)
            con.execute(f"CREATE TEMP TABLE now_in AS {_source(needs_rfm)} SELECT sub FROM m WHERE {where}", params)
        before = (
            f"read_parquet('{quoted(current)}')" if current.exists() else "(SELECT NULL::VARCHAR AS sub WHERE false)"
        )
        joined = [
            r[0] for r in con.execute(f"SELECT sub FROM now_in EXCEPT SELECT sub FROM {before} ORDER BY 1").fetchall()
        ]
        left = [
            r[0] for r in con.execute(f"SELECT sub FROM {before} EXCEPT SELECT sub FROM now_in ORDER BY 1").fetchall()
        ]
        (total,) = _one(con.execute("SELECT count(*) FROM now_in"))
        con.execute(f"COPY now_in TO '{quoted(following)}' (FORMAT parquet)")
    return MembershipChange(joined, left, int(total), following, current, snapshot)


@dataclass(frozen=True)
class ReferrerRow:
    customer_id: str
    sub: str | None
    tier: str | None
    friends: int
    friends_who_bought: int
    friends_spend_minor: int


@dataclass(frozen=True)
class ReferralTotals:
    referrers: int
    friends: int
    friends_who_bought: int
    friends_spend_minor: int


def referrers(snapshot: Snapshot, limit: int, offset: int) -> tuple[ReferralTotals, list[ReferrerRow]]:
    """Who brought whom, from the snapshot: per referrer their friends, how many of them bought and
    what they spent, the biggest spenders' referrers first; and the program's totals."""
    with snapshot.connect() as con:
        totals = _one(
            con.execute(
                "SELECT count(DISTINCT referred_by), count(*), count(*) FILTER (WHERE visits > 0), "
                "coalesce(sum(spend_minor), 0) FROM members WHERE referred_by IS NOT NULL"
            )
        )
        rows = con.execute(
            "WITH f AS (SELECT referred_by AS customer_id, count(*) AS friends, "
            "count(*) FILTER (WHERE visits > 0) AS bought, sum(spend_minor) AS spend "
            "FROM members WHERE referred_by IS NOT NULL GROUP BY 1) "
            "SELECT f.customer_id, r.sub, r.tier, f.friends, f.bought, f.spend FROM f "
            "LEFT JOIN members r USING (customer_id) "
            "ORDER BY f.spend DESC, f.friends DESC, f.customer_id LIMIT ? OFFSET ?",
            [limit, offset],
        ).fetchall()
    return (
        ReferralTotals(int(totals[0]), int(totals[1]), int(totals[2]), int(totals[3])),
        [ReferrerRow(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5] or 0)) for r in rows],
    )


@dataclass(frozen=True)
class MemberFacts:
    members: int
    joined: int
    active: int
    buyers: int
    repeat: int
    consenting: int
    points_outstanding: int
    tiers: list[tuple[str, int]]


def member_facts(snapshot: Snapshot, first: date, last: date, timezone: str) -> MemberFacts:
    """The program's members as the snapshot has them: how many, joined between ``first`` and
    ``last`` (program days), active in the period's months, buyers and repeat buyers (two visits or
    more), consenting, the points they hold, per tier."""
    tz = ZoneInfo(timezone)
    months = sorted({(first + timedelta(days=n)).strftime("%Y-%m") for n in range((last - first).days + 1)})
    with snapshot.connect() as con:
        row = _one(
            con.execute(
                "SELECT count(*), count(*) FILTER (WHERE joined_at >= ? AND joined_at < ?), "
                "count(*) FILTER (WHERE list_has_any(visit_months, ?::VARCHAR[])), "
                "count(*) FILTER (WHERE visits > 0), count(*) FILTER (WHERE visits > 1), "
                "count(*) FILTER (WHERE consent), coalesce(sum(points_balance), 0) FROM members",
                [_day_start(first, tz), _day_start(last + timedelta(days=1), tz), months],
            )
        )
        tiers = con.execute("SELECT tier, count(*) FROM members GROUP BY tier ORDER BY 2 DESC, 1").fetchall()
    members, joined, active, buyers, repeat, consenting, points = (int(v) for v in row)
    return MemberFacts(
        members, joined, active, buyers, repeat, consenting, points, [(str(t), int(n)) for t, n in tiers]
    )


@dataclass(frozen=True)
class TierRow:
    tier: str
    members: int
    consenting: int
    visits: int
    spend: int
    points: int


def tier_rows(snapshot: Snapshot) -> list[TierRow]:
    with snapshot.connect() as con:
        rows = con.execute(
            "SELECT tier, count(*), count(*) FILTER (WHERE consent), coalesce(sum(visits), 0), "
            "coalesce(sum(spend_minor), 0), coalesce(sum(points_balance), 0) FROM members GROUP BY tier"
        ).fetchall()
    return [TierRow(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows]


def consenting(snapshot: Snapshot, after: str | None, limit: int) -> list[str]:
    """The ``sub`` of consenting members after ``after``, in ``sub`` order (the CRM export's pages)."""
    with snapshot.connect() as con:
        rows = con.execute(
            "SELECT sub FROM members WHERE consent AND (? IS NULL OR sub > ?) ORDER BY sub LIMIT ?",
            [after, after, limit],
        ).fetchall()
    return [str(r[0]) for r in rows]
