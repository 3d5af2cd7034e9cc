"""A generated corpus of bad requests against every route of the OpenAPI document: never a 5xx.

The corpus is built from the document itself, so a new route is covered the day it is added.
Besides junk bodies it carries the classes of bad input that have broken routes before:

- path ids of every length from 0 to 2100, empty segments, percent-encoded slashes;
- bodies valid by their schema but for a moment or day at the edge of what Python can hold
  (``0001-01-01T00:00:00+14:00``), so the date reaches the code past validation;
- tampered, foreign and garbage cursors on every list (never a 5xx, and never a page either),
  and every date query parameter extreme;
- validly signed tokens whose claims have the wrong types (groups as an int, a string or an
  object, an empty sub, a numeric merchant_id).

``FUZZ_TALLY=<examples per route>`` also runs the whole corpus without stopping at the first
failure, the same requests on every run, and prints how many of each route made a 5xx or had
a cursor the caller was never given accepted:

    FUZZ_TALLY=100 .venv/bin/python -m pytest -q tests/functional/test_fuzz.py -k whole_corpus
"""

import functools
import json
import os
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from urllib.parse import quote

import jwt
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib.api.openapi import document
from chalicelib.config import settings as app_settings
from chalicelib.jobs import JOBS
from scripts import seed
from scripts.token import mint

DOC = document(app)
COMPONENTS = DOC["components"]["schemas"]
OPERATIONS = [(path, method, op) for path, item in DOC["paths"].items() for method, op in item.items()]
OPERATION_IDS = [f"{m.upper()} {p}" for p, m, _ in OPERATIONS]
PATH_PARAMETER = re.compile(r"\{[^}]+\}")
#: Lists whose genuine cursors (given to the admin) the corpus tampers with and takes elsewhere.
GENUINE_LISTS = ("/v1/stores", "/v1/beacons")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)

# --- moments and days ---------------------------------------------------------------------

#: Valid ISO-8601 moments whose UTC form is outside what Python's datetime holds, and others
#: merely absurd for a loyalty program.
EXTREME_MOMENTS = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:30:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999+00:00",
    "1970-01-01T00:00:00Z",
    "2100-01-01T00:00:00Z",
]
EXTREME_DAYS = ["0001-01-01", "9999-12-31", "1899-12-31", "2100-01-01", "1970-01-01"]
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.one_of(
    st.sampled_from(EXTREME_MOMENTS),
    st.datetimes(timezones=offsets).map(datetime.isoformat),
    st.datetimes(datetime(2020, 1, 1), datetime(2035, 1, 1), timezones=offsets).map(datetime.isoformat),
)
days = st.one_of(
    st.sampled_from(EXTREME_DAYS),
    st.dates().map(date.isoformat),
    st.dates(date(1930, 1, 1), date(2035, 1, 1)).map(date.isoformat),
)


# --- bodies valid by their schema (so an extreme date gets past validation) ----------------


def python_regex(pattern):
    """Whether Python's ``re`` reads the pattern (JSON Schema's Unicode classes, ``\\p{L}``, it does not):
    such a field is drawn as plain text, which the service's own check then judges."""
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def schema_values(schema):
    """Values that mostly pass ``schema``; dates and moments drawn from the extreme corpus too."""
    if "$ref" in schema:
        return schema_values(COMPONENTS[schema["$ref"].rsplit("/", 1)[1]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            return st.one_of([schema_values(s) for s in schema[combined]])
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "date-time":
            return moments
        if schema.get("format") == "date":
            return days
        shortest, longest = schema.get("minLength", 0), min(schema.get("maxLength", 40), 80)
        if "pattern" in schema and python_regex(schema["pattern"]):
            return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: shortest <= len(s) <= longest)
        return st.text(min_size=shortest, max_size=max(shortest, longest))
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", -(2**40)) + 1)
        high = schema.get("maximum", schema.get("exclusiveMaximum", 2**40) - 1)
        return st.integers(low, high)
    if kind == "number":
        return st.floats(
            schema.get("minimum", schema.get("exclusiveMinimum")),
            schema.get("maximum", schema.get("exclusiveMaximum")),
            exclude_min="exclusiveMinimum" in schema,
            exclude_max="exclusiveMaximum" in schema,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        items = schema_values(schema.get("items", {}))
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 3), 3))
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        if not properties:
            return st.dictionaries(st.text(max_size=12), json_values, max_size=3)
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: schema_values(v) for k, v in properties.items() if k in required},
            optional={k: schema_values(v) for k, v in properties.items() if k not in required},
        )
    return json_values


def body_strategy(op):
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = COMPONENTS[ref.rsplit("/", 1)[1]]
    fields = list(schema.get("properties", {}))
    near_valid = st.fixed_dictionaries({}, optional=dict.fromkeys(fields, json_values))
    as_text = st.one_of(json_values, near_valid, schema_values(schema)).map(json.dumps)
    return st.one_of(as_text, st.text(max_size=60), st.binary(max_size=60).map(lambda b: b.decode("latin-1")))


