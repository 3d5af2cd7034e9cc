"""A generated corpus of bad requests against every route of the OpenAPI document: never a 5xx."""

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib.api.openapi import document
from scripts.token import mint

DOC = document(app)
OPERATIONS = [(path, method, op) for path, item in DOC["paths"].items() for method, op in item.items()]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def body_strategy(op):
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = DOC["components"]["schemas"][ref.rsplit("/", 1)[1]]
    fields = list(schema.get("properties", {}))
    near_valid = st.fixed_dictionaries({}, optional=dict.fromkeys(fields, json_values))
    as_text = st.one_of(json_values, near_valid).map(json.dumps)
    return st.one_of(as_text, st.text(max_size=60), st.binary(max_size=60).map(lambda b: b.decode("latin-1")))


def token_for(op):
    roles = op.get("x-roles")
    if not roles:
        return None
    role = roles[0]
    return mint("fuzz-" + role, [role], merchant_id="m_kiez" if role != "customer" else None)


def fill_path(path, value):
    return path.replace("{code}", quote(value, safe="")).replace("{token}", quote(value, safe=""))


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m, _ in OPERATIONS])
def test_no_generated_request_makes_a_5xx(api, path, method, op):
    token = token_for(op)
    # Join once so routes that need a member reach their deeper code.
    api.call(
        "POST",
        "/v1/me",
        mint("fuzz-customer", ["customer"]),
        {"name": "Fuzz", "phone": "0151 55566677", "birthday": "1990-01-01", "marketing_consent": True},
    )
    bodies = body_strategy(op) if "requestBody" in op else st.none()
    query_names = [p["name"] for p in op["parameters"] if p["in"] == "query"]

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        body=bodies,
        segment=st.text(min_size=1, max_size=40),
        query=st.dictionaries(st.sampled_from(query_names), st.text(max_size=20), max_size=2)
        if query_names
        else st.just({}),
    )
    def check(body, segment, query):
        url = fill_path(path, segment)
        if query:
            url += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
        response = api.call(method.upper(), url, token, raw=body)
        assert response.status_code < 500, (url, body, response.body)
        if response.status_code >= 400:
            assert set(response.json_body["error"]) >= {"code", "message"}

    check()
