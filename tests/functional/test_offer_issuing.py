"""Issuing offers: "no limit" is once a day, never spam; an offer never blocks what triggered it."""

import dataclasses
import uuid
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from chalicelib.store import catalog
from scripts.token import mint

MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")
ALEX = mint("demo-cashier-alex", ["cashier"], "m_nordlicht")
MITTE = {"type": "geo", "lon": 13.4016, "lat": 52.5303, "accuracy_m": 15}
KREUZBERG = {"type": "geo", "lon": 13.4185, "lat": 52.4986, "accuracy_m": 15}
#: A Kiez offer earned by buying at Kiez, with no per_customer limit and no cooldown.
COFFEE_CARD = {
    "title": "Your next coffee half price",
    "trigger": {"type": "purchase"},
    "reward": {"type": "percent_off", "percent": 50},
}
#: A Kiez check-in offer with no limits at all.
WELCOME = {"title": "Welcome back", "trigger": {"type": "checkin"}, "reward": {"type": "bonus_points", "points": 5}}


def new_offer(api, body):
    created = api.call("POST", "/v1/offers", MARKETER, body)
    assert created.status_code == 201, created.json_body
    return created.json_body


def buy(api, card, amount=1_000, key=None):
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR"}
    headers = {"Idempotency-Key": key or str(uuid.uuid4())}
    return api.call("POST", "/v1/purchases", api.cashier(), body, headers=headers)


def check_in(api, body, sub="alice"):
    return api.call("POST", "/v1/me/checkins", api.customer(sub), body)


def wallet(api, sub="alice"):
    return api.call("GET", "/v1/me/offers", api.customer(sub)).json_body["items"]


def test_an_offer_with_no_limits_is_earned_once_a_day_and_never_blocks_the_purchase(api, clock):
    card = api.join("alice").json_body["card_number"]
    offer = new_offer(api, COFFEE_CARD)
    first = buy(api, card)
    assert first.status_code == 201, first.json_body
    assert [o["offer_id"] for o in first.json_body["offers_issued"]] == [offer["offer_id"]]
    clock.now += timedelta(hours=2)
    second = buy(api, card)
    assert second.status_code == 201, second.json_body
    assert second.json_body["offers_issued"] == []
    assert len(wallet(api)) == 1
    clock.now += timedelta(days=1)
    next_day = buy(api, card)
    assert next_day.status_code == 201, next_day.json_body
    assert [o["offer_id"] for o in next_day.json_body["offers_issued"]] == [offer["offer_id"]]
    assert sorted(w["offer_id"] for w in wallet(api)) == [offer["offer_id"]] * 2


def test_later_check_ins_of_the_day_go_through_with_a_no_limit_check_in_offer(api, clock):
    api.join("alice")
    offer = new_offer(api, WELCOME)
    first = check_in(api, MITTE)
    assert first.status_code == 200 and [o["offer_id"] for o in first.json_body["offers"]] == [offer["offer_id"]]
    for place in (KREUZBERG, MITTE, KREUZBERG):
        clock.now += timedelta(minutes=45)
        later = check_in(api, place)
        assert later.status_code == 200, later.json_body
        assert later.json_body["offers"] == []
    assert len(wallet(api)) == 1
    clock.now += timedelta(days=1)
    assert [o["offer_id"] for o in check_in(api, MITTE).json_body["offers"]] == [offer["offer_id"]]


@pytest.fixture
def stale_wallet_read(monkeypatch):
    """As if another request issued the offer between our read of the member's issue history
    (their activity item) and our commit."""
    from chalicelib.store import activity as activity_store

    read = activity_store.to_activity
    monkeypatch.setattr(activity_store, "to_activity", lambda item: dataclasses.replace(read(item), history={}))


def skipped(logs):
    return [(e["offer_id"], e["reason"]) for e in logs if e["event"] == "offer_skipped"]


def test_a_racing_issue_of_the_offer_leaves_the_purchase_committed_without_it(api, clock, stale_wallet_read):
    card = api.join("alice").json_body["card_number"]
    offer = new_offer(api, COFFEE_CARD)
    assert buy(api, card).status_code == 201
    clock.now += timedelta(hours=1)
    with capture_logs() as logs:
        second = buy(api, card, amount=2_000)
    assert second.status_code == 201, second.json_body
    assert second.json_body["offers_issued"] == [] and second.json_body["points_earned"] > 0
    assert skipped(logs) == [(offer["offer_id"], "already_in_wallet")]
    assert card not in repr(logs)
    assert len(wallet(api)) == 1
    ledger = api.call("GET", "/v1/me/ledger", api.customer("alice")).json_body["items"]
    assert len([e for e in ledger if e["reason"] == "purchase"]) == 2


def test_a_spent_budget_seen_only_by_the_transaction_leaves_the_purchase_committed(api, clock, monkeypatch):
    offer = new_offer(api, {**COFFEE_CARD, "limits": {"budget": 1}})
    bob = api.join("bob", phone="0151 11111111").json_body["card_number"]
    assert len(buy(api, bob).json_body["offers_issued"]) == 1
    card = api.join("alice").json_body["card_number"]
    read_before_bob = [dataclasses.replace(o, issued=0) for o in catalog.offers_with_counts()]
    monkeypatch.setattr(catalog, "offers_with_counts", lambda: read_before_bob)
    with capture_logs() as logs:
        bought = buy(api, card, key="till-1-receipt-7")
    assert bought.status_code == 201, bought.json_body
    assert bought.json_body["offers_issued"] == []
    assert skipped(logs) == [(offer["offer_id"], "budget_spent")]
    assert wallet(api) == []
    # What was saved under the key is the purchase without the offer.
    assert buy(api, card, key="till-1-receipt-7").json_body == bought.json_body
    purchase = api.call("GET", "/v1/me/ledger", api.customer("alice")).json_body["items"][0]
    assert purchase["purchase_id"] == bought.json_body["purchase_id"]


def test_a_racing_issue_or_a_spent_budget_leaves_the_check_in_committed(api, clock, stale_wallet_read):
    api.join("alice")
    api.join("bob", phone="0151 11111111")
    racing = new_offer(api, WELCOME)
    budgeted = new_offer(api, {**WELCOME, "title": "Only one", "limits": {"budget": 1}})
    check_in(api, MITTE, "bob")  # takes the one of the budget; the cached count still says 0
    assert [o["offer_id"] for o in check_in(api, MITTE).json_body["offers"]] == [racing["offer_id"]]
    clock.now += timedelta(hours=1)
    with capture_logs() as logs:
        again = check_in(api, KREUZBERG)
    assert again.status_code == 200, again.json_body
    assert again.json_body["store_id"] == "s_kiez_kreuzberg" and again.json_body["offers"] == []
    assert sorted(skipped(logs)) == sorted(
        [(racing["offer_id"], "already_in_wallet"), (budgeted["offer_id"], "budget_spent")]
    )
    assert [w["offer_id"] for w in wallet(api)] == [racing["offer_id"]]
