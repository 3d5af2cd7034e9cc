"""Eddystone-EID, resolved on our side (Google's resolver is gone since 2021).

Per google/eddystone's eid-computation.md: a temporary key is AES-128(identity key,
00*11 | FF | 00 00 | top 16 bits of the time counter); the EID is the first 8 bytes of
AES-128(temporary key, 00*11 | K | time counter with its K low bits cleared). A beacon's counter
runs at one tick a second from its value at registration, so we know what it should show now;
resolution tries the few rotation periods around that (clock drift), and a copied advertisement
stops resolving a few periods later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

#: Rotation periods on either side of the expected one that still resolve (clock drift).
DRIFT_PERIODS = 2


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
