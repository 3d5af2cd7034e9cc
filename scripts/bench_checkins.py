"""Check-ins: DynamoDB requests per check-in, and check-ins per second over HTTP.

    python -m scripts.bench_checkins
    python -m scripts.bench_checkins --members 200 --threads 8

1. In-process on DynamoDB Local (a warm process): the requests of a geofence check-in that
   issues an offer, one that is the same visit, a beacon check-in, and an Eddystone-EID one;
   then the read cost of a check-in where an offer fits for a member with 0 and with 1,000 past
   wallet entries (seeded directly through the store, as an earlier version left them).
2. Over HTTP on ``python -m scripts.serve``: N members each checking in at a store (an offer
   issued to each), from several threads; check-ins per second and latency.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from scripts import bench_foundation
from scripts.bench_foundation import ApiCall, DynamoCounter, Report, Server, ops, percentile, progress

MITTE = {"type": "geo", "lon": 13.4016, "lat": 52.5303, "accuracy_m": 15}
DOOR = {"type": "beacon", "uuid": "F7826DA6-4FA2-4E98-8024-BC5B71E0893E", "major": 100, "minor": 1}
#: An offer with no limits (earned once a day): it fits every member's check-in at any store.
WELCOME = {"title": "Welcome back", "trigger": {"type": "checkin"}, "reward": {"type": "bonus_points", "points": 5}}
#: Past wallet entries of the members whose read cost is measured.
HISTORIES = (0, 1000)
OFFER = {
    "title": "A cookie with your coffee",
    "trigger": {"type": "checkin", "store_id": "s_kiez_mitte"},
    "reward": {"type": "bonus_points", "points": 20},
    "limits": {"per_customer": 1},
}


def measure_requests(report: Report, samples: int, endpoint: str) -> None:
    import structlog
    from chalice.test import Client

    from app import app
    from scripts import seed
    from scripts.token import mint

    devnull = open(os.devnull, "w")  # noqa: SIM115 - closed below
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=devnull))
    try:
        for key, value in seed.seed().items():
            progress(f"  seed {key}: {value}")
        marketer = {"Authorization": f"Bearer {mint('demo-marketer', ['marketer'], merchant_id='m_kiez')}"}
        admin = {"Authorization": f"Bearer {mint('demo-admin', ['admin'])}"}
        counter = DynamoCounter()
        with counter.installed(), Client(app) as client:
            http = client.http
            http.post("/v1/offers", headers=marketer, body=json.dumps(OFFER))
            eid = {
                "store_id": "s_nordlicht_alex",
                "zone": "door",
                "eddystone_eid": {
                    "identity_key": "553C66DA1485E9F78849DE00F2CB178E",
                    "rotation_exponent": 10,
                    "time_counter": 0,
                },
            }
            http.post("/v1/beacons", headers=admin, body=json.dumps(eid))
            from chalicelib.geo.eid import compute_eid

            heard = compute_eid(bytes.fromhex("553C66DA1485E9F78849DE00F2CB178E"), 10, 0).hex()
            kinds = {"geofence, an offer issued": [], "the same visit again": [], "iBeacon": [], "Eddystone-EID": []}
            for n in range(samples + 1):
                sub = f"bench-checkin-{n}"
                headers = {"Authorization": f"Bearer {mint(sub, ['customer'])}"}
                body = {"name": "B", "phone": f"0151 6{n:07d}", "birthday": "1990-01-01", "marketing_consent": True}
                http.post("/v1/me", headers=headers, body=json.dumps(body))
                for label, sighting in (
                    ("geofence, an offer issued", MITTE),
                    ("the same visit again", DOOR),
                ):
                    with counter.measure() as calls:
                        response = http.post("/v1/me/checkins", headers=headers, body=json.dumps(sighting))
                    assert response.status_code == 200, response.body
                    if n:
                        kinds[label].append(list(calls))
                other = f"bench-checkin-b{n}"
                other_headers = {"Authorization": f"Bearer {mint(other, ['customer'])}"}
                body = {"name": "B", "phone": f"0151 7{n:07d}", "birthday": "1990-01-01", "marketing_consent": True}
                http.post("/v1/me", headers=other_headers, body=json.dumps(body))
                for label, sighting in (("iBeacon", DOOR), ("Eddystone-EID", {"type": "beacon", "eid": heard})):
                    checkins_headers = (
                        other_headers
                        if label == "iBeacon"
                        else {"Authorization": f"Bearer {mint(other + 'e', ['customer'])}"}
                    )
                    if label == "Eddystone-EID":
                        body = {
                            "name": "B",
                            "phone": f"0151 8{n:07d}",
                            "birthday": "1990-01-01",
                            "marketing_consent": True,
                        }
                        http.post("/v1/me", headers=checkins_headers, body=json.dumps(body))
                    with counter.measure() as calls:
                        response = http.post("/v1/me/checkins", headers=checkins_headers, body=json.dumps(sighting))
                    assert response.status_code == 200, response.body
                    if n:
                        kinds[label].append(list(calls))
            for label, runs in kinds.items():
                shapes = Counter(ops(r) for r in runs)
                shape, _ = shapes.most_common(1)[0]
                report.add("DynamoDB requests per check-in (warm)", label, f"{len(runs[0])} req: {shape}")
            measure_history(report, samples, http, counter, marketer)
    finally:
        devnull.close()


def measure_history(report: Report, samples: int, http: Any, counter: DynamoCounter, marketer: dict[str, str]) -> None:
    """The read cost of a check-in where an offer fits (so its limits count the member's history),
    for members with 0 and 1,000 past wallet entries of that offer."""
    from datetime import UTC, datetime, timedelta

    from chalicelib.store import members as member_store
    from chalicelib.store import wallet as wallet_store
    from scripts.token import mint

    offer_id = http.post("/v1/offers", headers=marketer, body=json.dumps(WELCOME)).json_body["offer_id"]
    section = "Read cost of a check-in where an offer fits, by past wallet entries (warm)"
    for entries in HISTORIES:
        runs: list[list[ApiCall]] = []
        for n in range(samples + 1):
            sub = f"bench-history-{entries}-{n}"
            headers = {"Authorization": f"Bearer {mint(sub, ['customer'])}"}
            body = {
                "name": "H",
                "phone": f"0151 9{entries:04d}{n:03d}",
                "birthday": "1990-01-01",
                "marketing_consent": True,
            }
            assert http.post("/v1/me", headers=headers, body=json.dumps(body)).status_code == 201
            member = member_store.get_member(sub)
            assert member is not None
            _as_an_earlier_version_left_it(sub)
            now = datetime.now(UTC)
            with wallet_store.WalletModel.batch_write() as batch:
                for i in range(entries):
                    issued = now - timedelta(days=entries + 1 - i)
                    batch.save(
                        wallet_store.WalletModel(
                            member.customer_id,
                            f"{offer_id}#{i + 1}",
                            offer_id=offer_id,
                            title=WELCOME["title"],
                            reward=WELCOME["reward"],
                            store_id="s_kiez_mitte",
                            merchant_id="m_kiez",
                            issued_at=issued,
                            expires_at=issued + timedelta(days=7),
                            status="redeemed" if i % 3 == 0 else "issued",
                        )
                    )
            # The member's first check-in since (nothing located): where a member from before
            # the change gets their activity item built, once.
            unknown = {**DOOR, "minor": 999}
            assert http.post("/v1/me/checkins", headers=headers, body=json.dumps(unknown)).status_code == 200
            with counter.measure() as calls:
                response = http.post("/v1/me/checkins", headers=headers, body=json.dumps(MITTE))
            assert response.status_code == 200, response.body
            issued_ids = [o["wallet_id"] for o in json.loads(response.body)["offers"] if o["offer_id"] == offer_id]
            assert issued_ids == [f"{offer_id}#{entries + 1}"], issued_ids
            if n:
                runs.append(list(calls))
        reads = [[c for c in run if c.operation != "TransactWriteItems"] for run in runs]
        items = statistics.mean(sum(c.read for c in r) for r in reads)
        units = [sum(c.capacity or 0.0 for c in r) for r in reads]
        report.add(
            section,
            f"{entries} past entries",
            f"{len(runs[0])} req: {ops(runs[0])} | reads: {len(reads[0])} req, {items:g} items,"
            f" {statistics.mean(units):g} RCU (DynamoDB Local's count)",
        )


def _as_an_earlier_version_left_it(sub: str) -> None:
    """Without the member's activity item (where the code has one): a member from before it."""
    from chalicelib.store import wallet as wallet_store

    model = getattr(wallet_store, "ActivityModel", None)
    if model is not None:
        model(sub).delete()


def measure_http(report: Report, members: int, threads: int, base_env: dict[str, str]) -> None:
    import requests

    from scripts.token import mint

    with tempfile.TemporaryDirectory(prefix="bench-checkins-") as tmp:
        server = Server(Path(tmp), base_env)
        server.start()
        try:
            server.wait_healthy()
            url = server.base_url
            marketer = {"Authorization": f"Bearer {mint('demo-marketer', ['marketer'], merchant_id='m_kiez')}"}
            requests.post(f"{url}/v1/offers", json=OFFER, headers=marketer, timeout=10)
            time.sleep(0.5)
            subs = [f"bench-http-{i}" for i in range(members)]

            def join(i: int) -> None:
                body = {"name": "B", "phone": f"0151 5{i:07d}", "birthday": "1990-01-01", "marketing_consent": True}
                requests.post(
                    f"{url}/v1/me",
                    json=body,
                    headers={"Authorization": f"Bearer {mint(subs[i], ['customer'])}"},
                    timeout=30,
                )

            progress(f"  joining {members} members ...")
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(join, range(members)))
            # The offer cache of the server is 30 s old at most: wait it out so every check-in sees the offer.
            time.sleep(31)
            latencies: list[float] = []
            statuses: Counter[int] = Counter()
            offered = 0

            def check_in(i: int) -> None:
                nonlocal offered
                started = time.perf_counter()
                response = requests.post(
                    f"{url}/v1/me/checkins",
                    json=MITTE,
                    timeout=30,
                    headers={"Authorization": f"Bearer {mint(subs[i], ['customer'])}"},
                )
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] += 1
                if response.status_code == 200 and response.json()["offers"]:
                    offered += 1

            progress(f"  {members} check-ins from {threads} threads ...")
            started = time.perf_counter()
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(check_in, range(members)))
            elapsed = time.perf_counter() - started
            ordered = sorted(latencies)
            report.add(
                "HTTP check-ins (a geofence, an offer each)",
                f"{members} members, {threads} threads",
                f"{members / elapsed:.1f} check-ins/s; p50 {percentile(ordered, 50) * 1000:.0f} ms "
                f"p95 {percentile(ordered, 95) * 1000:.0f} ms; statuses {dict(statuses)}; offers issued {offered}; "
                f"median {statistics.median(ordered) * 1000:.0f} ms",
            )
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=bench_foundation.positive, default=3)
    parser.add_argument("--members", type=bench_foundation.positive, default=300)
    parser.add_argument("--threads", type=bench_foundation.positive, default=8)
    parser.add_argument("--skip-counts", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    base_env = dict(os.environ)
    report = Report(title="Check-in figures")
    bench_foundation.run_phases(
        report,
        [
            (
                "requests",
                args.skip_counts,
                lambda: bench_foundation.measure_requests(report, args.samples, measure_requests),
            ),
            ("http", args.skip_http, lambda: measure_http(report, args.members, args.threads, base_env)),
        ],
    )


if __name__ == "__main__":
    main()
