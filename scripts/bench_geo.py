"""Geofence lookup and Eddystone-EID resolution: time per operation, the index against a loop.

    python -m scripts.bench_geo                 (1k, 10k and 100k fences)
    python -m scripts.bench_geo --sizes 1000 10000 --points 2000

Fences are random circles (30-300 m) and squares scattered over a country-sized area around
Berlin; query points are half inside some fence, half anywhere. Pure CPU, no network.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from chalicelib.domain.offers import Customer, Limits, Moment, Offer, Targeting, Trigger, choose_offers
from chalicelib.geo.distance import METRES_PER_DEGREE_LAT
from chalicelib.geo.eid import EidBeacon, compute_eid, resolve
from chalicelib.geo.fences import Fence, GeofenceIndex, fence_from_geojson

CENTER = (13.40, 52.52)
SPREAD_DEG = 3.0


def fences(n: int, rng: random.Random) -> list[Fence]:
    out = []
    for i in range(n):
        lon = CENTER[0] + rng.uniform(-SPREAD_DEG, SPREAD_DEG)
        lat = CENTER[1] + rng.uniform(-SPREAD_DEG / 2, SPREAD_DEG / 2)
        if i % 5:
            out.append(fence_from_geojson(f"s{i}", {"center": [lon, lat], "radius_m": rng.randint(30, 300)}))
        else:
            d = rng.uniform(50, 200) / METRES_PER_DEGREE_LAT
            ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
            out.append(fence_from_geojson(f"s{i}", {"type": "Polygon", "coordinates": [ring]}))
    return out


def points(fence_list: list[Fence], n: int, rng: random.Random) -> list[tuple[float, float]]:
    pts = []
    for i in range(n):
        if i % 2:
            f = rng.choice(fence_list)
            pts.append((f.center_lon, f.center_lat))
        else:
            pts.append((CENTER[0] + rng.uniform(-SPREAD_DEG, SPREAD_DEG), CENTER[1] + rng.uniform(-1.5, 1.5)))
    return pts


def per_call_us(fn, args_list) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for args in args_list:
        fn(*args)
    return (time.perf_counter() - started) / len(args_list) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--points", type=int, default=5_000, help="query points per size (5000)")
    parser.add_argument("--naive-points", type=int, default=300, help="points for the loop over every fence (300)")
    parser.add_argument("--beacons", type=int, default=50, help="EID beacons at a store for resolution (50)")
    args = parser.parse_args()
    rng = random.Random(7)
    rows = []
    for size in args.sizes:
        print(f"[geo] {size} fences: building ...", flush=True)
        fence_list = fences(size, rng)
        started = time.perf_counter()
        index = GeofenceIndex(fence_list)
        build_ms = (time.perf_counter() - started) * 1000
        pts = points(fence_list, args.points, rng)
        for p in pts[: args.naive_points]:
            assert index.locate(*p) == index.locate_naive(*p), p
        indexed = per_call_us(index.locate, pts)
        naive = per_call_us(index.locate_naive, pts[: args.naive_points])
        hits = sum(index.locate(*p) is not None for p in pts)
        rows.append((size, build_ms, indexed, naive, hits / len(pts)))
    print("[eid] resolving ...", flush=True)
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    beacons = [
        EidBeacon(f"b{i}", rng.randbytes(16), 10, rng.randrange(2**20), now - timedelta(days=rng.randint(1, 300)))
        for i in range(args.beacons)
    ]
    heard = [(compute_eid(b.identity_key, b.rotation_exponent, b.counter_at(now)), b) for b in beacons]
    eid_one = per_call_us(compute_eid, [(b.identity_key, 10, b.counter_at(now)) for b in beacons] * 20)
    resolve_times = []
    for eid, b in heard:
        started = time.perf_counter()
        assert resolve(eid, beacons, now) == b
        resolve_times.append((time.perf_counter() - started) * 1e6)

    print("[offers] choosing among 1,000 live offers ...", flush=True)
    categories = (("coffee",), ("cake",), ())
    live = [
        Offer(
            f"o{i:04d}",
            "treat",
            Trigger("checkin", store_id=f"s{i % 40}"),
            {"type": "bonus_points", "points": 50},
            targeting=Targeting(categories=categories[i % 3], tiers=(("Gold",), ())[i % 2]),
            limits=Limits(per_customer=1, cooldown_hours=24),
            priority=i % 7,
        )
        for i in range(1_000)
    ]
    customer = Customer("Silver", 20, now - timedelta(days=3), {"coffee": 12, "cake": 2})
    moments = [Moment("beacon", now, store_id=f"s{i % 40}") for i in range(200)]
    decision_us = per_call_us(lambda m: choose_offers(live, m, customer), [(m,) for m in moments])

    print("\n" + "=" * 78 + "\nGeo figures\n" + "=" * 78)
    print(f"{'fences':>8} {'build':>10} {'index/point':>14} {'loop/point':>14} {'speed-up':>9} {'hit rate':>9}")
    for size, build_ms, indexed, naive, hit in rows:
        print(f"{size:>8} {build_ms:>8.0f}ms {indexed:>12.1f}us {naive:>12.1f}us {naive / indexed:>8.0f}x {hit:>8.0%}")
    print(
        f"\nEID: one computation {eid_one:.1f} us; resolving among {args.beacons} beacons of a store "
        f"(drift window 5 periods each) median {statistics.median(resolve_times):.0f} us, "
        f"max {max(resolve_times):.0f} us"
    )
    print(f"Offer decision among 1,000 live offers: {decision_us:.0f} us per check-in")


if __name__ == "__main__":
    main()
