"""Stores: the admin adds and changes them; the geofence index follows."""

import pytest

from chalicelib.services import places
from scripts.token import mint

ADMIN = mint("demo-admin", ["admin"])
NEW = {
    "store_id": "s_kiez_friedrichshain",
    "merchant_id": "m_kiez",
    "name": "Kiez Kaffee Friedrichshain",
    "geofence": {"center": [13.4539, 52.5128], "radius_m": 70},
    "timezone": "Europe/Berlin",
}


def test_an_admin_adds_a_store_and_the_geofence_index_finds_it(api):
    created = api.call("POST", "/v1/stores", ADMIN, NEW)
    assert created.status_code == 201, created.json_body
    assert created.json_body["store_id"] == "s_kiez_friedrichshain"
    assert api.call("GET", "/v1/stores/s_kiez_friedrichshain", api.cashier()).json_body["name"] == NEW["name"]
    assert places.geofences().locate(13.4539, 52.5130).store_id == "s_kiez_friedrichshain"
    assert api.call("POST", "/v1/stores", ADMIN, NEW).status_code == 409


def test_a_store_without_an_id_gets_one(api):
    created = api.call("POST", "/v1/stores", ADMIN, {k: v for k, v in NEW.items() if k != "store_id"}).json_body
    assert created["store_id"].startswith("s_")


def test_moving_a_geofence_moves_the_index(api):
    api.call("POST", "/v1/stores", ADMIN, NEW)
    moved = {**NEW, "geofence": {"center": [13.3777, 52.5163], "radius_m": 50}}
    assert api.call("PUT", "/v1/stores/s_kiez_friedrichshain", ADMIN, moved).status_code == 200
    assert places.geofences().locate(13.4539, 52.5130) is None
    assert places.geofences().locate(13.3777, 52.5163).store_id == "s_kiez_friedrichshain"
    assert api.call("PUT", "/v1/stores/s_nowhere", ADMIN, moved).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"geofence": {"center": [13.45, 52.51], "radius_m": 9}}, "geofence.radius_m"),
        ({"geofence": {"center": [13.45, 152.51], "radius_m": 50}}, "geofence.center"),
        (
            {"geofence": {"type": "Polygon", "coordinates": [[[13.4, 52.5], [13.5, 52.5], [13.5, 52.6]]]}},
            "geofence.coordinates.0",
        ),
        ({"merchant_id": "m_nobody"}, "merchant_id"),
        ({"timezone": "Berlin"}, "timezone"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_stores_are_refused_naming_the_field(api, change, field):
    response = api.call("POST", "/v1/stores", ADMIN, {**NEW, **change})
    assert response.status_code == 422
    assert response.json_body["error"]["field"] == field
    assert api.call("GET", "/v1/stores/s_kiez_friedrichshain", ADMIN).status_code == 404


def test_only_an_admin_changes_stores(api):
    assert api.call("POST", "/v1/stores", api.cashier(), NEW).status_code == 403
    assert api.call("POST", "/v1/stores", mint("demo-marketer", ["marketer"], "m_kiez"), NEW).status_code == 403
