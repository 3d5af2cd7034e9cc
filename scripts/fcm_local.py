"""A local endpoint speaking FCM HTTP v1, for the local stack and the tests (Google cannot be reached).

    python -m scripts.fcm_local --port 9099        (``make run`` starts one itself)

``POST /v1/projects/{project}/messages:send`` takes Google's request (``{"message": {...},
"validate_only"?}``), checks it as FCM does (exactly one target; data values are strings;
notification fields are strings; the payload within 4,096 bytes) and answers
``{"name": "projects/{project}/messages/{id}"}``, or an error in Google's own JSON (``status``,
``details`` with the ``FcmError`` code), as the Firebase Admin SDK parses it.

It can be told to fail, to show what the backend does then (the control API, not FCM's):

- ``PUT /_local/tokens/{token}`` ``{"error": "UNREGISTERED" | "INVALID_ARGUMENT" | "QUOTA_EXCEEDED" |
  "UNAVAILABLE" | "INTERNAL" | "SENDER_ID_MISMATCH", "times"?: n, "retry_after_s"?: s}``: that token's
  sends answer the error (the next ``n`` sends, then succeed; for ever without ``times``);
  ``DELETE /_local/tokens/{token}`` forgets it.
- Tokens that start with ``dead-`` are always ``UNREGISTERED`` (an uninstalled app, for demos).
- ``GET /_local/messages[?token=]``: ``{"messages": [{"name", "received_at", "message"}]}``, what it
  accepted, oldest first; ``DELETE /_local`` forgets messages and errors.

No request is logged: the requests carry device tokens.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

MAX_PAYLOAD_BYTES = 4096
DEAD_PREFIX = "dead-"
SEND_PATH = re.compile(r"^/v1/projects/([^/]+)/messages:send$")
TOKEN_PATH = re.compile(r"^/_local/tokens/(.+)$")

#: Google's HTTP status and canonical status per error the endpoint can answer.
ERRORS: dict[str, tuple[int, str, str]] = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Send requests'."),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
}


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []
        #: token -> {"error", "times" (None: for ever), "retry_after_s"}
        self.failures: dict[str, dict[str, Any]] = {}

    def failure_for(self, token: str) -> dict[str, Any] | None:
        if token.startswith(DEAD_PREFIX):
            return {"error": "UNREGISTERED"}
        with self.lock:
            rule = self.failures.get(token)
            if rule is None:
                return None
            if rule.get("times") is not None:
                if rule["times"] <= 0:
                    del self.failures[token]
                    return None
                rule["times"] -= 1
            return dict(rule)


def error_body(error: str, message: str | None = None, field: str | None = None) -> tuple[int, dict[str, Any]]:
    status, canonical, text = ERRORS[error]
    details: list[dict[str, Any]] = []
    if error in ("UNREGISTERED", "QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL", "SENDER_ID_MISMATCH"):
        details.append({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error})
    if error == "INVALID_ARGUMENT":
        details.append(
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "INVALID_ARGUMENT"}
        )
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field or "message.token", "description": message or text}],
            }
        )
    return status, {"error": {"code": status, "message": message or text, "status": canonical, "details": details}}


def invalid(message: str, field: str) -> tuple[int, dict[str, Any]]:
    return error_body("INVALID_ARGUMENT", message, field)


def check_message(message: Any) -> tuple[int, dict[str, Any]] | None:
    """FCM's own checks on a message, as far as the backend can get them wrong."""
    if not isinstance(message, dict):
        return invalid("message must be an object", "message")
    targets = [k for k in ("token", "fid", "topic", "condition") if k in message]
    if len(targets) != 1:
        return invalid("exactly one of token, fid, topic or condition is required", "message")
    if "token" in message and (not isinstance(message["token"], str) or not message["token"]):
        return invalid("The registration token is not a valid FCM registration token", "message.token")
    data = message.get("data", {})
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return invalid("data values must be strings", "message.data")
    notification = message.get("notification", {})
    if not isinstance(notification, dict) or not all(isinstance(v, str) for v in notification.values()):
        return invalid("notification fields must be strings", "message.notification")
    for part in ("android", "apns", "webpush"):
        if part in message and not isinstance(message[part], dict):
            return invalid(f"{part} must be an object", f"message.{part}")
    payload = len(json.dumps({"notification": notification, "data": data}, ensure_ascii=False).encode())
    if payload > MAX_PAYLOAD_BYTES:
        return invalid(f"Message is too big: {payload} bytes, the limit is {MAX_PAYLOAD_BYTES}", "message")
    return None


