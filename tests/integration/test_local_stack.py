"""The local stack end to end, as a user meets it: real HTTP against ``python -m scripts.serve``.

DynamoDB Local, the demo seed and the Chalice dev server all run for real; the stack is stopped
with SIGTERM and started again on the same data directory to prove the data survives.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

from scripts.token import mint

if TYPE_CHECKING:
    from .conftest import LocalStack

REQUEST_TIMEOUT_S = 10.0

PHONE_TYPED = "0151 11122233"
PHONE_SAID = "0151 111 222 33"
PHONE_E164 = "+4915111122233"
CASHIER_TOKEN = mint("demo-cashier-mitte", ["cashier"], merchant_id="m_kiez", store_id="s_kiez_mitte")
CASHIER = {"Authorization": f"Bearer {CASHIER_TOKEN}"}


def customer(sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(sub, ['customer'])}"}


def new_sub() -> str:
    return f"it-{uuid.uuid4().hex[:12]}"


def call(method: str, stack: LocalStack, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, stack.url(path), timeout=REQUEST_TIMEOUT_S, **kwargs)


def join_body(name: str) -> dict[str, Any]:
    return {"name": name, "phone": PHONE_TYPED, "birthday": "1991-02-03", "marketing_consent": True}


def assert_error(response: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error


def lookup(stack: LocalStack, code: str) -> requests.Response:
    return call("GET", stack, f"/cards/{quote(code, safe='')}", headers=CASHIER)


def test_join_card_lookup_restart_and_leave(running: LocalStack) -> None:
    stack = running
    sub = new_sub()
    me = customer(sub)

    # Join.
    joined = call("POST", stack, "/me", headers=me, json=join_body("Ida Integration"))
    assert joined.status_code == 201, joined.text
    profile = joined.json()
    assert profile["customer_id"]
    assert profile["card_number"].isdigit()
    assert len(profile["card_number"]) == 10
    assert profile["referral_code"]
    assert profile["tier"] == "Bronze"
    assert profile["points_balance"] == 0
    assert profile["phone"] == PHONE_E164
    assert profile["name"] == "Ida Integration"
    assert profile["birthday"] == "1991-02-03"
    assert profile["marketing_consent"] is True
    customer_id, card_number = profile["customer_id"], profile["card_number"]

    again = call("POST", stack, "/me", headers=me, json=join_body("Ida Integration"))
    assert_error(again, 409, "already_member")

    # The card, and the till finding it three ways.
    card = call("GET", stack, "/me/card", headers=me)
    assert card.status_code == 200, card.text
    card_body = card.json()
    assert card_body["card_number"] == card_number
    assert card_body["qr_payload"].startswith("LC2.")
    assert card_body["expires_at"]

    for code in (
        card_body["qr_payload"],
        card_body["card_number_display"],
        f"{card_number[:3]} {card_number[3:6]} {card_number[6:]}",
        PHONE_SAID,
    ):
        found = lookup(stack, code)
        assert found.status_code == 200, f"{code!r}: {found.status_code} {found.text}"
        summary = found.json()
        assert summary["customer_id"] == customer_id, code
        assert summary["card_number"] == card_number, code
        assert summary["points_balance"] == 0

    # Stop with SIGTERM (clean exit, nothing left behind), start again on the same data.
    stack.stop()
    stack.start()

    after = call("GET", stack, "/me", headers=me)
    assert after.status_code == 200, after.text
    assert after.json()["customer_id"] == customer_id
    assert after.json()["card_number"] == card_number
    assert after.json()["phone"] == PHONE_E164

    stores = call("GET", stack, "/stores", headers=CASHIER)
    assert stores.status_code == 200, stores.text
    assert sorted(s["store_id"] for s in stores.json()["items"]) == [
        "s_kiez_kreuzberg",
        "s_kiez_mitte",
        "s_nordlicht_alex",
    ]
    assert stores.json()["next_cursor"] is None
    assert stack.log_path is not None
    assert "seed demo data: already written on" in stack.log_path.read_text(), stack.log_text()
    assert lookup(stack, PHONE_SAID).json()["customer_id"] == customer_id

    # Leave: the profile is gone, and the phone is free for someone else.
    left = call("DELETE", stack, "/me", headers=me)
    assert left.status_code == 204, left.text
    assert left.content == b""
    assert_error(call("GET", stack, "/me", headers=me), 404)
    assert_error(lookup(stack, PHONE_SAID), 404)
    assert_error(lookup(stack, card_body["card_number_display"]), 404)

    newcomer = call("POST", stack, "/me", headers=customer(new_sub()), json=join_body("Ida Again"))
    assert newcomer.status_code == 201, newcomer.text
    assert newcomer.json()["phone"] == PHONE_E164
    assert newcomer.json()["customer_id"] != customer_id
    assert newcomer.json()["card_number"] != card_number
    assert lookup(stack, PHONE_SAID).json()["customer_id"] == newcomer.json()["customer_id"]


def test_parallel_profile_reads(running: LocalStack) -> None:
    headers = customer("alice")  # a demo member from the seed

    def read(_: int) -> tuple[int, str]:
        response = call("GET", running, "/me", headers=headers)
        return response.status_code, response.json().get("customer_id", response.text)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(read, range(20)))
    assert [status for status, _ in results] == [200] * 20, results
    assert len({customer_id for _, customer_id in results}) == 1


def test_bad_input_over_http(running: LocalStack) -> None:
    headers = {**customer(new_sub()), "Content-Type": "application/json"}

    malformed = call("POST", running, "/me", headers=headers, data=b'{"name": "Ida", "phone": ')
    assert_error(malformed, 400, "malformed_json")

    body = {**join_body("Ida Large"), "name": "x" * (17 * 1024)}
    too_large = call("POST", running, "/me", headers=headers, data=json.dumps(body).encode())
    assert len(json.dumps(body)) > 16 * 1024
    assert_error(too_large, 413)

    assert_error(call("GET", running, "/me"), 401)
    assert_error(call("POST", running, "/me", json=join_body("Nobody")), 401)
