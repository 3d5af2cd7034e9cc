"""No log line of the real server names a member: only route templates, statuses and ids.

Drives ``python -m scripts.serve`` through everything that carries personal data in a path, a
query or a body (join, the till's lookups by phone in several formats and by QR payload, a
ledger page by cursor, a device token, a geo check-in, a malformed request line) and then reads
everything the server and DynamoDB Local wrote.
"""

from __future__ import annotations

import socket
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

from scripts.token import mint

if TYPE_CHECKING:
    from .conftest import LocalStack

TIMEOUT_S = 10.0
NAME = "Zora Quellenschutz"
PHONE_TYPED = "0151 5556 6677"
#: Formats the till accepts, and the bare digits a log might hold.
PHONE_FORMATS = ("0151 5556 6677", "+4915155566677", "015155566677", "+49 151 55566677", "0151-555-666-77")
PHONE_DIGITS = ("4915155566677", "15155566677")
LAT, LON = 52.53031, 13.40161  # inside the seeded Mitte store's geofence
CASHIER_TOKEN = mint("demo-cashier-mitte", ["cashier"], merchant_id="m_kiez", store_id="s_kiez_mitte")


def test_no_server_log_line_names_a_member(running: LocalStack) -> None:
    stack = running
    member_token = mint(f"it-{uuid.uuid4().hex[:12]}", ["customer"])
    me = {"Authorization": f"Bearer {member_token}"}
    till = {"Authorization": f"Bearer {CASHIER_TOKEN}"}

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, stack.url(path), timeout=TIMEOUT_S, **kwargs)

    joined = call(
        "POST",
        "/me",
        headers=me,
        json={"name": NAME, "phone": PHONE_TYPED, "birthday": "1990-01-02", "marketing_consent": True},
    )
    assert joined.status_code == 201, joined.text
    card = call("GET", "/me/card", headers=me).json()
    qr, card_number = card["qr_payload"], card["card_number"]

    for code in (*PHONE_FORMATS, qr, card_number):
        found = call("GET", f"/cards/{quote(code, safe='')}?amount=1250", headers=till)
        assert found.status_code == 200, f"{code}: {found.text}"
    for n in range(2):
        bought = call(
            "POST",
            "/purchases",
            headers={**till, "Idempotency-Key": f"privacy-{uuid.uuid4().hex}-{n}"},
            json={"card": qr, "store_id": "s_kiez_mitte", "amount": 1250 + n, "currency": "EUR"},
        )
        assert bought.status_code == 201, bought.text
    first = call("GET", "/me/ledger", headers=me, params={"limit": 1}).json()
    cursor = first["next_cursor"]
    assert cursor, first
    assert call("GET", "/me/ledger", headers=me, params={"limit": 1, "cursor": cursor}).status_code == 200

    device_token = f"fcm-{uuid.uuid4().hex}-private"
    assert call("POST", "/me/devices", headers=me, json={"token": device_token, "platform": "android"}).ok
    assert call("DELETE", f"/me/devices/{device_token}", headers=me).status_code == 204
    checkin = call("POST", "/me/checkins", headers=me, json={"type": "geo", "lat": LAT, "lon": LON, "accuracy_m": 10})
    assert checkin.status_code in (200, 201), checkin.text
    assert call("GET", "/me/export", headers=me).status_code == 200
    _malformed_request_line(stack, f"/v1/cards/{quote(PHONE_FORMATS[1], safe='')}")

    log = stack.log_text()
    # The log was captured: the access lines are there, by route template.
    assert '"route": "/v1/cards/{code}"' in log, log
    assert '"route": "/v1/me/devices/{token}"' in log, log
    secrets = {
        "name": NAME,
        **{f"phone {p!r}": p for p in PHONE_FORMATS},
        **{f"phone {p!r} in a URL": quote(p, safe="") for p in PHONE_FORMATS},
        **{f"phone digits {p!r}": p for p in PHONE_DIGITS},
        "QR payload": qr,
        "QR payload in a URL": quote(qr, safe=""),
        "card number": card_number,
        "cursor": cursor,
        "device token": device_token,
        "member's bearer token": member_token,
        "cashier's bearer token": CASHIER_TOKEN,
        "latitude": str(LAT),
        "longitude": str(LON),
    }
    leaked = {what: value for what, value in secrets.items() if value in log}
    assert not leaked, f"personal data in the server's output: {sorted(leaked)}"


def _malformed_request_line(stack: LocalStack, path: str) -> None:
    """A request line the HTTP server refuses (400) before the app sees it."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=TIMEOUT_S) as conn:
        conn.sendall(f"GET {path} HTTP/1.1 trailing-junk\r\nHost: x\r\n\r\n".encode())
        conn.recv(1024)  # the server's answer is not the point here; its log is
