"""The speed check: only a real fix moves the last known position, and only a check-in that stands."""

from datetime import timedelta

MITTE = {"type": "geo", "lon": 13.4016, "lat": 52.5303, "accuracy_m": 15}
LISBON = {"type": "geo", "lon": -9.14, "lat": 38.72, "accuracy_m": 10}
HAMBURG = {"type": "geo", "lon": 9.99, "lat": 53.55, "accuracy_m": 10}
UNKNOWN_BEACON = {"type": "beacon", "uuid": "F7826DA6-4FA2-4E98-8024-BC5B71E0893E", "major": 999, "minor": 9}


def check_in(api, body):
    return api.call("POST", "/v1/me/checkins", api.customer("alice"), body)


def test_an_unknown_beacon_between_two_far_apart_fixes_does_not_clear_the_position(api, clock):
    api.join("alice")
    assert check_in(api, MITTE).status_code == 200
    clock.now += timedelta(minutes=1)
    unknown = check_in(api, UNKNOWN_BEACON)
    assert unknown.status_code == 200 and unknown.json_body["store_id"] is None
    clock.now += timedelta(minutes=1)
    lisbon = check_in(api, LISBON)
    assert lisbon.status_code == 422 and lisbon.json_body["error"]["code"] == "impossible_speed"


def test_the_time_since_the_last_fix_counts_not_the_time_since_the_last_check_in(api, clock):
    api.join("alice")
    assert check_in(api, MITTE).status_code == 200
    clock.now += timedelta(hours=5)
    assert check_in(api, UNKNOWN_BEACON).status_code == 200
    clock.now += timedelta(minutes=30)
    # 255 km in five and a half hours: a train ride, not a teleport.
    assert check_in(api, HAMBURG).status_code == 200


def test_a_refused_check_in_does_not_move_the_position(api, clock):
    api.join("alice")
    assert check_in(api, MITTE).status_code == 200
    clock.now += timedelta(minutes=1)
    assert check_in(api, LISBON).json_body["error"]["code"] == "impossible_speed"
    clock.now += timedelta(minutes=1)
    assert check_in(api, {**LISBON, "mocked": True}).json_body["error"]["code"] == "mocked_location"
    clock.now += timedelta(minutes=1)
    # Still measured from Mitte: back at Mitte is no jump at all, Lisbon is still too far.
    assert check_in(api, MITTE).status_code == 200
    clock.now += timedelta(minutes=1)
    assert check_in(api, LISBON).json_body["error"]["code"] == "impossible_speed"
