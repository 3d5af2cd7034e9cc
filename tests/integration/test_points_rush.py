"""Points are money, under contention, on the real DynamoDB Local over HTTP.

Sixteen tills redeem from one card at the same moment: each gets a success or a clear 4xx, never a
5xx, the balance never goes below zero, and it always equals the sum of the ledger.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import requests

from scripts.token import mint

if TYPE_CHECKING:
    from .conftest import LocalStack

CASHIER = {"Authorization": f"Bearer {mint('demo-cashier-mitte', ['cashier'], merchant_id='m_kiez')}"}
TILLS = 16


def new_member(stack: LocalStack, phone: str) -> tuple[dict[str, str], dict[str, Any]]:
    sub = f"rush-{uuid.uuid4().hex[:10]}"
    headers = {"Authorization": f"Bearer {mint(sub, ['customer'])}"}
    body = {"name": "Rush", "phone": phone, "birthday": "1990-01-01", "marketing_consent": True}
    response = requests.post(stack.url("/me"), json=body, headers=headers, timeout=10)
    assert response.status_code == 201, response.text
    return headers, response.json()


def purchase(stack: LocalStack, card: str, amount: int, redeem: int, key: str) -> requests.Response:
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR", "redeem_points": redeem}
    return requests.post(stack.url("/purchases"), json=body, headers={**CASHIER, "Idempotency-Key": key}, timeout=30)


def full_ledger(stack: LocalStack, headers: dict[str, str]) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = requests.get(stack.url("/me/ledger"), params=params, headers=headers, timeout=10).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def rush(calls: list[Any]) -> list[requests.Response]:
    start = threading.Barrier(len(calls))

    def run(call: Any) -> requests.Response:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_sixteen_tills_redeeming_from_one_card_never_overdraw_it(running: LocalStack) -> None:
    headers, member = new_member(running, "0151 40000001")
    card = member["card_number"]
    assert purchase(running, card, 100_000, 0, str(uuid.uuid4())).status_code == 201
    before = requests.get(running.url("/me"), headers=headers, timeout=10).json()["points_balance"]

    responses = rush([lambda: purchase(running, card, 1_000, 200, str(uuid.uuid4())) for _ in range(TILLS)])

    statuses = [r.status_code for r in responses]
    assert all(s < 500 for s in statuses), [r.text for r in responses if r.status_code >= 500]
    assert set(statuses) <= {201, 409, 422}, statuses
    for response in responses:
        if response.status_code != 201:
            assert response.json()["error"]["code"] in {"card_busy", "redeem_over_limit"}, response.text
    won = [r.json() for r in responses if r.status_code == 201]
    assert won, "at least one till must get through"
    after = requests.get(running.url("/me"), headers=headers, timeout=10).json()["points_balance"]
    assert after >= 0
    assert after == before + sum(w["points_earned"] - w["points_redeemed"] for w in won)
    ledger = full_ledger(running, headers)
    assert sum(e["points"] for e in ledger) == after
    assert ledger[0]["balance_after"] == after
    assert all(e["balance_after"] >= 0 for e in ledger)


def test_a_request_racing_its_own_retries_applies_once(running: LocalStack) -> None:
    headers, member = new_member(running, "0151 40000002")
    key = str(uuid.uuid4())
    responses = rush([lambda: purchase(running, member["card_number"], 5_000, 0, key) for _ in range(8)])
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    bodies = {r.text for r in responses}
    assert len({r.json()["purchase_id"] for r in responses}) == 1, bodies
    ledger = full_ledger(running, headers)
    assert len(ledger) == 1
    assert ledger[0]["points"] == responses[0].json()["points_earned"]


def test_the_settlement_counts_purchases_from_the_ledgers_stream(running: LocalStack) -> None:
    import time
    from datetime import UTC, datetime, timedelta

    admin = {"Authorization": f"Bearer {mint('demo-admin', ['admin'])}"}
    # Around today: the report's days are the program's, which may be a day off UTC's.
    today = datetime.now(UTC).date()
    since, until = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()

    def issued_by_nordlicht() -> int:
        report = requests.get(
            running.url("/reports/settlement"), params={"from": since, "to": until}, headers=admin, timeout=10
        )
        assert report.status_code == 200, report.text
        return next(m["points_issued"] for m in report.json()["merchants"] if m["merchant_id"] == "m_nordlicht")

    # At the partner's store, where no other test buys: the counter moves by this purchase only.
    _, member = new_member(running, "0151 40000003")
    cashier = {"Authorization": f"Bearer {mint('demo-cashier-alex', ['cashier'], merchant_id='m_nordlicht')}"}
    body = {"card": member["card_number"], "store_id": "s_nordlicht_alex", "amount": 30_000, "currency": "EUR"}
    deadline = time.monotonic() + 10
    before = issued_by_nordlicht()
    bought = requests.post(
        running.url("/purchases"), json=body, headers={**cashier, "Idempotency-Key": str(uuid.uuid4())}, timeout=30
    ).json()
    while issued_by_nordlicht() != before + bought["points_earned"]:
        assert time.monotonic() < deadline, "the stream did not reach the counters within 10 s"
        time.sleep(0.2)


def test_check_in_brings_an_offer_that_the_till_redeems_once(running: LocalStack) -> None:
    marketer = {"Authorization": f"Bearer {mint('demo-marketer', ['marketer'], merchant_id='m_kiez')}"}
    offer = {
        "title": "Three euros off today",
        "trigger": {"type": "checkin", "store_id": "s_kiez_kreuzberg"},
        "reward": {"type": "amount_off", "amount": 300},
        "limits": {"per_customer": 1},
    }
    created = requests.post(running.url("/offers"), json=offer, headers=marketer, timeout=10)
    assert created.status_code == 201, created.text
    headers, member = new_member(running, "0151 40000004")
    sighting = {"type": "geo", "lon": 13.4185, "lat": 52.4986, "accuracy_m": 20}
    checkin = requests.post(running.url("/me/checkins"), json=sighting, headers=headers, timeout=10).json()
    assert checkin["store_id"] == "s_kiez_kreuzberg"
    assert [o["offer_id"] for o in checkin["offers"]] == [created.json()["offer_id"]]
    cashier = {"Authorization": f"Bearer {mint('demo-cashier-kreuzberg', ['cashier'], merchant_id='m_kiez')}"}
    body = {
        "card": member["card_number"],
        "store_id": "s_kiez_kreuzberg",
        "amount": 2000,
        "currency": "EUR",
        "offer_ids": [created.json()["offer_id"]],
    }
    paid = requests.post(
        running.url("/purchases"), json=body, headers={**cashier, "Idempotency-Key": str(uuid.uuid4())}, timeout=10
    )
    assert paid.status_code == 201, paid.text
    assert paid.json()["offer_discount"] == 300
    again = requests.post(
        running.url("/purchases"), json=body, headers={**cashier, "Idempotency-Key": str(uuid.uuid4())}, timeout=10
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "offer_already_redeemed"
    wallet = requests.get(running.url("/me/offers"), headers=headers, timeout=10).json()["items"]
    assert [w["status"] for w in wallet] == ["redeemed"]
