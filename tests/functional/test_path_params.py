"""Path ids that cannot name anything (empty, longer than a DynamoDB key, control characters) are
a 404 or a 422 naming the parameter, on every route, and the OpenAPI document says the same bounds."""

import re
from urllib.parse import quote

import pytest

from app import app
from chalicelib.api.openapi import document
from chalicelib.api.schemas.common import DEAD_LETTER_ID_PATTERN, MESSAGE_ID_PATTERN
from chalicelib.store.members import DeviceModel
from scripts.token import mint

DOC = document(app)
#: DynamoDB's range-key limit in bytes; a hash key may be 2048, so this bound covers both.
RANGE_KEY_BYTES = 1024
WITH_PATH_PARAMS = [
    (path, method, op)
    for path, item in DOC["paths"].items()
    for method, op in item.items()
    if any(p["in"] == "path" for p in op["parameters"])
]
BAD_SEGMENTS = {
    "over a range key": "a" * 1025,
    "over a hash key": "a" * 2049,
    "multi-byte over a range key": "é" * 600,
    "NUL": "\x00",
    "newline": "abc\ndef",
    "escape": "abc\x1bdef",
}


def token_for(op):
    roles = op.get("x-roles")
    if not roles:
        return None
    role = roles[0]
    return mint("paths-" + role, [role], merchant_id=None if role == "customer" else "m_kiez")


def fill(path, segment):
    return re.sub(r"{[^}]+}", quote(segment, safe=""), path)


@pytest.mark.parametrize("segment", list(BAD_SEGMENTS.values()), ids=list(BAD_SEGMENTS))
@pytest.mark.parametrize(
    ("path", "method", "op"), WITH_PATH_PARAMS, ids=[f"{m.upper()} {p}" for p, m, _ in WITH_PATH_PARAMS]
)
def test_a_path_id_that_cannot_name_anything_is_404_or_422_naming_it(api, path, method, op, segment):
    api.join("paths-customer")
    names = [p["name"] for p in op["parameters"] if p["in"] == "path"]
    response = api.call(method.upper(), fill(path, segment), token_for(op), body={} if "requestBody" in op else None)
    assert response.status_code in (404, 422), response.body
    error = response.json_body["error"]
    assert {"code", "message"} <= set(error)
    if response.status_code == 422:
        assert error["field"] in names


# "/v1/stores/" is the collection itself (API Gateway drops the trailing slash too): only an id
# inside the path can be empty.
MID_PATH = [(path, method, op) for path, method, op in WITH_PATH_PARAMS if not path.endswith("}")]


@pytest.mark.parametrize(("path", "method", "op"), MID_PATH, ids=[f"{m.upper()} {p}" for p, m, _ in MID_PATH])
def test_an_empty_path_id_is_422_naming_it(api, path, method, op):
    response = api.call(method.upper(), fill(path, ""), token_for(op), body={} if "requestBody" in op else None)
    assert response.status_code == 422, response.body
    assert response.json_body["error"]["field"] in [p["name"] for p in op["parameters"] if p["in"] == "path"]


def test_a_device_token_over_the_key_limit_is_422_naming_token(api):
    api.join("alice")
    response = api.call("DELETE", "/v1/me/devices/" + "a" * 1025, api.customer("alice"))
    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "token"


def test_a_device_token_at_the_key_limit_is_looked_up(api):
    api.join("alice")
    token = "a" * 1024
    added = api.call("POST", "/v1/me/devices", api.customer("alice"), {"token": token, "platform": "android"})
    assert added.status_code == 201
    assert api.call("DELETE", f"/v1/me/devices/{token}", api.customer("alice")).status_code == 204
    assert DeviceModel.count() == 0


def test_an_empty_purchase_id_is_422_naming_purchase_id(api):
    response = api.call("POST", "/v1/purchases//refund", api.cashier(), {}, headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "purchase_id"


@pytest.mark.parametrize("length", [1025, 2048])
def test_a_long_purchase_id_is_422_naming_purchase_id(api, length):
    response = api.call(
        "POST", f"/v1/purchases/{'p' * length}/refund", api.cashier(), {}, headers={"Idempotency-Key": "k-1"}
    )
    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "purchase_id"


def test_a_path_id_in_the_bounds_that_names_nothing_is_404(api):
    admin = mint("demo-admin", ["admin"], merchant_id="m_kiez")
    assert api.call("GET", "/v1/stores/s_nowhere", admin).status_code == 404


ASCII_ONLY = "^[A-Za-z0-9_\\-:.]+$"
#: Ids of a fixed ASCII shape (inbox messages, dead letters) are bounded the same way.
ASCII_PATTERNS = (ASCII_ONLY, MESSAGE_ID_PATTERN, DEAD_LETTER_ID_PATTERN)


@pytest.mark.parametrize(
    ("path", "method", "op"), WITH_PATH_PARAMS, ids=[f"{m.upper()} {p}" for p, m, _ in WITH_PATH_PARAMS]
)
def test_the_document_bounds_every_path_parameter_within_a_dynamodb_key(path, method, op):
    for param in (p for p in op["parameters"] if p["in"] == "path"):
        schema = param["schema"]
        assert schema["type"] == "string"
        assert schema["minLength"] >= 1
        # An ASCII-only pattern makes a character one byte; otherwise UTF-8 may take four.
        bytes_per_char = 1 if schema["pattern"] in ASCII_PATTERNS else 4
        assert schema["maxLength"] * bytes_per_char <= RANGE_KEY_BYTES
        assert schema["pattern"] in (*ASCII_PATTERNS, "^[^\\x00-\\x1f\\x7f]*$"), "no control characters"


def test_the_document_says_which_kind_of_value_each_path_parameter_is():
    def schema(path, method, name):
        return next(p["schema"] for p in DOC["paths"][path][method]["parameters"] if p["name"] == name)

    assert schema("/v1/me/devices/{token}", "delete", "token")["maxLength"] == 1024
    assert schema("/v1/cards/{code}", "get", "code")["maxLength"] == 256
    assert schema("/v1/stores/{store_id}", "get", "store_id")["maxLength"] == 64
