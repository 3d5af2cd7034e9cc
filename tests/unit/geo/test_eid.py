"""Eddystone-EID per google/eddystone's eid-computation.md, checked against an independent AES
(pycryptodome) written from the same spec."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from Crypto.Cipher import AES
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.geo import eid as eid_module
from chalicelib.geo.eid import EidBeacon, EidResolver, compute_eid, resolve


def reference_eid(key: bytes, k: int, counter: int) -> bytes:
    tk_block = b"\x00" * 11 + b"\xff" + b"\x00\x00" + ((counter >> 16) & 0xFFFF).to_bytes(2, "big")
    tk = AES.new(key, AES.MODE_ECB).encrypt(tk_block)
    eid_block = b"\x00" * 11 + bytes([k]) + ((counter >> k) << k).to_bytes(4, "big")
    return AES.new(tk, AES.MODE_ECB).encrypt(eid_block)[:8]


@given(st.binary(min_size=16, max_size=16), st.integers(0, 15), st.integers(0, 2**32 - 1))
def test_our_eid_is_the_specifications(key, k, counter):
    assert compute_eid(key, k, counter) == reference_eid(key, k, counter)


def test_an_eid_stays_the_same_within_a_rotation_period_and_changes_after():
    key = bytes.fromhex("553C66DA1485E9F78849DE00F2CB178E")
    first = compute_eid(key, 10, 65_280)
    assert compute_eid(key, 10, 65_280 + 255) == first  # 65280 = 63 x 1024 + 768: same period
    assert compute_eid(key, 10, 65_280 + 256) != first


REGISTERED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
KEY = bytes(range(16))


def beacon(k=8):
    return EidBeacon("b1", KEY, k, time_counter=65_280, registered_at=REGISTERED)


def test_we_resolve_what_the_beacon_shows_now_with_a_little_drift():
    b = beacon()
    now = REGISTERED + timedelta(days=3, seconds=17)
    shown = compute_eid(KEY, 8, b.counter_at(now) + 300)  # its clock 5 minutes fast
    assert resolve(shown, [beacon(), EidBeacon("other", bytes(16), 8, 0, REGISTERED)], now) is not None
    assert resolve(shown, [b], now).beacon_id == "b1"


def test_a_copied_advertisement_stops_resolving_a_few_periods_later():
    b = beacon()
    heard = REGISTERED + timedelta(days=1)
    copied = compute_eid(KEY, 8, b.counter_at(heard))
    assert resolve(copied, [b], heard + timedelta(seconds=256)) is not None
    assert resolve(copied, [b], heard + timedelta(seconds=256 * 4)) is None


def test_bad_keys_and_exponents_are_refused():
    with pytest.raises(ValueError, match="16 bytes"):
        compute_eid(b"short", 8, 0)
    with pytest.raises(ValueError, match=r"0\.\.15"):
        compute_eid(KEY, 16, 0)


def aes_counted(monkeypatch):
    calls = []
    real = eid_module._aes

    def counting(key, block):
        calls.append(1)
        return real(key, block)

    monkeypatch.setattr(eid_module, "_aes", counting)
    return calls


def fleet(n, rng, now, exponents=(8, 10, 12)):
    return [
        EidBeacon(
            f"b{i}",
            rng.randbytes(16),
            exponents[i % len(exponents)],
            rng.randrange(2**20),
            now - timedelta(days=rng.randint(1, 300)),
        )
        for i in range(n)
    ]


def test_resolution_at_a_thousand_beacons_costs_no_aes_once_the_period_is_known(monkeypatch):
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    beacons = fleet(1_000, random.Random(3), now)
    resolver = EidResolver(beacons)
    resolver.resolve(b"\0" * 8, now)  # the first sighting of the window computes the table
    shown = [(b.eid_of_period(b.period_at(now)), b) for b in beacons[:200]]
    calls = aes_counted(monkeypatch)
    for eid, b in shown:
        assert resolver.resolve(eid, now + timedelta(seconds=30)) == b
    assert resolver.resolve(b"\0" * 8, now) is None
    assert calls == []  # the plain loop: 1,000 beacons x 5 periods x 2 AES on every sighting


def test_a_resolver_computes_each_beacons_eid_about_once_per_rotation_period(monkeypatch):
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    beacons = fleet(1_000, random.Random(4), now, exponents=(10,))
    resolver = EidResolver(beacons)
    resolver.resolve(b"\0" * 8, now)
    calls = aes_counted(monkeypatch)
    hour = 3_600
    for second in range(0, hour, 20):  # a sighting every 20 s for an hour
        resolver.resolve(b"\0" * 8, now + timedelta(seconds=second))
    periods = hour // 1024 + 1
    assert len(calls) <= 2 * len(beacons) * periods


@given(
    st.lists(
        st.tuples(st.binary(min_size=16, max_size=16), st.integers(0, 12), st.integers(0, 2**32 - 1)),
        min_size=1,
        max_size=4,
    ),
    st.integers(-(2**14), 2**16),
    st.integers(0, 3),
    st.integers(-4, 4),
    st.integers(0, 2**15),
)
def test_the_resolver_answers_as_the_plain_loop(specs, seconds, which, shift, heard_after):
    beacons = [EidBeacon(f"b{i}", key, k, counter, REGISTERED) for i, (key, k, counter) in enumerate(specs)]
    shown_by = beacons[which % len(beacons)]
    heard = REGISTERED + timedelta(seconds=seconds)
    period = shown_by.period_at(heard) + shift
    eid = shown_by.eid_of_period(max(0, period))
    resolver = EidResolver(beacons)
    for moment in (heard, heard + timedelta(seconds=heard_after), heard - timedelta(seconds=heard_after)):
        assert resolver.resolve(eid, moment) == resolve(eid, beacons, moment)
