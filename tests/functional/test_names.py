"""Names and titles are NFC-normalised and hold no control, bidi-override or zero-width characters."""

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from app import app
from chalicelib.api.openapi import document
from chalicelib.api.schemas.common import VISIBLE_TEXT
from scripts.token import mint

ADMIN = mint("demo-admin", ["admin"])
MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")

#: One of each refused kind: bidi override, bidi isolate, zero-width space and joiner, BOM,
#: a C0 and a C1 control, line separator, private use, a tag character, an unassigned code point.
INVISIBLE = [
    "\u202e",
    "\u2067",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\x07",
    "\x85",
    "\u2028",
    "\ue000",
    "\U000e0041",
    "\u0378",
]


def later(hours):
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def named_requests(name):
    """Every request that names a person or a thing, with that name."""
    return [
        (
            "POST",
            "/v1/me",
            mint("nina", ["customer"]),
            "name",
            {
                "name": name,
                "phone": "0151 70000001",
                "birthday": "1994-05-06",
                "marketing_consent": True,
            },
        ),
        (
            "POST",
            "/v1/stores",
            ADMIN,
            "name",
            {
                "merchant_id": "m_kiez",
                "name": name,
                "geofence": {"center": [13.4, 52.5], "radius_m": 50},
            },
        ),
        (
            "POST",
            "/v1/offers",
            MARKETER,
            "title",
            {
                "title": name,
                "trigger": {"type": "checkin"},
                "reward": {"type": "bonus_points", "points": 10},
            },
        ),
        (
            "POST",
            "/v1/promotions",
            MARKETER,
            "name",
            {
                "name": name,
                "multiplier_percent": 200,
                "valid_from": later(-1),
                "valid_to": later(2),
            },
        ),
    ]


@pytest.mark.parametrize("char", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_a_name_holding_an_invisible_character_is_422_naming_the_field(api, char):
    for method, path, token, field, body in named_requests(f"Ali{char}ce"):
        response = api.call(method, path, token, body)
        assert response.status_code == 422, (path, response.json_body)
        assert response.json_body["error"]["field"] == field, path
    assert api.call("GET", "/v1/me", mint("nina", ["customer"])).status_code == 404


def test_a_renamed_member_gets_the_same_check(api):
    api.join("alice")
    response = api.call("PATCH", "/v1/me", api.customer("alice"), {"name": "evil\u202egnp.exe"})
    assert response.status_code == 422 and response.json_body["error"]["field"] == "name"
    assert "U+202E" in response.json_body["error"]["message"]


def test_names_are_stored_nfc_normalised(api):
    decomposed = "Zoe\u0308 Mu\u0308ller"
    for method, path, token, field, body in named_requests(decomposed):
        response = api.call(method, path, token, body)
        assert response.status_code == 201, (path, response.json_body)
        assert response.json_body[field] == unicodedata.normalize("NFC", decomposed) == "Zoë Müller"


def test_letters_of_every_script_and_emoji_are_welcome(api):
    api.join("alice")
    for name in ("Ærøskøbing Café", "Ильич", "佐藤", "محمد", "Lena 🎉", "👩‍💻"[0]):
        response = api.call("PATCH", "/v1/me", api.customer("alice"), {"name": name})
        assert response.status_code == 200 and response.json_body["name"] == name


def test_a_lone_surrogate_in_a_name_is_a_4xx_not_a_5xx(api):
    raw = '{"name": "A\\ud800", "phone": "0151 70000001", "birthday": "1994-05-06", "marketing_consent": true}'
    response = api.call("POST", "/v1/me", mint("nina", ["customer"]), raw=raw)
    assert 400 <= response.status_code < 500


def test_the_openapi_document_states_the_rule_as_a_pattern():
    schemas = document(app)["components"]["schemas"]
    pattern = schemas["JoinRequest"]["properties"]["name"]["pattern"]
    assert pattern == schemas["OfferBody"]["properties"]["title"]["pattern"]
    assert pattern == VISIBLE_TEXT


def test_tier_names_and_perks_shown_to_members_get_the_same_check(api):
    rules = api.call("GET", "/v1/program", ADMIN).json_body
    tiers = [dict(t) for t in rules["tiers"]]
    tiers[1] = {**tiers[1], "perks": ["free\u202erefill"]}
    response = api.call("PUT", "/v1/program", ADMIN, {**rules, "tiers": tiers})
    assert response.status_code == 422 and response.json_body["error"]["field"] == "tiers.1.perks.0"
    tiers[1] = {**tiers[1], "perks": ["free refill"], "name": "Sil\u200bver"}
    response = api.call("PUT", "/v1/program", ADMIN, {**rules, "tiers": tiers})
    assert response.status_code == 422 and response.json_body["error"]["field"] == "tiers.1.name"