def make_handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the SDK's pooled connections are reused

        def log_message(self, format: str, *args: Any) -> None:
            pass  # requests carry device tokens

        def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            return json.loads(raw) if raw else None

        def do_POST(self) -> None:
            match = SEND_PATH.match(urlsplit(self.path).path)
            if match is None:
                self._answer(404, {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}})
                return
            try:
                request = self._body()
            except ValueError:
                self._answer(*invalid("Invalid JSON payload received.", "message"))
                return
            message = request.get("message") if isinstance(request, dict) else None
            problem = check_message(message)
            if problem is not None:
                self._answer(*problem)
                return
            assert isinstance(message, dict)
            rule = state.failure_for(str(message.get("token") or message.get("fid") or ""))
            if rule is not None:
                status, body = error_body(rule["error"])
                headers = {}
                if rule.get("retry_after_s") is not None:
                    headers["Retry-After"] = str(int(rule["retry_after_s"]))
                self._answer(status, body, headers)
                return
            name = f"projects/{match.group(1)}/messages/0:{uuid.uuid4().int % 10**16:016d}"
            if not request.get("validate_only"):
                with state.lock:
                    state.messages.append(
                        {"name": name, "received_at": datetime.now(UTC).isoformat(), "message": message}
                    )
            self._answer(200, {"name": name})

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/_local/messages":
                self._answer(404, {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}})
                return
            token = parse_qs(url.query).get("token", [None])[0]
            with state.lock:
                found = [
                    m
                    for m in state.messages
                    if token is None or token in (m["message"].get("token"), m["message"].get("fid"))
                ]
            self._answer(200, {"messages": found})

        def do_PUT(self) -> None:
            match = TOKEN_PATH.match(urlsplit(self.path).path)
            try:
                rule = self._body()
            except ValueError:
                rule = None
            if match is None or not isinstance(rule, dict) or rule.get("error") not in ERRORS:
                self._answer(400, {"error": f"PUT /_local/tokens/<token> {{error: one of {sorted(ERRORS)}}}"})
                return
            with state.lock:
                state.failures[unquote(match.group(1))] = {
                    "error": rule["error"],
                    "times": rule.get("times"),
                    "retry_after_s": rule.get("retry_after_s"),
                }
            self._answer(200, {"ok": True})

        def do_DELETE(self) -> None:
            path = urlsplit(self.path).path
            match = TOKEN_PATH.match(path)
            with state.lock:
                if match is not None:
                    state.failures.pop(unquote(match.group(1)), None)
                elif path == "/_local":
                    state.messages.clear()
                    state.failures.clear()
                else:
                    self._answer(404, {"error": "not found"})
                    return
            self._answer(200, {"ok": True})

    return Handler


class FcmServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # send_each opens up to 500 connections at once

    def __init__(self, host: str, port: int) -> None:
        self.state = State()
        super().__init__((host, port), make_handler(self.state))

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def start(host: str = "127.0.0.1", port: int = 0) -> tuple[FcmServer, threading.Thread]:
    """Serve in a daemon thread; port 0 picks a free one (``server.url`` says which)."""
    server = FcmServer(host, port)
    thread = threading.Thread(target=server.serve_forever, name="fcm-local", daemon=True)
    thread.start()
    return server, thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9099)
    args = parser.parse_args()
    server = FcmServer(args.host, args.port)
    print(f"FCM v1 endpoint on {server.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
