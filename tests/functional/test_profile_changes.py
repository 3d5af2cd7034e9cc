"""PATCH /v1/me: null clears what may be empty, and a home store must be a store."""

import pytest


@pytest.fixture
def token(api):
    api.join("alice", home_store_id="s_kiez_mitte")
    token = api.customer("alice")
    api.call("PATCH", "/v1/me", token, {"interests": ["coffee", "cake"]})
    return token


@pytest.mark.parametrize(("field", "cleared"), [("home_store_id", None), ("interests", [])])
def test_null_clears_an_optional_profile_field_and_keeps_the_others(api, token, field, cleared):
    before = api.call("GET", "/v1/me", token).json_body
    assert before[field] not in (None, [])
    response = api.call("PATCH", "/v1/me", token, {field: None})
    assert response.status_code == 200
    assert response.json_body[field] == cleared
    after = api.call("GET", "/v1/me", token).json_body
    assert after[field] == cleared
    assert {k: v for k, v in after.items() if k != field} == {k: v for k, v in before.items() if k != field}


def test_an_empty_interest_list_clears_them_too(api, token):
    assert api.call("PATCH", "/v1/me", token, {"interests": []}).json_body["interests"] == []


def test_a_home_store_that_is_not_a_store_is_422_naming_it_and_changes_nothing(api, token):
    response = api.call("PATCH", "/v1/me", token, {"home_store_id": "s_nowhere", "name": "Someone Else"})
    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "home_store_id"
    profile = api.call("GET", "/v1/me", token).json_body
    assert profile["home_store_id"] == "s_kiez_mitte" and profile["name"] == "Member alice"
