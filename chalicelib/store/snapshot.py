"""The members' columnar snapshot: Parquet files that segments, campaigns' audiences and member
reports query with DuckDB, so no request and no job reads the live tables for them.

Each dataset (``members``, ``predictions``) is a folder of Parquet files of rows keyed by ``sub``,
ordered by ``seq`` (the write stream's sequence number, zero-padded so it sorts as text):

``base-<n>.parquet`` + ``base-<n>.json``
    every row as of compaction ``n``; the JSON lists the delta files it folded. A base counts only
    once its JSON exists (written last), so a reader never sees half a compaction.
``delta-<utc stamp>-<random>.parquet``
    the rows of one batch of a stream's records (the members table's stream; the predictor's
    updates), written by the stream's handler: cost grows with the writes, not with the members.

A reader takes the newest base and every delta it did not fold, and keeps the latest row per
``sub`` (a ``deleted`` row, written when a member leaves, hides it). Compaction writes the same as a
new base and, one compaction later, removes what the previous base folded: a reader that listed
the files a moment before still finds them, and the rows of a member who left are gone from disk
within two compactions (``jobs``: hourly).

The snapshot holds no personal data: no name, phone, card number, birthday (only its month), token
or place; ids, tier, consent and the purchase aggregates the member item keeps.

On one machine (the local stack) the folder is the snapshot. On AWS every function has a ``/tmp``
of its own: the folder is each one's cache of the objects under ``snapshot/`` in the stage's
bucket (``LOYALTY_SNAPSHOT_BUCKET``, :class:`Mirror`). Every file written is put there (a base's
manifest after its Parquet file, so a reader never sees half a compaction), every file removed is
deleted there, and before reading a folder a function brings it up to date with one listing,
fetching only what it has not got (files are never changed in place but a segment's membership,
fetched again when the bucket's copy is newer). A program with millions of members runs the same
SQL on the same files with Athena (README).
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.config import settings

#: Files fetched from the bucket at once when a folder is brought up to date.
PULL_THREADS = 8
#: A local file missing from the bucket is dropped only when older than this (one being put there).
UNPUBLISHED_GRACE_S = 300

#: ``seq`` is padded to this many digits (DynamoDB's stream sequence numbers are up to 40).
SEQ_DIGITS = 40


@dataclass(frozen=True)
class Dataset:
    name: str
    #: Column name -> DuckDB type, the key, ``seq`` and ``deleted`` first.
    columns: Mapping[str, str]
    #: The column a row is the latest of (one current row per value).
    key: str = "sub"
    #: None: a ``deleted`` row hides its key's row. A column: a ``deleted`` row hides every row
    #: with its value there, written before it (a leaving member's purchases, all of them).
    erase_by: str | None = None

    @property
    def names(self) -> list[str]:
        return list(self.columns)


MEMBERS = Dataset(
    "members",
    {
        "sub": "VARCHAR",
        "seq": "VARCHAR",
        "deleted": "BOOLEAN",
        "customer_id": "VARCHAR",
        "tier": "VARCHAR",
        "consent": "BOOLEAN",
        "birthday_month": "TINYINT",
        "home_store_id": "VARCHAR",
        "joined_at": "TIMESTAMP",
        "visits": "INTEGER",
        "spend_minor": "BIGINT",
        "last_visit_at": "TIMESTAMP",
        "points_balance": "BIGINT",
        "categories": "VARCHAR[]",
        "favourite_category": "VARCHAR",
        "timezone": "VARCHAR",
        "referred_by": "VARCHAR",
        #: Months (``YYYY-MM``, program time) with a visit, within the tier window the member item keeps.
        "visit_months": "VARCHAR[]",
    },
)

PREDICTIONS = Dataset(
    "predictions",
    {"sub": "VARCHAR", "seq": "VARCHAR", "deleted": "BOOLEAN", "next_visit_at": "TIMESTAMP", "model": "VARCHAR"},
)

#: The purchase history the predictor is fitted on (``services/anticipation.py``): one row per
#: purchase from the purchases table's stream, its amount net of refunds (``seq`` = the purchase's
#: revision, so a refund's row replaces the purchase's); a member who leaves writes a ``deleted``
#: row for their ``customer_id`` that hides, and at compaction removes, every purchase of theirs.
PURCHASES = Dataset(
    "purchases",
    {
        "purchase_id": "VARCHAR",
        "seq": "VARCHAR",
        "deleted": "BOOLEAN",
        "customer_id": "VARCHAR",
        "bought_at": "TIMESTAMP",
        "amount_minor": "BIGINT",
        "refunded": "BOOLEAN",
    },
    key="purchase_id",
    erase_by="customer_id",
)

DATASETS = (MEMBERS, PREDICTIONS, PURCHASES)

_lock = threading.Lock()
_compacting = threading.Lock()


if TYPE_CHECKING:
    import duckdb

_database: duckdb.DuckDBPyConnection | None = None


def _connection() -> duckdb.DuckDBPyConnection:
    """A connection of its own (temporary tables and settings are per connection) to one in-memory
    database per process: opening a database costs ~20 ms, a cursor on it almost nothing."""
    global _database
    with _lock:
        if _database is None:
            import duckdb  # on first use: the API's requests that never read the snapshot go without it

            _database = duckdb.connect()
        return _database.cursor()


def seq_of(sequence_number: str | int) -> str:
    return str(sequence_number).rjust(SEQ_DIGITS, "0")


_override: Snapshot | None = None


def current() -> Snapshot:
    """The process's snapshot: ``LOYALTY_SNAPSHOT_DIR``, mirrored in ``LOYALTY_SNAPSHOT_BUCKET`` when
    there is one (tests swap it with ``replaced``)."""
    if _override is not None:
        return _override
    config = settings()
    return Snapshot(config.snapshot_dir, Mirror(config.snapshot_bucket) if config.snapshot_bucket else None)


@contextmanager
def replaced(root: str | os.PathLike[str], mirror: Mirror | None = None) -> Iterator[Snapshot]:
    global _override
    previous = _override
    _override = Snapshot(root, mirror)
    try:
        yield _override
    finally:
        _override = previous


def member_row(image: Mapping[str, Any], seq: str) -> dict[str, Any]:
    """A member item (DynamoDB's typed JSON, as a stream record carries it) as a snapshot row,
    without its personal data."""
    from chalicelib.store.members import MemberModel

    return _member_row(MemberModel.from_raw_data(dict(image)), seq)


def _member_row(item: Any, seq: str) -> dict[str, Any]:
    counts: dict[str, int] = {str(k): int(v) for k, v in (item.category_counts or {}).items()}
    favourite = max(sorted(counts), key=lambda c: counts[c]) if counts else None
    return {
        "sub": item.sub,
        "seq": seq,
        "deleted": False,
        "customer_id": item.customer_id,
        "tier": item.tier,
        "consent": bool(item.marketing_consent),
        "birthday_month": int(item.birthday[5:7]) if item.birthday else None,
        "home_store_id": item.home_store_id,
        "joined_at": _naive_utc(item.joined_at),
        "visits": int(item.visits_total or 0),
        "spend_minor": int(item.spend_total_minor or 0),
        "last_visit_at": _naive_utc(item.last_visit_at),
        "points_balance": int(item.points_balance or 0),
        "categories": sorted(c for c, n in counts.items() if n > 0),
        "favourite_category": favourite,
        "timezone": item.timezone,
        "referred_by": item.referred_by,
        "visit_months": sorted(month for month, (_, visits) in (item.monthly or {}).items() if int(visits) > 0),
    }


def removed_row(sub: str, seq: str) -> dict[str, Any]:
    return {"sub": sub, "seq": seq, "deleted": True}


def time_seq(at: datetime) -> str:
    """A sequence from a moment (microseconds), for rows no stream numbers."""
    return seq_of(int(at.timestamp() * 1_000_000))


def purchase_row(image: Mapping[str, Any]) -> dict[str, Any]:
    """A purchase item (DynamoDB's typed JSON, as the purchases stream carries it) as a row of the
    purchase history: who (their random ``customer_id``), when, and what it came to after refunds."""
    from chalicelib.store import ledger

    return _purchase_row(*ledger.purchase_from_image(image))


def _purchase_row(purchase: Any, revision: int) -> dict[str, Any]:
    changed = purchase.refunds[-1].at if purchase.refunds else purchase.at
    net = purchase.amount_due - purchase.refunded_money
    return {
        "purchase_id": purchase.purchase_id,
        # when it last changed, then its revision: a refund's row replaces the purchase's even
        # within one microsecond
        "seq": f"{time_seq(changed)}{revision:06d}",
        "deleted": False,
        "customer_id": purchase.customer_id,
        "bought_at": _naive_utc(purchase.at),
        "amount_minor": max(0, net),
        # everything paid was given back: no visit to learn from
        "refunded": purchase.status == "refunded",
    }


def customer_left_row(customer_id: str, at: datetime) -> dict[str, Any]:
    """Hides (and at compaction removes) every purchase of a member who left."""
    return {
        "purchase_id": f"left#{customer_id}",
        "seq": f"{time_seq(at)}999999",
        "deleted": True,
        "customer_id": customer_id,
    }


def exported_members() -> Iterator[dict[str, Any]]:
    """Every member as a snapshot row (sequence 0: any stream record is newer). A scan of the
    members table, once, to build the first base of a program that had members before its
    snapshot (``rebuild``); never on a request or in a scheduled job."""
    from chalicelib.store.members import MemberModel

    for item in MemberModel.scan():
        yield _member_row(item, seq_of(0))


def exported_purchases() -> Iterator[dict[str, Any]]:
    """Every purchase as a history row: a scan of the purchases table, once, to build the first base
    of a program that sold before its purchase history was kept (``rebuild``); never on a request
    or in a scheduled job."""
    from chalicelib.store.ledger import PurchaseModel, recorded_purchase

    for item in PurchaseModel.scan():
        yield _purchase_row(recorded_purchase(item.body), int(item.revision or 0))


def rebuild_if_missing(snapshot: Snapshot, dataset: Dataset = MEMBERS) -> int | None:
    """Build a dataset's first base from its table (members, purchases) when the snapshot has none;
    returns how many rows it holds then (None: it had a base)."""
    exports = {MEMBERS.name: exported_members, PURCHASES.name: exported_purchases}
    base, _ = snapshot.files(dataset)
    if base is not None:
        return None
    snapshot.replace_all(dataset, exports[dataset.name]())
    with snapshot.connect() as con:
        row = con.execute(f"SELECT count(*) FROM {dataset.name}").fetchone()
    return int(row[0]) if row else 0


def _naive_utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment is not None else None


class Mirror:
    """The snapshot's folder as objects under ``snapshot/`` in an S3 bucket: what the functions of
    a stage share (each has its own ``/tmp``)."""

    PREFIX = "snapshot/"

    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3", region_name=settings().aws_region)
        return self._client

    def key(self, root: Path, path: Path) -> str:
        return self.PREFIX + path.relative_to(root).as_posix()

    def push(self, root: Path, path: Path) -> None:
        # One PutObject (the files are KB to tens of MB): no transfer threads, no multipart.
        with path.open("rb") as body:
            self.client.put_object(Bucket=self.bucket, Key=self.key(root, path), Body=body)

    def remove(self, root: Path, path: Path) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(root, path))

    def pull(self, root: Path, folder: Path) -> None:
        """``folder`` as the bucket holds it: what is new or newer fetched, what is gone removed."""
        prefix = self.key(root, folder) + "/"
        listed: dict[Path, float] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                listed[folder / item["Key"][len(prefix) :]] = item["LastModified"].timestamp()
        wanted = [p for p, at in listed.items() if not p.exists() or p.stat().st_mtime < at]
        if wanted:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(PULL_THREADS, len(wanted))) as pool:
                list(pool.map(lambda p: self._fetch(root, p, listed[p]), wanted))
        # Gone from the bucket: removed by another function (a compaction). A file this process
        # wrote a moment ago and is still putting there is not gone: only older ones are dropped.
        settled = time.time() - UNPUBLISHED_GRACE_S
        for path in [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]:
            if path not in listed and path.stat().st_mtime < settled:
                path.unlink(missing_ok=True)

    def _fetch(self, root: Path, path: Path, modified: float) -> None:
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(root, path))
        except ClientError as exc:  # removed since the listing (a compaction): the next pull agrees
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey"):
                raise
            return
        with tmp.open("wb") as out:
            for chunk in answer["Body"].iter_chunks(1 << 20):
                out.write(chunk)
        os.utime(tmp, (modified, modified))
        os.replace(tmp, path)


class Snapshot:
    """The snapshot's files under ``root`` (one folder per dataset), mirrored in ``mirror``'s bucket."""

    def __init__(self, root: str | os.PathLike[str], mirror: Mirror | None = None) -> None:
        self.root = Path(root)
        self.mirror = mirror

    def folder(self, dataset: Dataset | str) -> Path:
        path = self.root / (dataset if isinstance(dataset, str) else dataset.name)
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- the bucket ----------------------------------------------------------------------------

    def pull(self, *folders: Dataset | str) -> None:
        """Bring these folders up to date with the bucket (nothing to do without one)."""
        if self.mirror is not None:
            for folder in folders:
                self.mirror.pull(self.root, self.folder(folder))

    def publish(self, path: Path) -> Path:
        """A file just written here, put in the bucket too."""
        if self.mirror is not None:
            self.mirror.push(self.root, path)
        return path

    def remove(self, path: Path) -> None:
        """A file of the snapshot removed here and from the bucket (nothing to do if not here: the
        folder was brought up to date before, so it is not in the bucket either)."""
        if not path.exists():
            return
        path.unlink(missing_ok=True)
        if self.mirror is not None:
            self.mirror.remove(self.root, path)

    # -- writing -------------------------------------------------------------------------------

    def append(self, dataset: Dataset, rows: Sequence[Mapping[str, Any]]) -> Path | None:
        """One delta file with ``rows`` (None when there are none)."""
        if not rows:
            return None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = self.folder(dataset) / f"delta-{stamp}-{secrets.token_hex(4)}.parquet"
        with _connection() as con:
            con.execute(f"CREATE TEMP TABLE rows ({_schema(dataset)})")
            # One statement for the batch: executemany costs a statement per row.
            one = f"({', '.join('?' for _ in dataset.columns)})"
            con.execute(
                f"INSERT INTO rows VALUES {', '.join(one for _ in rows)}",
                [row.get(name) for row in rows for name in dataset.names],
            )
            _copy_to(con, "SELECT * FROM rows", target)
        return self.publish(target)

    def replace_all(self, dataset: Dataset, rows: Iterable[Mapping[str, Any]], *, batch: int = 50_000) -> Path:
        """A base with exactly ``rows`` (the first build from a table's export), folding every
        delta there is now; rows come in batches so a million members never sit in one list."""
        with _compacting, _connection() as con:
            self.pull(dataset)
            folded = self._deltas(dataset)
            con.execute(f"CREATE TEMP TABLE rows ({_schema(dataset)})")
            insert = f"INSERT INTO rows VALUES ({', '.join('?' for _ in dataset.columns)})"
            chunk: list[list[Any]] = []
            for row in rows:
                chunk.append([row.get(name) for name in dataset.names])
                if len(chunk) >= batch:
                    con.executemany(insert, chunk)
                    chunk = []
            if chunk:
                con.executemany(insert, chunk)
            if folded:
                # Rows the stream wrote meanwhile are newer than the export's where they are later.
                files = _sql_list([str(p) for p in folded])
                con.execute(f"INSERT INTO rows SELECT {', '.join(dataset.names)} FROM read_parquet({files})")
            latest = f"SELECT * FROM ({_latest_sql(dataset, 'rows')}) ORDER BY {dataset.key}"
            return self._write_base(con, dataset, latest, folded)

    def compact(self, dataset: Dataset) -> int:
        """Fold the deltas into a new base; returns how many were folded (0: nothing to do)."""
        with _compacting, _connection() as con:
            self.pull(dataset)
            base, folded_before = self._base(dataset)
            deltas = [p for p in self._deltas(dataset) if p.name not in folded_before]
            if not deltas:
                # Nothing new since the newest base: what it folded is a compaction old now, and
                # goes (a leaving member's rows with it) as it would under a new base.
                folder = self.folder(dataset)
                for name in folded_before:
                    self.remove(folder / name)
                return 0
            query = f"SELECT * FROM ({_current_sql(dataset, base, deltas)}) ORDER BY {dataset.key}"
            self._write_base(con, dataset, query, deltas)
            return len(deltas)

    def _write_base(self, con: duckdb.DuckDBPyConnection, dataset: Dataset, query: str, folded: list[Path]) -> Path:
        folder = self.folder(dataset)
        bases = self._bases(dataset)
        number = (int(bases[-1].stem.split("-")[1]) + 1) if bases else 1
        target = folder / f"base-{number:08d}.parquet"
        _copy_to(con, query, target)
        self.publish(target)
        manifest = folder / f"base-{number:08d}.json"
        _write_atomically(manifest, json.dumps({"folded": sorted(p.name for p in folded)}).encode())
        self.publish(manifest)  # last: the base counts from here
        self._collect(dataset, keep=number)
        return target

    def _collect(self, dataset: Dataset, keep: int) -> None:
        """Remove what the base before ``keep`` already folded, and bases older than it."""
        folder = self.folder(dataset)
        previous = folder / f"base-{keep - 1:08d}.json"
        if previous.exists():
            for name in json.loads(previous.read_text())["folded"]:
                self.remove(folder / name)
        for base in self._bases(dataset):
            number = int(base.stem.split("-")[1])
            if number < keep - 1:
                self.remove(base.with_suffix(".json"))  # first: a base without it does not count
                self.remove(base)

    # -- reading -------------------------------------------------------------------------------

    def _bases(self, dataset: Dataset) -> list[Path]:
        """Complete bases (their manifest written), oldest first."""
        folder = self.folder(dataset)
        return sorted(p for p in folder.glob("base-*.parquet") if p.with_suffix(".json").exists())

    def _base(self, dataset: Dataset) -> tuple[Path | None, frozenset[str]]:
        bases = self._bases(dataset)
        if not bases:
            return None, frozenset()
        base = bases[-1]
        return base, frozenset(json.loads(base.with_suffix(".json").read_text())["folded"])

    def _deltas(self, dataset: Dataset) -> list[Path]:
        return sorted(self.folder(dataset).glob("delta-*.parquet"))

    def files(self, dataset: Dataset, *, pulled: bool = False) -> tuple[Path | None, list[Path]]:
        """The newest base and the deltas it did not fold (``pulled``: the folder is up to date)."""
        if not pulled:
            self.pull(dataset)
        base, folded = self._base(dataset)
        return base, [p for p in self._deltas(dataset) if p.name not in folded]

    def last_written(self) -> datetime | None:
        """When a file of the members' dataset was last written (None: never)."""
        base, deltas = self.files(MEMBERS)
        times = [p.stat().st_mtime for p in ([base] if base else []) + deltas]
        return datetime.fromtimestamp(max(times), UTC) if times else None

    def bytes_on_disk(self) -> int:
        total = 0
        for dataset in DATASETS:
            base, deltas = self.files(dataset)
            total += sum(p.stat().st_size for p in ([base] if base else []) + deltas)
        return total

    def replace_with_query(self, dataset: Dataset, query: str) -> Path:
        """A base with the rows of ``query`` (its columns the dataset's), folding every delta there
        is now without looking at them: synthetic data for the benchmarks, a restore."""
        with _compacting, _connection() as con:
            self.pull(dataset)
            return self._write_base(con, dataset, query, self._deltas(dataset))

    @contextmanager
    def connect(self, profile_to: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection with one view per dataset: its current rows (members who left are
        not in it). ``profile_to``: each query's profile (bytes read, time) as JSON there."""
        self.pull(*DATASETS)
        with _connection() as con:
            if profile_to is not None:
                con.execute("PRAGMA enable_profiling='json'")
                con.execute(f"PRAGMA profiling_output='{quoted(profile_to)}'")
            for dataset in DATASETS:
                base, deltas = self.files(dataset, pulled=True)
                con.execute(f"CREATE TEMP VIEW {dataset.name} AS {_current_sql(dataset, base, deltas)}")
            yield con


def _current_sql(dataset: Dataset, base: Path | None, deltas: list[Path]) -> str:
    """The latest row per key of ``base`` and ``deltas``, without the deleted ones. Only the keys
    the deltas touch are ranked: the base (one row per key, none deleted) is read as it is."""
    names = ", ".join(dataset.names)
    if base is None and not deltas:
        return (
            f"SELECT * FROM (SELECT {', '.join(f'NULL::{t} AS {n}' for n, t in dataset.columns.items())}) WHERE false"
        )
    base_sql = f"SELECT {names} FROM read_parquet({_sql_list([str(base)])})" if base else None
    if not deltas:
        return str(base_sql)
    delta_sql = f"SELECT {names} FROM read_parquet({_sql_list([str(p) for p in deltas])})"
    if dataset.erase_by is not None:
        every = f"{base_sql} UNION ALL {delta_sql}" if base_sql else delta_sql
        return _latest_sql(dataset, f"({every})")
    if base_sql is None:
        return _latest_sql(dataset, f"({delta_sql})")
    key = dataset.key
    return (
        f"WITH d AS ({delta_sql}), b AS ({base_sql}), "
        f"changed AS (SELECT * FROM d UNION ALL SELECT * FROM b SEMI JOIN d USING ({key})), "
        f"latest AS (SELECT * FROM changed QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY seq DESC) = 1) "
        f"SELECT * FROM b ANTI JOIN d USING ({key}) UNION ALL SELECT * FROM latest WHERE NOT deleted"
    )


def _latest_sql(dataset: Dataset, rows: str) -> str:
    """The current rows of ``rows`` (a table or a parenthesised query): the latest per key, none
    deleted, and for a dataset erased by a column none written before a deletion of its value."""
    latest = f"QUALIFY row_number() OVER (PARTITION BY {dataset.key} ORDER BY seq DESC) = 1"
    if dataset.erase_by is None:
        return f"SELECT * FROM {rows} AS r {latest} AND NOT deleted"
    by = dataset.erase_by
    return (
        f"WITH r AS (SELECT * FROM {rows}), "
        f"gone AS (SELECT {by}, max(seq) AS erased FROM r WHERE deleted GROUP BY {by}) "
        f"SELECT r.* FROM r LEFT JOIN gone USING ({by}) "
        f"WHERE NOT r.deleted AND (gone.erased IS NULL OR r.seq > gone.erased) {latest}"
    )


def _schema(dataset: Dataset) -> str:
    return ", ".join(f"{name} {kind}" for name, kind in dataset.columns.items())


def _sql_list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _copy_to(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    """``query``'s rows as a Parquet file at ``target``, which appears whole or not at all."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    con.execute(f"COPY ({query}) TO '{quoted(tmp)}' (FORMAT parquet, COMPRESSION zstd)")
    os.replace(tmp, target)


def _write_atomically(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, target)


#: Hold-out groups are looked at this long after their run (longer than any attribution window).
HOLDOUT_HORIZON_S = 90 * 24 * 3600


def write_holdout(snapshot: Snapshot, campaign_id: str, run: str, at: datetime, subs: Sequence[str]) -> Path:
    """A campaign run's hold-out group, as one Parquet file beside the snapshot (a whole group in
    one write, however large): the baseline attribution compares the treated against."""
    folder = snapshot.folder(f"campaigns/{campaign_id}")
    target = folder / f"{run}.parquet"
    with _connection() as con:
        con.execute(
            "CREATE TEMP TABLE held AS SELECT unnest(?::VARCHAR[]) AS sub, ?::TIMESTAMP AS held_at",
            [list(subs), at.astimezone(UTC).replace(tzinfo=None)],
        )
        _copy_to(con, "SELECT * FROM held ORDER BY sub", target)
    return snapshot.publish(target)


def held_out(snapshot: Snapshot, subs: Sequence[str]) -> list[tuple[str, str, datetime, str]]:
    """``(campaign_id, run, when, sub)`` for each of ``subs`` held out of a recent campaign run."""
    if not subs:
        return []
    snapshot.pull("campaigns")
    folder = snapshot.root / "campaigns"
    if not folder.exists():
        return []
    horizon = datetime.now(UTC).timestamp() - HOLDOUT_HORIZON_S
    files = [p for p in folder.glob("*/*.parquet") if p.stat().st_mtime >= horizon]
    if not files:
        return []
    with _connection() as con:
        rows = con.execute(
            f"SELECT filename, held_at, sub FROM read_parquet({_sql_list([str(p) for p in files])}, filename = true) "
            "WHERE sub IN (SELECT unnest(?::VARCHAR[]))",
            [list(subs)],
        ).fetchall()
    return [(Path(f).parent.name, Path(f).stem, at.replace(tzinfo=UTC), str(sub)) for f, at, sub in rows]


def forget_old_holdouts(snapshot: Snapshot) -> int:
    """Remove hold-out files past the horizon (nothing counts for them any more); returns how many."""
    snapshot.pull("campaigns")
    folder = snapshot.root / "campaigns"
    if not folder.exists():
        return 0
    horizon = datetime.now(UTC).timestamp() - HOLDOUT_HORIZON_S
    old = [p for p in folder.glob("*/*.parquet") if p.stat().st_mtime < horizon]
    for path in old:
        snapshot.remove(path)
    return len(old)
