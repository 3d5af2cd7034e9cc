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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from chalicelib.domain.offers import Customer, Limits, Moment, Offer, Targeting, Trigger, choose_offers
from chalicelib.geo import eid as eid_module
from chalicelib.geo.distance import METRES_PER_DEGREE_LAT
from chalicelib.geo.eid import EidBeacon, EidResolver, compute_eid, resolve
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


def timed_resolutions(
    find: Callable[[bytes], EidBeacon | None], heard: list[tuple[bytes, EidBeacon]], aes_calls: list[int]
) -> tuple[list[float], float]:
    """Microseconds of each resolution, and the AES operations per resolution."""
    times = []
    aes_calls[0] = 0
    for eid, beacon in heard:
        started = time.perf_counter()
        assert find(eid) == beacon
        times.append((time.perf_counter() - started) * 1e6)
    return times, aes_calls[0] / len(heard)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--points", type=int, default=5_000, help="query points per size (5000)")
    parser.add_argument("--naive-points", type=int, default=300, help="points for the loop over every fence (300)")
    parser.add_argument("--beacons", type=int, default=1_000, help="EID beacons of the program to resolve among (1000)")
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
    aes_calls = [0]
    real_aes = eid_module._aes

    def counted_aes(key: bytes, block: bytes) -> bytes:
        aes_calls[0] += 1
        return real_aes(key, block)

    eid_module._aes = counted_aes
    try:
        loop_times, loop_aes = timed_resolutions(
            lambda eid: resolve(eid, beacons, now), heard[:: max(1, len(heard) // 20)], aes_calls
        )
        resolver = EidResolver(beacons)
        aes_calls[0] = 0
        started = time.perf_counter()
        resolver.resolve(b"\0" * 8, now)
        table_ms, table_aes = (time.perf_counter() - started) * 1000, aes_calls[0]
        map_times, map_aes = timed_resolutions(lambda eid: resolver.resolve(eid, now), heard, aes_calls)
        aes_calls[0] = 0
        for minute in range(1, 61):  # an hour of sightings, one a minute: the table moves on each time
            resolver.resolve(b"\0" * 8, now + timedelta(minutes=minute))
        hour_aes = aes_calls[0]
    finally:
        eid_module._aes = real_aes
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
    print(f"\nEID among {args.beacons} beacons (rotation 2^10 s, drift window 5 periods); one EID {eid_one:.1f} us")
    print(
        f"  loop over every beacon: {loop_aes:g} AES per resolution, median {statistics.median(loop_times):.0f} us,"
        f" max {max(loop_times):.0f} us"
    )
    print(
        f"  resolver: {map_aes:g} AES per resolution, median {statistics.median(map_times):.1f} us,"
        f" max {max(map_times):.1f} us; its table {table_aes} AES in {table_ms:.0f} ms on the first sighting,"
        f" then {hour_aes} AES over an hour of minutes ({hour_aes / 60:.0f} a minute, whatever the traffic)"
    )
    print(f"Offer decision among 1,000 live offers: {decision_us:.0f} us per check-in")


if __name__ == "__main__":
    main()
