"""Who may call what: 401 without a good token, 403 for the wrong role, nobody else's data."""

import time

import jwt
import pytest

from scripts.token import mint

ROUTES_BY_ROLE = [
    ("GET", "/v1/me", "customer"),
    ("GET", "/v1/me/card", "customer"),
    ("GET", "/v1/cards/0151%2023456789", "cashier"),
    ("GET", "/v1/stores", "cashier"),
]


@pytest.mark.parametrize(("method", "path", "_role"), ROUTES_BY_ROLE)
def test_no_token_is_401(api, method, path, _role):
    response = api.call(method, path)
    assert response.status_code == 401
    assert response.json_body["error"]["code"] == "missing_token"


@pytest.mark.parametrize(
    "header",
    ["Basic abc", "Bearer", "Bearer not.a.jwt", "Bearer " + jwt.encode({"sub": "x", "exp": 2**31}, "wrong-key" * 4)],
)
def test_a_bad_token_is_401(api, header):
    response = api.call("GET", "/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json_body["error"]["code"] == "invalid_token"


def test_an_expired_token_is_401_token_expired(api):
    token = mint("alice", ["customer"], ttl_s=-3600)
    response = api.call("GET", "/v1/me", token)
    assert response.status_code == 401
    assert response.json_body["error"]["code"] == "token_expired"


def test_a_token_without_exp_is_refused(api):
    from chalicelib.config import settings

    token = jwt.encode({"sub": "alice", "cognito:groups": ["customer"]}, settings().dev_jwt_secret, algorithm="HS256")
    assert api.call("GET", "/v1/me", token).status_code == 401


def test_an_alg_none_token_is_refused(api):
    token = jwt.encode({"sub": "alice", "cognito:groups": ["customer"], "exp": int(time.time()) + 60}, None, "none")
    assert api.call("GET", "/v1/me", token).status_code == 401


def test_a_customer_cannot_use_the_till_or_the_console(api):
    api.join("alice")
    token = api.customer("alice")
    for path in ("/v1/cards/0151%2023456789", "/v1/stores"):
        response = api.call("GET", path, token)
        assert response.status_code == 403
        assert response.json_body["error"]["code"] == "role_forbidden"


def test_staff_without_the_customer_role_cannot_join(api):
    response = api.call("POST", "/v1/me", api.cashier(), {"name": "C", "phone": "0151 1", "birthday": "1990-01-01"})
    assert response.status_code == 403


def test_a_token_with_no_known_role_is_403(api):
    response = api.call("GET", "/v1/me", mint("mallory", ["superuser"]))
    assert response.status_code == 403


def test_each_customer_only_ever_sees_their_own_profile(api):
    alice = api.join("alice").json_body
    bob = api.join("bob", phone="0151 11111111").json_body
    assert api.call("GET", "/v1/me", api.customer("alice")).json_body["customer_id"] == alice["customer_id"]
    assert api.call("GET", "/v1/me", api.customer("bob")).json_body["customer_id"] == bob["customer_id"]
    assert api.call("GET", "/v1/me/card", api.customer("bob")).json_body["card_number"] == bob["card_number"]


def test_staff_list_the_stores_page_by_page(api):
    token = api.cashier()
    first = api.call("GET", "/v1/stores?limit=2", token).json_body
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = api.call("GET", f"/v1/stores?limit=2&cursor={first['next_cursor']}", token).json_body
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    stores = first["items"] + rest["items"]
    assert {s["merchant_id"] for s in stores} == {"m_kiez", "m_nordlicht"}
    assert all(s["store_id"] and s["geofence"] for s in stores)
    assert api.call("GET", "/v1/stores?limit=500", token).status_code == 422


@pytest.mark.parametrize(
    "claims",
    [
        {"cognito:groups": 1},
        {"cognito:groups": "customer"},
        {"cognito:groups": {"customer": 1}},
        {"sub": ""},
        {"sub": None},
        {"merchant_id": 7},
        {"store_id": ""},
    ],
)
def test_a_validly_signed_token_with_a_claim_of_the_wrong_type_is_401(api, claims):
    from chalicelib.config import settings

    good = {"sub": "alice", "cognito:groups": ["customer"], "exp": int(time.time()) + 60}
    token = jwt.encode({**good, **claims}, settings().dev_jwt_secret, algorithm="HS256")
    response = api.call("GET", "/v1/me", token)
    assert response.status_code == 401, response.body
    assert response.json_body["error"]["code"] == "invalid_token"
