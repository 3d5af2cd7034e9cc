"""Chalice's local HTTP server, with our structured access line as its only request log.

``BaseHTTPRequestHandler`` writes every raw request line to stderr, and a request line is the full
path: the phone number or QR payload of ``GET /v1/cards/{code}``, a ledger ``?cursor=``, a device
token. The app's middleware already writes one line per request with the route template, status,
duration and request id, so the server's own lines are dropped; protocol errors and crashes keep
a line of their own, without the request.
"""

from __future__ import annotations

import sys
from typing import Any

import structlog
from chalice.app import Chalice
from chalice.config import Config
from chalice.local import LocalDevServer, ThreadedHTTPServer

from scripts.local_gateway import RequestHandler, local_server

log = structlog.get_logger("loyalty.http")


class PrivateRequestHandler(RequestHandler):
    #: The server writes headers and body separately: without TCP_NODELAY, Nagle and the client's
    #: delayed ACK add ~40 ms to every kept-alive request.
    disable_nagle_algorithm = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """The middleware's access line replaces this one (which holds the raw path)."""

    def log_error(self, format: str, *args: Any) -> None:
        # ``send_error`` passes the status and a message that may quote the request line.
        status = args[0] if args and isinstance(args[0], int) else None
        log.warning("http_protocol_error", status=status)

    def log_message(self, format: str, *args: Any) -> None:
        """Anything else the base class would print carries the request line too."""


class PrivateServer(ThreadedHTTPServer):
    #: Deeper than socketserver's 5, so a burst of tills is queued rather than refused.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints the traceback, whose exception message may quote the request.
        error = sys.exc_info()[1]
        log.error("request_failed", error_type=type(error).__name__ if error else None)


def create(app: Chalice, host: str, port: int) -> LocalDevServer:
    config = Config.create(chalice_stage="dev", app_name="loyalty")
    return local_server(app, config, host, port, handler_cls=PrivateRequestHandler, server_cls=PrivateServer)
