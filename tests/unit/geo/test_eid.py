"""Eddystone-EID per google/eddystone's eid-computation.md, checked against an independent AES
(pycryptodome) written from the same spec."""

from datetime import UTC, datetime, timedelta

import pytest
from Crypto.Cipher import AES
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.geo.eid import EidBeacon, compute_eid, resolve


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
