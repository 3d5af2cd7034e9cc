"""On AWS each function's snapshot folder is its own /tmp, and the stage's bucket is what they share
(``snapshot.Mirror``): what one function writes the others read, a compaction's removals reach
every copy, a segment's membership and a campaign's hold-out group carry over."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import boto3
import pytest
from moto import mock_aws

from chalicelib.domain.segments import Definition
from chalicelib.store import audience, snapshot

BUCKET = "loyalty-test-snapshot"


@pytest.fixture
def bucket():
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-central-1")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
        yield s3


@pytest.fixture
def two(bucket, tmp_path):
    """Two functions' snapshots: their own folders, one bucket."""
    return tuple(snapshot.Snapshot(tmp_path / name, snapshot.Mirror(BUCKET, bucket)) for name in ("a", "b"))


def row(sub, seq, tier="Bronze"):
    return {
        "sub": sub,
        "seq": snapshot.seq_of(seq),
        "deleted": False,
        "customer_id": f"c-{sub}",
        "tier": tier,
        "consent": True,
        "visits": 1,
        "spend_minor": 100,
    }


def members(one):
    with one.connect() as con:
        return dict(con.execute("SELECT sub, tier FROM members ORDER BY sub").fetchall())


def keys(s3):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_what_one_function_writes_another_reads(two):
    a, b = two
    a.append(snapshot.MEMBERS, [row("ann", 1), row("bob", 2)])
    a.append(snapshot.MEMBERS, [row("ann", 3, tier="Gold")])
    assert members(b) == {"ann": "Gold", "bob": "Bronze"}


def test_a_compaction_in_one_function_reaches_the_others(two, bucket, monkeypatch):
    monkeypatch.setattr(snapshot, "UNPUBLISHED_GRACE_S", 0)
    a, b = two
    a.append(snapshot.MEMBERS, [row("ann", 1)])
    assert members(b) == {"ann": "Bronze"}
    assert b.compact(snapshot.MEMBERS) == 1
    a.append(snapshot.MEMBERS, [{"sub": "ann", "seq": snapshot.seq_of(5), "deleted": True}])
    assert b.compact(snapshot.MEMBERS) == 1  # the second removes what the first folded
    assert members(a) == {} and members(b) == {}
    deltas = [k for k in keys(bucket) if "/delta-" in k]
    assert len(deltas) == 1  # only the deletion's, folded by the newest base
    local = sorted(p.name for p in (a.root / "members").glob("*.parquet"))
    assert local == sorted(k.rsplit("/", 1)[1] for k in keys(bucket) if k.endswith(".parquet"))


def test_a_base_counts_only_once_its_manifest_is_in_the_bucket(two, bucket):
    a, b = two
    a.append(snapshot.MEMBERS, [row("ann", 1)])
    a.compact(snapshot.MEMBERS)
    manifest = next(k for k in keys(bucket) if k.endswith(".json"))
    bucket.delete_object(Bucket=BUCKET, Key=manifest)  # as if read between the base and its manifest
    base, deltas = b.files(snapshot.MEMBERS)
    assert base is None and len(deltas) == 1
    assert members(b) == {"ann": "Bronze"}


def test_a_segment_membership_carries_over_between_functions(two):
    a, b = two
    a.append(snapshot.MEMBERS, [row("ann", 1, tier="Gold"), row("bob", 2)])
    gold = Definition(tiers=("Gold",))
    first = audience.refresh_membership(a, "seg_gold", gold, date(2026, 12, 8), ZoneInfo("Europe/Berlin"))
    assert first.joined == ["ann"]
    first.commit()
    again = audience.refresh_membership(b, "seg_gold", gold, date(2026, 12, 8), ZoneInfo("Europe/Berlin"))
    assert (again.joined, again.left, again.total) == ([], [], 1)


def test_a_hold_out_group_written_by_one_is_found_by_another(two):
    a, b = two
    at = datetime(2026, 12, 8, 9, tzinfo=UTC)
    snapshot.write_holdout(a, "cmp_1", "run_1", at, ["ann", "bob"])
    found = snapshot.held_out(b, ["bob", "cid"])
    assert [(c, r, s) for c, r, _, s in found] == [("cmp_1", "run_1", "bob")]
