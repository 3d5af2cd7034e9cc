"""Every error becomes API.md's body in one place; anything unexpected is a logged 500."""

import json

import pytest
from chalice.app import Blueprint, Chalice
from chalice.test import Client
from pynamodb.exceptions import GetError

from chalicelib import errors
from chalicelib.api.http import PUBLIC, Call, operation
from chalicelib.api.middleware import access_log


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