# --- path ids ------------------------------------------------------------------------------


def repeated_to(length, chunk):
    return (chunk * (length // len(chunk) + 1))[:length]


#: Each is quoted into the path, so "/" arrives percent-encoded and "" is an empty segment.
odd_ids = st.sampled_from(["", "/", "//", "a/b", "%2F", "%", "%00", ".", "..", "../admin", " ", "\u00e9", "\x00"])
path_ids = st.one_of(
    odd_ids,
    st.builds(repeated_to, st.integers(0, 2100), st.sampled_from(["a", "7", "/", "%2F", "\u00e9", "-_"])),
    st.builds(repeated_to, st.integers(0, 2100), st.text(min_size=1, max_size=8)),
    st.text(min_size=1, max_size=40),
)


def fill_path(path, value):
    return PATH_PARAMETER.sub(lambda _: quote(value, safe=""), path)


# --- cursors -------------------------------------------------------------------------------


def b64(value):
    import base64

    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def tampered(cursor):
    return st.sampled_from(
        [
            cursor,
            cursor[:-1],
            cursor + "x",
            cursor[::-1],
            cursor.upper(),
            ("A" if cursor[:1] != "A" else "B") + cursor[1:],
            cursor[: len(cursor) // 2],
        ]
    )


def cursor_strategy(genuine, customer_ids):
    """Cursors this route's caller was never given: tampered, another list's or caller's, junk,
    and raw storage keys naming the caller's own member with values of the wrong types."""
    decoded_keys = [
        {"customer_id": {"S": customer_id}, "entry_id": wrong}
        for customer_id in (*customer_ids, "c_1")
        for wrong in ({"S": ""}, {"S": None}, [1, 2], {"N": "1"}, {"S": {"S": "x"}}, "x", None)
    ]
    return st.one_of(
        st.sampled_from(genuine),
        st.sampled_from(genuine).flatmap(tampered),
        st.sampled_from([b64(k) for k in decoded_keys] + [b64([]), b64({}), b64("x"), b64(None), "null", "0"]),
        st.builds(b64, json_values),
        st.text(min_size=1, max_size=300),
    )


def query_strategy(op, genuine_cursors, customer_ids):
    parameters = {}
    for p in op["parameters"]:
        if p["in"] != "query":
            continue
        if p["name"] == "cursor":
            values = cursor_strategy(genuine_cursors, customer_ids)
        elif p["schema"].get("format") == "date":
            values = days
        else:
            values = st.one_of(schema_values(p["schema"]).map(lambda v: None if v is None else str(v)), st.text())
        parameters[p["name"]] = values
    if not parameters:
        return st.just({})
    return st.fixed_dictionaries({}, optional=parameters).map(lambda q: {k: v for k, v in q.items() if v is not None})


# --- tokens --------------------------------------------------------------------------------

#: Claims a pool could sign that are not the types this API reads: never an identity.
WRONG_CLAIMS = [
    {"cognito:groups": 1},
    {"cognito:groups": "{role}"},
    {"cognito:groups": {"{role}": True}},
    {"cognito:groups": ["{role}", 7]},
    {"sub": ""},
    {"sub": 42},
    {"sub": None},
    {"merchant_id": 7},
    {"merchant_id": ""},
    {"merchant_id": ["m_kiez"]},
    {"store_id": {"id": "s_kiez_mitte"}},
]


def signed(claims):
    return jwt.encode(claims, app_settings().dev_jwt_secret, algorithm="HS256")


def role_of(op):
    roles = op.get("x-roles")
    return roles[0] if roles else None


@functools.cache
def good_token(role):
    return mint("fuzz-" + role, [role], merchant_id="m_kiez" if role != "customer" else None)


def token_strategy(op):
    role = role_of(op)
    if role is None:
        return st.none()
    base = {"sub": "fuzz-" + role, "cognito:groups": [role], "exp": int(time.time()) + 3600}
    if role != "customer":
        base["merchant_id"] = "m_kiez"
    wrong = [signed({**base, **json.loads(json.dumps(c).replace("{role}", role))}) for c in WRONG_CLAIMS]
    return st.one_of(st.just(good_token(role)), st.sampled_from(wrong))


# --- the corpus, route by route ------------------------------------------------------------


def prepare(api):
    """A member, a promotion, an offer and a purchase, so routes reach their deeper code; the
    ids of real things to put into paths, and what cursors are made of (genuine ones to tamper
    with, the member's own customer id)."""
    marketer, admin = mint("fuzz-marketer", ["marketer"], "m_kiez"), mint("fuzz-admin", ["admin"])
    joined = api.call(
        "POST",
        "/v1/me",
        mint("fuzz-customer", ["customer"]),
        {"name": "Fuzz", "phone": "0151 55566677", "birthday": "1990-01-01", "marketing_consent": True},
    ).json_body
    window = {"valid_from": "2026-01-01T00:00:00Z", "valid_to": "2027-01-01T00:00:00Z"}
    promotion = api.call("POST", "/v1/promotions", marketer, {"name": "P", "multiplier_percent": 200, **window})
    offer = api.call(
        "POST",
        "/v1/offers",
        marketer,
        {"title": "O", "trigger": {"type": "checkin"}, "reward": {"type": "bonus_points", "points": 5}, **window},
    )
    purchase = api.call(
        "POST",
        "/v1/purchases",
        api.cashier(),
        {"card": joined["card_number"], "store_id": "s_kiez_mitte", "amount": 1000, "currency": "EUR"},
        headers={"Idempotency-Key": "fuzz-purchase"},
    )
    known = [*JOBS, *(s.store_id for s in seed.STORES), *(b.beacon_id for b in seed.BEACONS)]
    known += [r.json_body[k] for r, k in ((promotion, "promotion_id"), (offer, "offer_id"), (purchase, "purchase_id"))]
    genuine = {path: api.call("GET", f"{path}?limit=1", admin).json_body["next_cursor"] for path in GENUINE_LISTS}
    return known, Cursors({path: c for path, c in genuine.items() if c}, [joined["customer_id"]])


@dataclass(frozen=True)
class Cursors:
    #: The list path each was given for, to the admin (sub ``fuzz-admin``).
    genuine: dict[str, str]
    customer_ids: list[str]


def request_strategy(path, op, known_ids, cursors):
    return st.fixed_dictionaries(
        {
            "body": body_strategy(op) if "requestBody" in op else st.none(),
            "segment": st.one_of(st.sampled_from(known_ids), path_ids),
            "query": query_strategy(op, list(cursors.genuine.values()), cursors.customer_ids),
            "token": token_strategy(op),
        }
    )


def forged_cursor_accepted(path, op, request, cursors, response):
    """A 2xx to a cursor that is not the one this list gave this caller."""
    cursor = request["query"].get("cursor")
    if cursor is None or not 200 <= response.status_code < 300:
        return False
    role = role_of(op)
    return not (cursors.genuine.get(path) == cursor and role and request["token"] == good_token(role))


def send(api, path, method, request):
    url = fill_path(path, request["segment"])
    if request["query"]:
        url += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in request["query"].items())
    return url, api.call(method.upper(), url, request["token"], raw=request["body"])


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=OPERATION_IDS)
def test_no_generated_request_makes_a_5xx(api, path, method, op):
    known_ids, cursors = prepare(api)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(request=request_strategy(path, op, known_ids, cursors))
    def check(request):
        url, response = send(api, path, method, request)
        assert response.status_code < 500, (url, request, response.body)
        assert not forged_cursor_accepted(path, op, request, cursors, response), (url, request, response.body)
        # API Gateway (and chalice's local one) answers a path no route matches, such as an
        # empty id segment (/v1/cards/), itself, marked so; only our answers carry our body.
        if response.status_code >= 400 and "x-amzn-ErrorType" not in response.headers:
            assert set(response.json_body["error"]) >= {"code", "message"}

    check()


def count_5xx(api, path, method, op, examples, known_ids, cursors):
    """Requests, 5xx and forged cursors accepted of ``examples`` requests from the corpus, the
    same ones on every run."""
    counts = {"requests": 0, "5xx": 0, "forged": 0}

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(request=request_strategy(path, op, known_ids, cursors))
    def count(request):
        _, response = send(api, path, method, request)
        counts["requests"] += 1
        counts["5xx"] += response.status_code >= 500
        counts["forged"] += forged_cursor_accepted(path, op, request, cursors, response)

    count()
    return counts["requests"], counts["5xx"], counts["forged"]


@pytest.mark.skipif("FUZZ_TALLY" not in os.environ, reason="FUZZ_TALLY=<examples per route> runs the tally")
def test_the_whole_corpus_makes_no_5xx_on_any_route(api, capsys):
    """Every route, a fixed number of examples each, counted instead of stopped at the first 5xx."""
    examples = int(os.environ["FUZZ_TALLY"])
    known_ids, cursors = prepare(api)
    # One store for all routes: the deletes go last, or leaving the program would leave the
    # member's routes nothing but 404s to answer.
    routes = sorted(zip(OPERATIONS, OPERATION_IDS, strict=True), key=lambda route: route[0][1] == "delete")
    tally = {
        name: count_5xx(api, path, method, op, examples, known_ids, cursors) for (path, method, op), name in routes
    }
    totals = [sum(column) for column in zip(*tally.values(), strict=True)]
    with capsys.disabled():
        print(f"\n{'route':<45} {'requests':>8} {'5xx':>5} {'forged cursor accepted':>23}")
        for name, (requests, errors, forged) in [*tally.items(), ("total", totals)]:
            print(f"{name:<45} {requests:>8} {errors:>5} {forged:>23}")
    assert totals[1:] == [0, 0], {name: counts for name, counts in tally.items() if any(counts[1:])}
