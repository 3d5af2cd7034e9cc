"""The expire_points job: FIFO lots or inactivity, idempotent for the same moment."""

import uuid
from datetime import UTC, datetime

from scripts.token import mint


def months_after_now(months, day=1):
    """``YYYY-MM-DDT..Z`` of ``day`` in the month ``months`` after this one (points earned today)."""
    now = datetime.now(UTC)
    index = now.year * 12 + now.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}-{day:02d}T02:00:00Z"


#: Points earned this month expire at the end of the month 24 months on: the 1st after it.
EXPIRED = months_after_now(25)
NOT_YET = months_after_now(24, day=28)

ADMIN = mint("demo-admin", ["admin"])


def buy(api, card, amount, **extra):
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR", **extra}
    return api.call(
        "POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())}
    ).json_body


def run(api, at, name="expire_points"):
    return api.call("POST", f"/v1/jobs/{name}/run", ADMIN, {"at": at})


def balance(api):
    return api.call("GET", "/v1/me", api.customer("alice")).json_body["points_balance"]


def test_points_expire_at_the_end_of_the_month_24_months_after_they_were_earned(api):
    card = api.join("alice").json_body["card_number"]
    earned = buy(api, card, 20_000)["points_earned"]
    assert run(api, NOT_YET).json_body["result"]["points_expired"] == 0
    assert balance(api) == earned
    result = run(api, EXPIRED).json_body["result"]
    assert result == {
        "job": "expire_points",
        "at": EXPIRED,
        "members_expired": 1,
        "points_expired": earned,
    }
    assert balance(api) == 0
    entries = api.call("GET", "/v1/me/ledger", api.customer("alice")).json_body["items"]
    assert entries[0]["reason"] == "expiry" and entries[0]["points"] == -earned
    assert sum(e["points"] for e in entries) == 0


def test_running_twice_for_the_same_moment_expires_nothing_twice(api):
    card = api.join("alice").json_body["card_number"]
    buy(api, card, 20_000)
    first = run(api, EXPIRED).json_body["result"]
    again = run(api, EXPIRED).json_body["result"]
    assert first["points_expired"] > 0 and again["points_expired"] == 0
    entries = api.call("GET", "/v1/me/ledger", api.customer("alice")).json_body["items"]
    assert [e["reason"] for e in entries].count("expiry") == 1


def test_spent_points_are_taken_from_the_oldest_lot_and_do_not_expire_again(api):
    card = api.join("alice").json_body["card_number"]
    buy(api, card, 20_000)
    after_redeem = buy(api, card, 2_000, redeem_points=150)
    result = run(api, EXPIRED).json_body["result"]
    assert result["points_expired"] == after_redeem["points_balance"]
    assert balance(api) == 0


def test_inactivity_expiry_takes_the_whole_balance_after_months_without_a_visit(api):
    rules = api.call("GET", "/v1/program", ADMIN).json_body
    api.call("PUT", "/v1/program", ADMIN, {**rules, "expiry": {"mode": "inactivity", "months": 6}})
    card = api.join("alice").json_body["card_number"]
    earned = buy(api, card, 20_000)["points_earned"]
    assert run(api, months_after_now(3)).json_body["result"]["points_expired"] == 0
    assert run(api, months_after_now(7)).json_body["result"]["points_expired"] == earned
    assert balance(api) == 0


def test_only_an_admin_runs_jobs_and_unknown_jobs_are_404(api):
    assert run(api, "2028-12-01T02:00:00Z", name="make_coffee").status_code == 404
    assert api.call("POST", "/v1/jobs/expire_points/run", api.cashier(), {}).status_code == 403
    bad = run(api, "yesterday")
    assert bad.status_code == 422 and bad.json_body["error"]["field"] == "at"
    now = api.call("POST", "/v1/jobs/expire_points/run", ADMIN, raw="")
    assert now.status_code == 200 and now.json_body["result"]["points_expired"] == 0
