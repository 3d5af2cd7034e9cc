"""Beacons: registered by the admin, identities unique, an EID's identity key never shown."""

import pytest

from chalicelib.domain.catalog import Beacon
from chalicelib.store import catalog
from scripts.token import mint

ADMIN = mint("demo-admin", ["admin"])
IBEACON = {
    "store_id": "s_kiez_mitte",
    "zone": "terrace",
    "uuid": "f7826da6-4fa2-4e98-8024-bc5b71e0893e",
    "major": 100,
    "minor": 9,
}
UID = {"store_id": "s_kiez_mitte", "zone": "counter", "namespace": "EDD1EBEAC04E5DEFA017", "instance": "0BDB87539B67"}
EID = {
    "store_id": "s_nordlicht_alex",
    "zone": "entrance",
    "eddystone_eid": {
        "identity_key": "553C66DA1485E9F78849DE00F2CB178E",
        "rotation_exponent": 10,
        "time_counter": 65280,
    },
}


@pytest.mark.parametrize("body", [IBEACON, UID, EID], ids=["ibeacon", "eddystone-uid", "eddystone-eid"])
def test_each_kind_of_beacon_registers_once(api, body):
    created = api.call("POST", "/v1/beacons", ADMIN, body)
    assert created.status_code == 201, created.json_body
    again = api.call("POST", "/v1/beacons", ADMIN, body)
    assert again.status_code == 409 and again.json_body["error"]["code"] == "beacon_exists"


def test_an_ibeacon_identity_is_unique_whatever_the_case_of_its_uuid(api):
    assert api.call("POST", "/v1/beacons", ADMIN, IBEACON).status_code == 201
    upper = {**IBEACON, "uuid": IBEACON["uuid"].upper()}
    assert api.call("POST", "/v1/beacons", ADMIN, upper).status_code == 409


def test_the_eid_identity_key_is_write_only(api):
    created = api.call("POST", "/v1/beacons", ADMIN, EID).json_body
    assert "identity_key" not in str(created)
    assert created["eddystone_eid"]["rotation_exponent"] == 10
    listed = api.call("GET", "/v1/beacons?store_id=s_nordlicht_alex", api.cashier()).json_body["items"]
    assert created["beacon_id"] in {b["beacon_id"] for b in listed}
    assert "553C66DA" not in str(listed).upper()
    stored = [b for b in catalog.list_all(Beacon) if b.beacon_id == created["beacon_id"]]
    assert stored[0].eid_identity_key == "553c66da1485e9f78849de00f2cb178e"


def test_retiring_a_beacon(api):
    created = api.call("POST", "/v1/beacons", ADMIN, IBEACON).json_body
    assert api.call("DELETE", f"/v1/beacons/{created['beacon_id']}", ADMIN).status_code == 204
    assert api.call("DELETE", f"/v1/beacons/{created['beacon_id']}", ADMIN).status_code == 404
    assert api.call("POST", "/v1/beacons", ADMIN, IBEACON).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**IBEACON, "uuid": "not-a-uuid"}, "uuid"),
        ({**IBEACON, "major": 70000}, "major"),
        ({k: v for k, v in IBEACON.items() if k != "minor"}, "body"),
        ({**IBEACON, **{k: v for k, v in UID.items() if k in ("namespace", "instance")}}, "body"),
        ({**UID, "namespace": "XYZ"}, "namespace"),
        (
            {**EID, "eddystone_eid": {**EID["eddystone_eid"], "rotation_exponent": 16}},
            "eddystone_eid.rotation_exponent",
        ),
        ({**EID, "eddystone_eid": {**EID["eddystone_eid"], "identity_key": "abc"}}, "eddystone_eid.identity_key"),
        ({**IBEACON, "store_id": "s_nowhere"}, "store_id"),
    ],
)
def test_bad_beacons_are_refused_naming_the_field(api, body, field):
    response = api.call("POST", "/v1/beacons", ADMIN, body)
    assert response.status_code == 422, response.json_body
    assert response.json_body["error"]["field"] == field


def test_only_an_admin_registers_beacons(api):
    assert api.call("POST", "/v1/beacons", api.cashier(), IBEACON).status_code == 403
