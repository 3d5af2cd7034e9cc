"""Bad input gets a 4xx naming the field, and nothing is written."""

import json

import pytest

from chalicelib.store.members import ClaimModel, MemberModel

GOOD = {"name": "Alice", "phone": "0151 23456789", "birthday": "1990-04-12", "marketing_consent": True}


def join_raw(api, raw):
    return api.call("POST", "/v1/me", api.customer("alice"), raw=raw)


def nothing_written():
    return MemberModel.count("alice") == 0 and ClaimModel.count("phone#+4915123456789") == 0


@pytest.mark.parametrize("raw", ["{", "not json", '{"name": "A",}', "[1, 2", "\x00"])
def test_malformed_json_is_400(api, raw):
    response = join_raw(api, raw)
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "malformed_json"
    assert nothing_written()


def test_an_empty_body_is_400(api):
    response = join_raw(api, "")
    assert response.status_code == 400


def test_an_oversized_body_is_413(api):
    response = join_raw(api, json.dumps({**GOOD, "name": "A" * 20_000}))
    assert response.status_code == 413
    assert nothing_written()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 42}, "name"),
        ({"name": "A\u0000B"}, "name"),
        ({"phone": "hello"}, "phone"),
        ({"phone": "0151 1"}, "phone"),
        ({"birthday": "2999-01-01"}, "birthday"),
        ({"birthday": "1850-01-01"}, "birthday"),
        ({"birthday": "2026-02-30"}, "birthday"),
        ({"birthday": 19900412}, "birthday"),
        ({"marketing_consent": "yes"}, "marketing_consent"),
        ({"marketing_consent": 1}, "marketing_consent"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"home_store_id": "s_nowhere"}, "home_store_id"),
        ({"referral_code": "!!"}, "referral_code"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_a_bad_field_is_named_and_nothing_is_written(api, change, field):
    response = join_raw(api, json.dumps({**GOOD, **change}))
    assert response.status_code == 422, response.json_body
    assert response.json_body["error"]["field"] == field
    assert nothing_written()


@pytest.mark.parametrize("missing", ["name", "phone", "birthday", "marketing_consent"])
def test_a_missing_required_field_is_named(api, missing):
    body = {k: v for k, v in GOOD.items() if k != missing}
    response = join_raw(api, json.dumps(body))
    assert response.status_code == 422
    assert response.json_body["error"]["field"] == missing


@pytest.mark.parametrize("raw", ["[]", "null", "42", '"text"'])
def test_a_body_that_is_not_an_object_is_422(api, raw):
    response = join_raw(api, raw)
    assert response.status_code == 422
    assert nothing_written()
