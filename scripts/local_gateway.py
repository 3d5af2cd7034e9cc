"""The local stand-in for API Gateway (chalice's dev server), made to answer as ours does on AWS.

- An unknown route is a 404 with API.md's error body, as ``infra/gateway_responses.json`` makes
  API Gateway answer instead of its 403 "Missing Authentication Token" (and chalice's local copy
  of it, which even echoes the Authorization header back).
- A method outside the seven API Gateway routes (TRACE, CONNECT, PROPFIND, ...) on a known path is
  a 405 with ``Allow`` and the error body, not the dev server's 501 HTML page; the seven are
  routed by the app itself (``chalicelib.api.http.answer_undeclared_methods``).
- HEAD gets the headers and no content (RFC 9110), so a kept-alive connection stays in step.

``scripts.serve`` serves through it and the functional tests' client routes through it.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGateway,
    LocalGatewayException,
    ThreadedHTTPServer,
)

from chalicelib.api.http import GATEWAY_METHODS, allowed_methods, method_not_allowed_response
from chalicelib.errors import NotFound

_JSON = {"Content-Type": "application/json"}


class RouteNotFound(LocalGatewayException):
    CODE = 404


class MethodNotRouted(LocalGatewayException):
    CODE = 405


def route_not_found_body() -> bytes:
    """The same body as the MISSING_AUTHENTICATION_TOKEN gateway response in infra/."""
    return json.dumps(NotFound("no such route", code="route_not_found").body()).encode()


class Gateway(LocalGateway):
    def handle_request(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        if method not in GATEWAY_METHODS:
            route = self._route(path)
            response = method_not_allowed_response(method, allowed_methods(self._app_object.routes[route]))
            raise MethodNotRouted(dict(response.headers), response.body.encode())
        return super().handle_request(method, path, headers, body)

    def _generate_lambda_event(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        self._route(path)
        return super()._generate_lambda_event(method, path, headers, body)

    def _route(self, path: str) -> str:
        try:
            return str(self.event_converter._route_matcher.match_route(path).route)
        except ValueError:
            raise RouteNotFound(dict(_JSON), route_not_found_body()) from None


class RequestHandler(ChaliceRequestHandler):
    def __init__(
        self, request: Any, client_address: Any, server: HTTPServer, app_object: Chalice, config: Config
    ) -> None:
        # chalice's handler builds its own gateway here, and the base class serves the request at once.
        self.local_gateway = Gateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def __getattr__(self, name: str) -> Any:
        # http.server answers 501 for a method without a do_<METHOD>; every method goes to the gateway.
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def _send_http_response_with_body(self, code: int, headers: Any, body: str | bytes) -> None:
        if self.command != "HEAD":
            super()._send_http_response_with_body(code, headers, body)
            return
        self.send_response(code)
        self.send_header("Content-Length", str(len(body.encode() if isinstance(body, str) else body)))
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        self._send_headers(headers)


def local_server(
    app: Chalice,
    config: Config,
    host: str,
    port: int,
    handler_cls: type[RequestHandler] = RequestHandler,
    server_cls: type[ThreadedHTTPServer] = ThreadedHTTPServer,
) -> LocalDevServer:
    """chalice.local.create_local_server with the handler above (or a subclass of it)."""
    if not isinstance(app, LocalChalice):  # once: its current_request becomes per thread
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=handler_cls, server_cls=server_cls)
