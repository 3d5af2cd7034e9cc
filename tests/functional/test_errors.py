"""Every error becomes API.md's body in one place; anything unexpected is a logged 500."""

import importlib
import inspect
import json
import pkgutil

import pytest
from chalice.app import Blueprint, Chalice
from chalice.test import Client
from pynamodb.exceptions import GetError

import chalicelib.domain
import chalicelib.geo.fences
from chalicelib import errors
from chalicelib.api.http import PUBLIC, Call, operation
from chalicelib.api.middleware import access_log
from chalicelib.domain.errors import DomainRefusal, RefusalKind


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


ERROR_TYPES = sorted({errors.LoyaltyError, *all_subclasses(errors.LoyaltyError)}, key=lambda c: c.__name__)


def app_raising(exc: Exception) -> Chalice:
    bp = Blueprint(__name__)

    @operation(bp, "GET", "/boom", summary="raise", roles=PUBLIC)
    def boom(call: Call):
        raise exc

    app = Chalice(app_name="errors-test")
    app.register_middleware(access_log, "http")
    app.register_blueprint(bp)
    return app


def make(cls):
    if issubclass(cls, errors.InvalidField):
        return cls("field_x", "is wrong")
    if cls.__name__ == "CodeTaken":
        return cls("card")
    return cls("something went wrong")


@pytest.mark.parametrize("cls", ERROR_TYPES, ids=lambda c: c.__name__)
def test_every_error_type_renders_its_status_and_the_error_body(cls):
    with Client(app_raising(make(cls))) as client:
        response = client.http.get("/boom")
    assert response.status_code == cls.status
    body = json.loads(response.body)
    assert body["error"]["code"] == cls.code
    assert body["error"]["message"]


#: Where refusals are declared: every domain module, and the geofence rules.
RULE_MODULES = [
    *(importlib.import_module(f"chalicelib.domain.{m.name}") for m in pkgutil.iter_modules(chalicelib.domain.__path__)),
    chalicelib.geo.fences,
]
REFUSAL_TYPES = sorted({DomainRefusal, *all_subclasses(DomainRefusal)}, key=lambda c: c.__name__)
STATUS_OF_KIND = {
    RefusalKind.INVALID: 422,
    RefusalKind.EXPIRED: 410,
    RefusalKind.NOT_ISSUED: 400,
    RefusalKind.RATE_LIMITED: 429,
}


def refusal(cls):
    if cls.__name__ in ("PurchaseRejected", "RefundRejected"):
        return cls("field_x", "is wrong", "some_code")
    if cls.__name__ in ("InvalidRules", "InvalidGeofence"):
        return cls("field_x", "is wrong")
    return cls("is wrong", field="field_x")


def test_every_exception_the_domain_declares_is_a_domain_refusal_or_a_broken_invariant():
    declared = {
        cls
        for module in RULE_MODULES
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Exception) and cls.__module__ == module.__name__
    }
    # Spending more points than held is a bug of the caller (the quote caps it), never an input to refuse.
    invariants = {chalicelib.domain.points.NotEnoughPoints}
    assert declared - invariants == set(REFUSAL_TYPES)


@pytest.mark.parametrize("cls", REFUSAL_TYPES, ids=lambda c: c.__name__)
def test_every_domain_refusal_renders_as_the_error_body_naming_its_field(cls):
    raised = refusal(cls)
    with Client(app_raising(raised)) as client:
        response = client.http.get("/boom")
    assert response.status_code == STATUS_OF_KIND[cls.kind]
    error = json.loads(response.body)["error"]
    assert error["code"] == raised.code
    # A pace is about no field (a 429 body never had one); every other refusal names its field.
    assert error.get("field") == (None if cls.kind is RefusalKind.RATE_LIMITED else "field_x")
    # A 422 says which field in its message too, as every other InvalidField does.
    assert error["message"] == ("field_x: is wrong" if cls.kind is RefusalKind.INVALID else "is wrong")


def test_a_refusal_of_the_request_as_a_whole_names_the_body():
    with Client(app_raising(DomainRefusal("cannot be done"))) as client:
        response = client.http.get("/boom")
    assert response.status_code == 422
    assert json.loads(response.body)["error"] == {
        "code": "validation_error",
        "message": "body: cannot be done",
        "field": "body",
    }


def test_the_store_layer_errors_are_all_covered():
    from chalicelib.store.members import CodeTaken

    assert CodeTaken in ERROR_TYPES


def test_an_unexpected_exception_is_a_logged_500_with_the_error_body(capsys):
    with Client(app_raising(ZeroDivisionError("boom"))) as client:
        response = client.http.get("/boom")
    assert response.status_code == 500
    assert json.loads(response.body)["error"]["code"] == "internal_error"
    assert "boom" not in response.body.decode()
    assert "unhandled_error" in capsys.readouterr().out


def test_an_unreachable_database_is_a_503_not_a_500():
    with Client(app_raising(GetError("connection refused"))) as client:
        response = client.http.get("/boom")
    assert response.status_code == 503
    assert json.loads(response.body)["error"]["code"] == "store_unavailable"


def test_chalices_own_errors_get_the_same_body(api):
    response = api.call("POST", "/v1/me", api.customer("alice"), raw="x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json_body["error"]["code"] == "unsupported_media_type"


def test_an_unhandled_error_line_carries_its_requests_id(capsys):
    with Client(app_raising(ZeroDivisionError("boom"))) as client:
        first = client.http.get("/boom")
        second = client.http.get("/boom")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    errors_logged = [line for line in lines if line.get("event") == "unhandled_error"]
    accesses = [line for line in lines if line.get("event") == "request"]
    assert [e["request_id"] for e in errors_logged] == [a["request_id"] for a in accesses]
    assert [a["request_id"] for a in accesses] == [first.headers["X-Request-Id"], second.headers["X-Request-Id"]]
    assert accesses[0]["request_id"] != accesses[1]["request_id"]


def test_a_request_id_is_unbound_once_its_request_is_answered(capsys):
    import structlog

    with Client(app_raising(ZeroDivisionError("boom"))) as client:
        client.http.get("/boom")
    assert "request_id" not in structlog.contextvars.get_contextvars()
