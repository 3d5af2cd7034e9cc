"""Dates and moments at the edges of what Python can hold: refused on the way in, readable if stored."""

import dataclasses
from datetime import UTC, datetime

import pytest

from chalicelib import jobs
from chalicelib.config import settings
from chalicelib.domain.offers import Offer, Trigger
from chalicelib.domain.promotions import Promotion
from chalicelib.store import catalog
from scripts.token import mint

MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")
ADMIN = mint("demo-admin", ["admin"])
#: Valid ISO-8601 moments whose UTC form Python cannot hold, and ones merely absurd for a program.
EXTREME_MOMENTS = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "1999-12-31T23:59:59Z",
    "2100-01-01T00:00:00Z",
]
EXTREME_DAYS = ["0001-01-01", "9999-12-31", "1899-12-31", "2100-01-01"]
PROMOTION = {
    "name": "Double points",
    "multiplier_percent": 200,
    "valid_from": "2026-11-01T00:00:00Z",
    "valid_to": "2026-12-01T00:00:00Z",
}
OFFER = {
    "title": "A cookie",
    "trigger": {"type": "checkin"},
    "reward": {"type": "bonus_points", "points": 5},
    "valid_from": "2026-11-01T00:00:00Z",
    "valid_to": "2026-12-01T00:00:00Z",
}


def assert_refused(response, field):
    assert response.status_code == 422, response.body
    assert response.json_body["error"]["field"] == field


@pytest.mark.parametrize("moment", EXTREME_MOMENTS)
@pytest.mark.parametrize("field", ["valid_from", "valid_to"])
def test_a_promotion_or_offer_outside_this_century_is_refused_and_nothing_is_stored(api, moment, field):
    assert_refused(api.call("POST", "/v1/promotions", MARKETER, {**PROMOTION, field: moment}), field)
    assert_refused(api.call("POST", "/v1/offers", MARKETER, {**OFFER, field: moment}), field)
    assert api.call("GET", "/v1/promotions", MARKETER).json_body["items"] == []
    assert api.call("GET", "/v1/offers", MARKETER).json_body["items"] == []


@pytest.mark.parametrize("moment", EXTREME_MOMENTS[:2])
def test_changing_a_promotion_or_offer_to_an_extreme_moment_is_refused_and_leaves_it_as_it_was(api, moment):
    promotion = api.call("POST", "/v1/promotions", MARKETER, PROMOTION).json_body
    offer = api.call("POST", "/v1/offers", MARKETER, OFFER).json_body
    promotion_path, offer_path = f"/v1/promotions/{promotion['promotion_id']}", f"/v1/offers/{offer['offer_id']}"
    assert_refused(api.call("PUT", promotion_path, MARKETER, {**PROMOTION, "valid_to": moment}), "valid_to")
    assert_refused(api.call("PUT", offer_path, MARKETER, {**OFFER, "valid_from": moment}), "valid_from")
    assert api.call("GET", promotion_path, MARKETER).json_body == promotion
    assert api.call("GET", offer_path, MARKETER).json_body == offer


def test_a_moment_with_an_offset_is_kept_as_the_same_instant_in_utc(api):
    created = api.call(
        "POST", "/v1/promotions", MARKETER, {**PROMOTION, "valid_from": "2026-11-01T10:00:00+14:00"}
    ).json_body
    assert created["valid_from"] == "2026-10-31T20:00:00Z"


@pytest.mark.parametrize("moment", EXTREME_MOMENTS)
@pytest.mark.parametrize("name", sorted(jobs.JOBS))
def test_a_job_as_of_an_extreme_moment_is_refused(api, name, moment):
    assert_refused(api.call("POST", f"/v1/jobs/{name}/run", ADMIN, {"at": moment}), "at")


