"""Which registered beacon a sighting is: by its advertised identity, or by resolving its EID.

A :class:`BeaconDirectory` is a pure function of the beacon list, built once per list, so that a
sighting costs a dictionary lookup however many beacons there are; :func:`directory_of` keeps the
one for the list a catalog cache currently holds.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from chalicelib.domain.catalog import Beacon
from chalicelib.geo.eid import EidBeacon, EidResolver


class BeaconDirectory:
    def __init__(self, beacons: Sequence[Beacon]) -> None:
        self._by_identity: dict[str, Beacon] = {}
        for beacon in beacons:
            # The first registered wins, as a scan of the list in order would find it.
            self._by_identity.setdefault(beacon.identity, beacon)
        eid_beacons = [
            (
                b,
                EidBeacon(
                    b.beacon_id,
                    bytes.fromhex(b.eid_identity_key),
                    b.eid_rotation_exponent or 0,
                    b.eid_time_counter or 0,
                    b.eid_registered_at,
                ),
            )
            for b in beacons
            if b.eid_identity_key and b.eid_registered_at is not None
        ]
        self._eids = EidResolver([eid for _, eid in eid_beacons])
        self._by_id = {b.beacon_id: b for b, _ in reversed(eid_beacons)}

    def by_identity(self, identity: str) -> Beacon | None:
        """The beacon advertising ``identity`` (:attr:`Beacon.identity`'s form)."""
        return self._by_identity.get(identity)

    def by_eid(self, eid: bytes, moment: datetime) -> Beacon | None:
        """The EID beacon showing ``eid`` at ``moment`` (within the drift window)."""
        found = self._eids.resolve(eid, moment)
        return self._by_id.get(found.beacon_id) if found is not None else None


_lock = threading.Lock()
_current: tuple[Sequence[Beacon], BeaconDirectory] | None = None


def directory_of(beacons: Sequence[Beacon]) -> BeaconDirectory:
    """The directory of this very list object: a cache hands out the same list until it reloads,
    so the directory is rebuilt exactly when the catalog is (the list is never mutated)."""
    global _current
    with _lock:
        if _current is None or _current[0] is not beacons:
            _current = (beacons, BeaconDirectory(beacons))
        return _current[1]
