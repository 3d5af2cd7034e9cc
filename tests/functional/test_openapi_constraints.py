"""The OpenAPI document says what the service accepts: required headers and bodies, numbers as JSON
has them, fields that may be left out but not cleared, the names a path takes."""

import json
import uuid

import jsonschema_rs  # schemathesis's validator: a JSON Schema implementation we did not write
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app import app
from chalicelib import jobs
from chalicelib.api.openapi import document
from chalicelib.api.schemas.admin import BeaconBody
from chalicelib.api.schemas.customer import CheckinRequest
from chalicelib.api.schemas.till import PurchaseRequest
from scripts.token import mint

DOC = document(app)
ADMIN = mint("demo-admin", ["admin"])


def op(path, method):
    return DOC["paths"][path][method]


def header(operation, name):
    return next((p for p in operation["parameters"] if p["in"] == "header" and p["name"] == name), None)


@pytest.mark.parametrize("path", ["/v1/purchases", "/v1/purchases/{purchase_id}/refund"])
def test_operations_that_move_points_declare_the_idempotency_key_they_require(path):
    key = header(op(path, "post"), "Idempotency-Key")
    assert key is not None
    assert key["required"] is True
    assert key["schema"]["maxLength"] == 255


def test_a_purchase_without_the_declared_idempotency_key_is_refused_naming_it(api):
    card = api.join("alice").json_body["card_number"]
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": 1250, "currency": "EUR"}
    response = api.call("POST", "/v1/purchases", api.cashier(), body)
    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "Idempotency-Key"


def test_only_operations_that_move_points_declare_an_idempotency_key():
    declaring = {
        (path, method)
        for path, item in DOC["paths"].items()
        for method, o in item.items()
        if header(o, "Idempotency-Key")
    }
    assert declaring == {
        ("/v1/purchases", "post"),
        ("/v1/purchases/{purchase_id}/refund", "post"),
        ("/v1/customers/{customer_id}/compensations", "post"),
    }


@pytest.mark.parametrize(
    ("path", "method", "required"),
    [
        ("/v1/jobs/{name}/run", "post", False),
        ("/v1/purchases/{purchase_id}/refund", "post", False),
        ("/v1/me", "post", True),
        ("/v1/me", "patch", True),
    ],
)
def test_a_body_is_required_exactly_when_the_service_requires_one(path, method, required):
    assert op(path, method)["requestBody"]["required"] is required


def test_a_job_runs_without_a_body_as_the_document_says(api):
    response = api.call("POST", "/v1/jobs/expire_points/run", ADMIN)
    assert response.status_code == 200, response.json_body


def test_the_document_names_the_jobs_and_another_name_is_still_404(api):
    name = next(p for p in op("/v1/jobs/{name}/run", "post")["parameters"] if p["name"] == "name")
    assert name["schema"]["enum"] == sorted(jobs.JOBS)
    assert api.call("POST", "/v1/jobs/no_such_job/run", ADMIN, {}).status_code == 404


def test_profile_fields_that_cannot_be_cleared_are_not_nullable_in_the_document():
    schema = DOC["components"]["schemas"]["UpdateProfileRequest"]
    assert schema["minProperties"] == 1
    for field in ("name", "marketing_consent", "timezone"):
        assert "anyOf" not in schema["properties"][field], field
        assert schema["properties"][field]["type"] != "null"
    assert {"type": "null"} in schema["properties"]["quiet_hours"]["anyOf"], "quiet hours can be cleared"


def purchase(api, amount_json):
    card = api.join("alice").json_body["card_number"]
    raw = f'{{"card": "{card}", "store_id": "s_kiez_mitte", "amount": {amount_json}, "currency": "EUR"}}'
    return api.call("POST", "/v1/purchases", api.cashier(), raw=raw, headers={"Idempotency-Key": str(uuid.uuid4())})


def test_an_integer_written_with_a_zero_fraction_is_that_integer(api):
    # JSON has one number type: JSON Schema's "integer" includes 1250.0, and so does the service.
    response = purchase(api, "1250.0")
    assert response.status_code == 201, response.json_body
    assert response.json_body["amount"] == 1250


@pytest.mark.parametrize(("amount", "field"), [("1250.5", "amount"), ('"1250"', "amount"), ("1e400", "amount")])
def test_a_fraction_or_a_string_is_still_not_an_integer(api, amount, field):
    response = purchase(api, amount)
    assert response.status_code == 422, response.json_body
    assert response.json_body["error"]["field"] == field


@pytest.mark.parametrize("raw", ["[" * 5000, '{"a": NaN', "\xff"])
def test_a_body_json_cannot_parse_is_still_a_4xx(api, raw):
    response = api.call("POST", "/v1/me", api.customer("alice"), raw=raw)
    assert 400 <= response.status_code < 500
    assert json.loads(response.body)["error"]["code"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"name": ""}, "name"),
        ({"marketing_consent": "yes"}, "marketing_consent"),
    ],
)
def test_a_bad_profile_change_names_the_field_plainly(api, change, field):
    api.join("alice")
    response = api.call("PATCH", "/v1/me", api.customer("alice"), change)
    assert response.status_code == 422
    assert response.json_body["error"]["field"] == field


# "Exactly one of" rules: the document's oneOf and the model's validator accept the same bodies.
BEACON_UUID = "F7826DA6-4FA2-4E98-8024-BC5B71E0893E"
SHAPES = {
    PurchaseRequest: (
        {"store_id": "s_kiez_mitte", "amount": 1250, "currency": "EUR"},
        {"card": "4000 1234 5678", "customer_id": "cus_1"},
    ),
    BeaconBody: (
        {"store_id": "s_kiez_mitte", "zone": "door"},
        {
            "uuid": BEACON_UUID,
            "major": 1,
            "minor": 2,
            "namespace": "ab" * 10,
            "instance": "cd" * 6,
            "eddystone_eid": {"identity_key": "ef" * 16, "rotation_exponent": 4, "time_counter": 0},
        },
    ),
    CheckinRequest: (
        {},
        {
            "uuid": BEACON_UUID,
            "major": 1,
            "minor": 2,
            "namespace": "ab" * 10,
            "instance": "cd" * 6,
            "eid": "0123456789abcdef",
            "lat": 52.52,
            "lon": 13.40,
            "accuracy_m": 12.5,
        },
    ),
}


def bodies(model):
    base, optional = SHAPES[model]
    absent, null = object(), None
    presence = st.fixed_dictionaries(
        {field: st.sampled_from([absent, null, value]) for field, value in optional.items()}
    )
    kind = st.just({}) if model is not CheckinRequest else st.sampled_from([{"type": "beacon"}, {"type": "geo"}])
    return st.tuples(kind, presence).map(
        lambda parts: {**base, **parts[0], **{f: v for f, v in parts[1].items() if v is not absent}}
    )


def model_accepts(model, body):
    try:
        model.model_validate_json(json.dumps(body), strict=True)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("model", list(SHAPES), ids=lambda m: m.__name__)
def test_the_documented_one_of_accepts_exactly_what_the_model_accepts(model):
    validator = jsonschema_rs.validator_for(model.model_json_schema())

    @settings(max_examples=300, deadline=None)
    @given(body=bodies(model))
    def agree(body):
        assert validator.is_valid(body) == model_accepts(model, body), body

    agree()
