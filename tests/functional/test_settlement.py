"""Settlement between partners, from counters the ledger's stream keeps (moto's stream here)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.clock import system_clock
from chalicelib.services import reports
from chalicelib.store import streams
from chalicelib.store.ledger import LedgerEntryModel
from scripts.token import mint

ADMIN = mint("demo-admin", ["admin"])
ALEX = mint("demo-cashier-alex", ["cashier"], "m_nordlicht")


@pytest.fixture
def drain(api):
    reader = streams.StreamReader(LedgerEntryModel)
    seen = []

    def run():
        def handler(records):
            seen.extend(records)
            reports.on_ledger_records(
                ((r["eventName"], r["dynamodb"].get("NewImage")) for r in records), clock=system_clock
            )

        return reader.poll(handler)

    run.seen = seen
    return run


def buy(api, card, amount, store, token, **extra):
    body = {"card": card, "store_id": store, "amount": amount, "currency": "EUR", **extra}
    response = api.call("POST", "/v1/purchases", token, body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.json_body
    return response.json_body


def report(api):
    # Around today: the report's days are the program's, which may be a day off UTC's.
    today = datetime.now(UTC).date()
    since, until = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()
    return api.call("GET", f"/v1/reports/settlement?from={since}&to={until}", ADMIN)


def test_points_earned_at_the_cafe_and_spent_at_the_boutique_are_owed_by_the_cafe(api, drain):
    card = api.join("alice").json_body["card_number"]
    earned = buy(api, card, 50_000, "s_kiez_mitte", api.cashier())
    spent = buy(api, card, 20_000, "s_nordlicht_alex", ALEX, redeem_points=400)
    drain()
    body = report(api).json_body
    by_id = {m["merchant_id"]: m for m in body["merchants"]}
    assert by_id["m_kiez"]["points_issued"] == earned["points_earned"]
    assert by_id["m_nordlicht"]["points_redeemed"] == 400
    assert by_id["m_nordlicht"]["points_issued"] == spent["points_earned"]
    assert sum(m["net_minor"] for m in body["merchants"]) == 0
    assert body["transfers"] and body["transfers"][0]["from_merchant"] == "m_kiez"
    assert body["transfers"][0]["to_merchant"] == "m_nordlicht"


def test_a_record_delivered_twice_is_counted_once(api, drain):
    card = api.join("alice").json_body["card_number"]
    earned = buy(api, card, 50_000, "s_kiez_mitte", api.cashier())
    drain()
    again = [(r["eventName"], r["dynamodb"].get("NewImage")) for r in drain.seen]
    assert reports.on_ledger_records(again, clock=system_clock) == 0
    by_id = {m["merchant_id"]: m for m in report(api).json_body["merchants"]}
    assert by_id["m_kiez"]["points_issued"] == earned["points_earned"]


def test_a_refund_undoes_what_the_purchase_issued(api, drain):
    card = api.join("alice").json_body["card_number"]
    bought = buy(api, card, 50_000, "s_kiez_mitte", api.cashier())
    refund = api.call(
        "POST", f"/v1/purchases/{bought['purchase_id']}/refund", api.cashier(), {}, headers={"Idempotency-Key": "r1"}
    )
    assert refund.status_code == 201
    drain()
    by_id = {m["merchant_id"]: m for m in report(api).json_body["merchants"]}
    assert by_id["m_kiez"]["points_issued"] == 0


def test_the_settlement_is_the_admins_and_names_its_period(api):
    assert api.call("GET", "/v1/reports/settlement?from=2026-01-01&to=2026-01-31", api.cashier()).status_code == 403
    response = api.call("GET", "/v1/reports/settlement?from=2026-02-01&to=2026-01-01", ADMIN)
    assert response.status_code == 422 and response.json_body["error"]["field"] == "to"
    assert api.call("GET", "/v1/reports/settlement?from=2026-01-01", ADMIN).status_code == 422
    empty = api.call("GET", "/v1/reports/settlement?from=2026-01-01&to=2026-01-31", ADMIN).json_body
    assert empty["from"] == "2026-01-01" and empty["transfers"] == []
