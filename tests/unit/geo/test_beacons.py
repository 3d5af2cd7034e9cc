"""The beacon directory: a sighting is a dictionary lookup, and answers as a scan of the list would."""

from datetime import UTC, datetime, timedelta

from chalicelib.domain.catalog import Beacon
from chalicelib.geo.beacons import BeaconDirectory, directory_of
from chalicelib.geo.eid import EidBeacon

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
KEY = bytes(range(16))


def ibeacon(i, store="s1"):
    return Beacon(f"b{i}", store, "door", uuid="f7826da6-4fa2-4e98-8024-bc5b71e0893e", major=100, minor=i)


def test_a_sighting_finds_its_beacon_by_identity_whatever_the_case_of_the_uuid():
    beacons = [ibeacon(i) for i in range(1_000)]
    probe = Beacon("", "", "", uuid="F7826DA6-4FA2-4E98-8024-BC5B71E0893E", major=100, minor=713)
    assert BeaconDirectory(beacons).by_identity(probe.identity) == beacons[713]


def test_an_unknown_identity_finds_nothing_and_the_first_registered_of_a_duplicate_wins():
    first, second = ibeacon(1, "s1"), ibeacon(1, "s2")
    directory = BeaconDirectory([first, second])
    assert directory.by_identity(first.identity) is first
    assert directory.by_identity("ibeacon:NOPE:1:1") is None


def test_an_eid_finds_the_registered_beacon_that_shows_it():
    registered = NOW - timedelta(days=2)
    eid_beacon = Beacon(
        "e1",
        "s1",
        "till",
        eid_identity_key=KEY.hex(),
        eid_rotation_exponent=10,
        eid_time_counter=500,
        eid_registered_at=registered,
    )
    shown = EidBeacon("e1", KEY, 10, 500, registered)
    directory = BeaconDirectory([ibeacon(1), eid_beacon])
    assert directory.by_eid(shown.eid_of_period(shown.period_at(NOW)), NOW) is eid_beacon
    assert directory.by_eid(b"\0" * 8, NOW) is None


def test_the_directory_is_rebuilt_only_when_the_cache_hands_out_another_list():
    beacons = [ibeacon(1)]
    assert directory_of(beacons) is directory_of(beacons)
    assert directory_of(list(beacons)) is not directory_of(beacons)
