"""The edges of the HTTP surface: an unknown route is a 404 and a method a path does not declare is a
405 with Allow, both with API.md's error body; through the test client, the real local server and
(as far as it can be read here) what AWS is told."""

import json
import threading
from pathlib import Path

import pytest
import requests
from chalice.config import Config

from app import app
from chalicelib.api.http import GATEWAY_METHODS
from chalicelib.api.openapi import document
from scripts.local_gateway import local_server, route_not_found_body

ROOT = Path(__file__).resolve().parents[2]
DOC = document(app)
UNDECLARED = [
    (path, method, sorted(m.upper() for m in item))
    for path, item in DOC["paths"].items()
    for method in GATEWAY_METHODS
    if method.lower() not in item and method != "OPTIONS"
]


def allow_of(declared):
    return ", ".join(sorted({*declared, "OPTIONS"}))


def assert_error_body(response, code):
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.body if hasattr(response, "body") else response.content)
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.mark.parametrize("path", ["/v1/nothing", "/v1/me/nothing/here", "/", "/v2/me", "/v1/cards"])
@pytest.mark.parametrize("with_token", [False, True])
def test_an_unknown_route_is_404_with_the_error_body_and_never_echoes_the_token(api, path, with_token):
    token = api.customer("alice") if with_token else None
    response = api.call("GET", path, token)
    assert response.status_code == 404
    assert_error_body(response, "route_not_found")
    assert token is None or token not in response.body.decode()


@pytest.mark.parametrize(("path", "method", "declared"), UNDECLARED, ids=[f"{m} {p}" for p, m, _ in UNDECLARED])
def test_a_method_the_path_does_not_declare_is_405_with_allow(api, path, method, declared):
    response = api.call(method, path.replace("{", "x").replace("}", ""), api.customer("alice"))
    assert response.status_code == 405
    assert response.headers["Allow"] == allow_of(declared)
    if method != "HEAD":
        assert_error_body(response, "method_not_allowed")


@pytest.mark.parametrize("path", sorted(DOC["paths"]))
def test_options_answers_the_allowed_methods(api, path):
    response = api.call("OPTIONS", path.replace("{", "x").replace("}", ""))
    assert response.status_code == 204
    assert response.headers["Allow"] == allow_of(m.upper() for m in DOC["paths"][path])


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "QUERY"])
def test_a_method_api_gateway_does_not_route_is_405_too(api, method):
    response = api.call(method, "/v1/me/card", api.customer("alice"))
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, OPTIONS"
    assert_error_body(response, "method_not_allowed")


def test_every_path_routes_every_gateway_method_so_aws_hands_them_to_the_app():
    # API Gateway answers a method nobody declared itself (403); declared, it reaches our 405.
    for path, routed in app.routes.items():
        assert set(GATEWAY_METHODS) <= set(routed), path


def test_the_aws_gateway_response_for_unknown_routes_is_a_404_with_the_local_body():
    template = json.loads((ROOT / "infra" / "gateway_responses.json").read_text())
    responses = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::GatewayResponse"]
    [missing_route] = [r for r in responses if r["Properties"]["ResponseType"] == "MISSING_AUTHENTICATION_TOKEN"]
    props = missing_route["Properties"]
    assert props["StatusCode"] == "404"
    assert props["RestApiId"] == {"Ref": "RestAPI"}, "the logical id chalice package gives the API"
    assert json.loads(props["ResponseTemplates"]["application/json"]) == json.loads(route_not_found_body())


@pytest.fixture(scope="module")
def server():
    """The dev server scripts.serve runs, in a thread (these answers never reach the store)."""
    dev = local_server(app, Config.create(chalice_stage="dev", app_name="loyalty"), "127.0.0.1", 0)
    thread = threading.Thread(target=dev.server.serve_forever, daemon=True)
    thread.start()
    host, port = dev.server.server_address[:2]
    yield f"http://{host}:{port}"
    dev.server.shutdown()
    dev.server.server_close()


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "PUT"])
def test_the_local_server_answers_any_method_on_a_known_path_with_a_json_405(server, method):
    response = requests.request(method, f"{server}/v1/health", timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, OPTIONS"
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("method", ["GET", "TRACE", "DELETE"])
def test_the_local_server_answers_an_unknown_route_with_a_json_404(server, method):
    response = requests.request(method, f"{server}/v1/nothing", headers={"Authorization": "Bearer secret"}, timeout=5)
    assert response.status_code == 404
    assert response.json() == json.loads(route_not_found_body())
    assert "secret" not in response.text


def test_the_local_server_answers_head_without_content_and_keeps_the_connection_in_step(server):
    with requests.Session() as session:
        head = session.head(f"{server}/v1/health", timeout=5)
        assert head.status_code == 405
        assert head.content == b""
        # Content left on the wire after a HEAD would be read as the next response's start.
        after = session.get(f"{server}/v1/openapi.json", timeout=5)
        assert after.status_code == 200
        assert after.json()["openapi"].startswith("3.1")
