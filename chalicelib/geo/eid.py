"""Eddystone-EID, resolved on our side (Google's resolver is gone since 2021).

Per google/eddystone's eid-computation.md: a temporary key is AES-128(identity key,
00*11 | FF | 00 00 | top 16 bits of the time counter); the EID is the first 8 bytes of
AES-128(temporary key, 00*11 | K | time counter with its K low bits cleared). A beacon's counter
runs at one tick a second from its value at registration, so we know what it should show now;
resolution tries the few rotation periods around that (clock drift), and a copied advertisement
stops resolving a few periods later.

An EID is two AES operations, and every EID beacon shows five candidates at any moment: trying them
all on every sighting costs ten thousand AES operations at a thousand beacons. :class:`EidResolver`
computes each beacon's candidates once per rotation period instead and looks sightings up in a
dictionary; :func:`resolve` is the plain definition it must agree with.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

#: Rotation periods on either side of the expected one that still resolve (clock drift).
DRIFT_PERIODS = 2
#: How long an :class:`EidResolver`'s dictionary serves before it moves on. Only the beacons whose
#: rotation period moved meanwhile cost AES then, so this bounds the bookkeeping, not the crypto.
WINDOW_S = 60


def _aes(key: bytes, block: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - one block, as the spec says
    return encryptor.update(block) + encryptor.finalize()


def compute_eid(identity_key: bytes, rotation_exponent: int, time_counter: int) -> bytes:
    if len(identity_key) != 16:
        raise ValueError("the identity key is 16 bytes (AES-128)")
    if not 0 <= rotation_exponent <= 15:
        raise ValueError("the rotation exponent is 0..15")
    counter = time_counter & 0xFFFFFFFF
    temporary_key = _aes(identity_key, bytes(11) + b"\xff" + bytes(2) + (counter >> 16).to_bytes(2, "big"))
    quantum = counter & ~((1 << rotation_exponent) - 1) & 0xFFFFFFFF
    return _aes(temporary_key, bytes(11) + bytes([rotation_exponent]) + quantum.to_bytes(4, "big"))[:8]


@dataclass(frozen=True)
class EidBeacon:
    beacon_id: str
    identity_key: bytes
    rotation_exponent: int
    #: The beacon's time counter when it was registered, and when that was.
    time_counter: int
    registered_at: datetime

    def counter_at(self, moment: datetime) -> int:
        return self.time_counter + int((moment - self.registered_at).total_seconds())

    def period_at(self, moment: datetime) -> int:
        """Which rotation period the beacon is in at ``moment`` (its counter with the low bits
        dropped): every counter value of one period shows the same EID."""
        return self.counter_at(moment) >> self.rotation_exponent

    def eid_of_period(self, period: int) -> bytes:
        return compute_eid(self.identity_key, self.rotation_exponent, period << self.rotation_exponent)

    def eids_around(self, moment: datetime, drift_periods: int = DRIFT_PERIODS) -> set[bytes]:
        """The EIDs this beacon may be showing at ``moment``, allowing for drift."""
        period = 1 << self.rotation_exponent
        expected = self.counter_at(moment)
        return {
            compute_eid(self.identity_key, self.rotation_exponent, expected + k * period)
            for k in range(-drift_periods, drift_periods + 1)
            if expected + k * period >= 0
        }


def resolve(eid: bytes, beacons: list[EidBeacon], moment: datetime) -> EidBeacon | None:
    """The beacon showing ``eid`` at ``moment`` (within the drift window), if any."""
    for beacon in beacons:
        if eid in beacon.eids_around(moment):
            return beacon
    return None


class EidResolver:
    """:func:`resolve` over a fixed list of beacons at the cost of a dictionary lookup.

    It keeps, for a window of :data:`WINDOW_S` seconds, every EID each beacon may show at some
    moment of the window (its periods then, widened by the drift), each with the period it belongs
    to; a sighting is looked up, then checked against the beacon's period at the sighting's moment,
    so the answer is exactly :func:`resolve`'s. When the window moves, the EIDs of periods still in
    reach are kept and only the new periods are computed: about two AES operations per beacon per
    rotation period, whatever the number of sightings. Build one per beacon list (a changed list
    is a new resolver); safe to share between threads.
    """

    def __init__(
        self, beacons: Sequence[EidBeacon], *, window_s: int = WINDOW_S, drift_periods: int = DRIFT_PERIODS
    ) -> None:
        self._beacons = tuple(beacons)
        self._window_s = window_s
        self._drift = drift_periods
        self._lock = threading.Lock()
        #: The window's start (seconds since the epoch, a multiple of window_s) and its lookup table.
        self._window: int | None = None
        self._by_eid: dict[bytes, list[tuple[int, int]]] = {}
        #: Per beacon (by position), the EIDs of the periods in reach of the current window.
        self._periods: list[dict[int, bytes]] = [{} for _ in self._beacons]

    def resolve(self, eid: bytes, moment: datetime) -> EidBeacon | None:
        by_eid = self._table_for(moment)
        for position, period in by_eid.get(eid, ()):
            beacon = self._beacons[position]
            if abs(period - beacon.period_at(moment)) <= self._drift:
                return beacon
        return None

    def _table_for(self, moment: datetime) -> dict[bytes, list[tuple[int, int]]]:
        start = int(moment.timestamp()) // self._window_s * self._window_s
        with self._lock:
            if start != self._window:
                self._move_to(start)
            return self._by_eid

    def _move_to(self, start: int) -> None:
        first = datetime.fromtimestamp(start, UTC)
        last = first + timedelta(seconds=self._window_s)
        by_eid: dict[bytes, list[tuple[int, int]]] = {}
        for position, beacon in enumerate(self._beacons):
            known = self._periods[position]
            wanted = range(
                max(0, beacon.period_at(first) - self._drift), max(0, beacon.period_at(last) + self._drift + 1)
            )
            periods = {period: known.get(period) or beacon.eid_of_period(period) for period in wanted}
            self._periods[position] = periods
            for period, shown in periods.items():
                by_eid.setdefault(shown, []).append((position, period))
        self._by_eid = by_eid
        self._window = start
