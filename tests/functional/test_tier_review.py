"""Tiers go down only at a review, after a grace period: the tier_review job."""

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from chalicelib.domain.program import add_months
from scripts import seed
from scripts.token import mint

ADMIN = mint("demo-admin", ["admin"])


def review(api, day):
    response = api.call("POST", "/v1/jobs/tier_review/run", ADMIN, {"at": f"{day}T03:00:00Z"})
    assert response.status_code == 200, response.json_body
    return response.json_body["result"]


def profile(api):
    return api.call("GET", "/v1/me", api.customer("alice")).json_body


def test_a_tier_bought_a_year_ago_gets_a_grace_month_then_goes_down(api):
    card = api.join("alice").json_body["card_number"]
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": 40_000, "currency": "EUR"}
    bought = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert bought.json_body["tier"] == "Silver"
    today = datetime.now(ZoneInfo(seed.PROGRAM.timezone)).date()  # the program's day, not UTC's
    due = add_months(today, 12)
    assert profile(api)["tier_review_on"] == due.isoformat()

    assert review(api, add_months(today, 6))["reviewed"] == 0  # not due yet: nobody is touched
    # A year on, the purchase has left the 12-month window: a month's grace, the tier kept.
    first = review(api, due)
    assert (first["reviewed"], first["grace"]) == (1, 1)
    me = profile(api)
    grace_end = add_months(due, 1)
    assert me["tier"] == "Silver" and me["tier_grace_until"] == grace_end.isoformat()
    assert review(api, due)["reviewed"] == 0  # the same moment twice changes nothing twice
    # Still below at the end of the grace: down to the tier the window reaches.
    assert review(api, grace_end)["lowered"] == 1
    me = profile(api)
    assert me["tier"] == "Bronze" and me["tier_review_on"] is None and me["tier_grace_until"] is None


def test_members_without_a_tier_above_the_first_are_never_reviewed(api):
    api.join("alice")
    assert profile(api)["tier_review_on"] is None
    assert review(api, date(2027, 11, 30))["reviewed"] == 0