@pytest.mark.parametrize("day", EXTREME_DAYS)
@pytest.mark.parametrize("field", ["from", "to"])
def test_a_settlement_period_outside_this_century_is_refused(api, day, field):
    period = {"from": "2026-11-01", "to": "2026-11-30", field: day}
    response = api.call("GET", f"/v1/reports/settlement?from={period['from']}&to={period['to']}", ADMIN)
    assert_refused(response, field)


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "9999-12-31", "2999-01-01"])
def test_a_birthday_outside_a_lifetime_is_refused(api, day):
    assert_refused(api.join("alice", birthday=day), "birthday")
    assert api.call("GET", "/v1/me", api.customer("alice")).status_code == 404


STORED_EXTREMES = [
    (datetime.fromisoformat("0001-01-01T00:00:00+14:00"), "0001-01-01T00:00:00Z"),
    (datetime.fromisoformat("9999-12-31T23:59:59-14:00"), "9999-12-31T23:59:59Z"),
]


@pytest.mark.parametrize(("stored", "shown"), STORED_EXTREMES)
def test_a_promotion_stored_with_an_extreme_moment_still_lists_and_reads(api, stored, shown):
    ordinary = api.call("POST", "/v1/promotions", MARKETER, PROMOTION).json_body
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    window = (stored, late) if stored.year == 1 else (early, stored)
    catalog.put(Promotion("promo_stored_long_ago", "Legacy", 200, *window, merchant_id="m_kiez"))
    listed = api.call("GET", "/v1/promotions", MARKETER)
    assert listed.status_code == 200, listed.body
    assert {p["promotion_id"] for p in listed.json_body["items"]} == {ordinary["promotion_id"], "promo_stored_long_ago"}
    read = api.call("GET", "/v1/promotions/promo_stored_long_ago", MARKETER)
    assert read.status_code == 200, read.body
    assert shown in (read.json_body["valid_from"], read.json_body["valid_to"])


@pytest.mark.parametrize(("stored", "shown"), STORED_EXTREMES)
def test_an_offer_stored_with_an_extreme_moment_still_lists_and_reads(api, stored, shown):
    catalog.put(
        Offer(
            "offer_stored_long_ago",
            "Legacy",
            Trigger("checkin"),
            {"type": "bonus_points", "points": 5},
            merchant_id="m_kiez",
            valid_from=stored,
            valid_to=stored,
        )
    )
    listed = api.call("GET", "/v1/offers", MARKETER)
    assert listed.status_code == 200, listed.body
    assert [o["offer_id"] for o in listed.json_body["items"]] == ["offer_stored_long_ago"]
    read = api.call("GET", "/v1/offers/offer_stored_long_ago", MARKETER)
    assert read.status_code == 200, read.body
    assert read.json_body["valid_from"] == read.json_body["valid_to"] == shown


@pytest.fixture
def aws_stage(monkeypatch):
    monkeypatch.setattr(jobs, "settings", lambda: dataclasses.replace(settings(), stage="prod"))


def test_on_the_aws_stage_a_job_as_of_the_future_is_refused_and_does_nothing(api, aws_stage):
    card = api.join("alice").json_body["card_number"]
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": 20_000, "currency": "EUR"}
    api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": "k1"})
    before = api.call("GET", "/v1/me", api.customer("alice")).json_body["points_balance"]
    response = api.call("POST", "/v1/jobs/expire_points/run", ADMIN, {"at": "2028-12-01T02:00:00Z"})
    assert_refused(response, "at")
    assert response.json_body["error"]["code"] == "at_in_future"
    assert api.call("GET", "/v1/me", api.customer("alice")).json_body["points_balance"] == before == 190


def test_on_the_aws_stage_a_job_as_of_now_or_the_past_runs(api, aws_stage):
    for body in ({}, {"at": datetime.now(UTC).isoformat()}, {"at": "2026-01-01T00:00:00Z"}):
        response = api.call("POST", "/v1/jobs/tier_review/run", ADMIN, body)
        assert response.status_code == 200, response.body


def test_on_the_local_stage_a_job_may_run_as_of_the_future(api):
    response = api.call("POST", "/v1/jobs/expire_points/run", ADMIN, {"at": "2028-12-01T02:00:00Z"})
    assert response.status_code == 200, response.body
