"""Refunds: proportional, exactly once, and never below zero (a debt instead)."""

import uuid
from datetime import timedelta

import pytest

from scripts.token import mint


def buy(api, card, amount, **extra):
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR", **extra}
    response = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.json_body
    return response.json_body


def refund(api, purchase_id, key=None, token=None, **body):
    headers = {"Idempotency-Key": key or str(uuid.uuid4())}
    return api.call("POST", f"/v1/purchases/{purchase_id}/refund", token or api.cashier(), body, headers=headers)


def me(api):
    return api.call("GET", "/v1/me", api.customer("alice")).json_body


def ledger_sum(api):
    items = api.call("GET", "/v1/me/ledger?limit=200", api.customer("alice")).json_body["items"]
    return sum(e["points"] for e in items), items


@pytest.fixture
def card(api):
    return api.join("alice").json_body["card_number"]


def test_a_full_refund_takes_back_every_point_it_earned(api, card):
    bought = buy(api, card, 10_000)
    response = refund(api, bought["purchase_id"])
    assert response.status_code == 201, response.json_body
    result = response.json_body
    assert result["status"] == "refunded"
    assert result["money_refunded"] == bought["amount_due"]
    assert result["points_taken_back"] == bought["points_earned"]
    assert result["points_balance"] == 0 and result["points_debt"] == 0
    total, entries = ledger_sum(api)
    assert total == 0 and entries[0]["reason"] == "refund"


def test_partial_refunds_add_up_to_the_purchase_exactly(api, card):
    bought = buy(api, card, 9_999)
    parts = [refund(api, bought["purchase_id"], amount=a).json_body for a in (3_333, 3_333)]
    last = refund(api, bought["purchase_id"]).json_body
    parts.append(last)
    assert sum(p["money_refunded"] for p in parts) == bought["amount_due"]
    assert sum(p["points_taken_back"] for p in parts) == bought["points_earned"]
    assert last["status"] == "refunded" and last["refunded_total"] == 9_999
    again = refund(api, bought["purchase_id"])
    assert again.status_code == 422 and again.json_body["error"]["code"] == "already_refunded"


def test_redeemed_points_come_back_on_a_refund(api, card):
    buy(api, card, 50_000)
    before = me(api)["points_balance"]
    paid_with_points = buy(api, card, 2_000, redeem_points=300)
    result = refund(api, paid_with_points["purchase_id"]).json_body
    assert result["points_returned"] == 300
    assert result["points_balance"] == before
    assert ledger_sum(api)[0] == before


def test_a_refund_of_spent_points_leaves_a_debt_that_the_next_purchase_pays_first(api, card):
    earned = buy(api, card, 20_000)
    spend_all = buy(api, card, 1_000, redeem_points=earned["points_balance"])
    assert spend_all["points_balance"] == spend_all["points_earned"]
    result = refund(api, earned["purchase_id"]).json_body
    assert result["points_balance"] == 0
    assert result["points_debt"] == earned["points_earned"] - spend_all["points_earned"] > 0
    total, entries = ledger_sum(api)
    assert total == 0 and entries[0]["debt_after"] == result["points_debt"]
    following = buy(api, card, 10_000)
    assert following["points_debt_repaid"] == min(result["points_debt"], following["points_earned"])
    assert ledger_sum(api)[0] == following["points_balance"] == me(api)["points_balance"]


def test_refunding_by_items(api, card):
    items = [
        {"sku": "latte", "category": "coffee", "qty": 2, "price": 400},
        {"sku": "cake", "category": "cake", "qty": 1, "price": 600},
    ]
    bought = buy(api, card, 1_400, items=items)
    one = refund(api, bought["purchase_id"], items=[{"sku": "latte", "qty": 1}]).json_body
    assert one["amount_refunded"] == 400 and one["status"] == "partially_refunded"
    too_many = refund(api, bought["purchase_id"], items=[{"sku": "latte", "qty": 2}])
    assert too_many.status_code == 422 and too_many.json_body["error"]["field"] == "items.0.qty"
    unknown = refund(api, bought["purchase_id"], items=[{"sku": "tea", "qty": 1}])
    assert unknown.status_code == 422 and unknown.json_body["error"]["code"] == "unknown_item"


def test_a_refund_is_applied_once_per_key(api, card):
    bought = buy(api, card, 10_000)
    first = refund(api, bought["purchase_id"], key="refund-1", amount=5_000)
    again = refund(api, bought["purchase_id"], key="refund-1", amount=5_000)
    assert again.status_code == 201 and again.json_body == first.json_body
    assert refund(api, bought["purchase_id"], key="refund-1", amount=4_000).status_code == 409
    assert me(api)["points_balance"] == bought["points_earned"] - first.json_body["points_taken_back"]


def test_refunding_the_purchase_that_bought_a_tier_undoes_the_upgrade(api, card):
    bought = buy(api, card, 40_000)
    assert bought["tier"] == "Silver"
    assert refund(api, bought["purchase_id"]).json_body["tier"] == "Bronze"
    assert me(api)["tier"] == "Bronze"


def test_refunds_over_the_purchase_or_elsewhere_are_refused(api, card):
    bought = buy(api, card, 1_000)
    over = refund(api, bought["purchase_id"], amount=1_001)
    assert over.status_code == 422 and over.json_body["error"]["code"] == "refund_over_purchase"
    assert refund(api, "pur_nope").status_code == 404
    other = mint("demo-cashier-alex", ["cashier"], "m_nordlicht")
    assert refund(api, bought["purchase_id"], token=other).status_code == 403
    assert refund(api, bought["purchase_id"], amount=10, items=[{"sku": "x", "qty": 1}]).status_code == 422


MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")
MITTE = {"type": "geo", "lon": 13.4016, "lat": 52.5303, "accuracy_m": 15}


@pytest.fixture
def redeemed(api, card, clock):
    """A purchase that redeemed a wallet offer (3.00 off), with the offer's id."""
    offer = {
        "title": "3.00 off",
        "trigger": {"type": "checkin", "store_id": "s_kiez_mitte"},
        "reward": {"type": "amount_off", "amount": 300},
        "limits": {"per_customer": 1},
    }
    offer_id = api.call("POST", "/v1/offers", MARKETER, offer).json_body["offer_id"]
    assert len(api.call("POST", "/v1/me/checkins", api.customer("alice"), MITTE).json_body["offers"]) == 1
    bought = buy(api, card, 2_000, offer_ids=[offer_id])
    assert bought["offers_redeemed"] == [offer_id]
    return bought["purchase_id"], offer_id


def wallet_status(api):
    return [w["status"] for w in api.call("GET", "/v1/me/offers", api.customer("alice")).json_body["items"]]


def test_a_full_refund_gives_the_redeemed_offer_back_once(api, card, redeemed):
    purchase_id, offer_id = redeemed
    first = refund(api, purchase_id, key="refund-1")
    assert first.status_code == 201 and first.json_body["offers_returned"] == [offer_id]
    assert wallet_status(api) == ["issued"]
    assert buy(api, card, 2_000, offer_ids=[offer_id])["offers_redeemed"] == [offer_id]
    # A replay answers as before and gives nothing back again: the offer stays with the new sale.
    assert refund(api, purchase_id, key="refund-1").json_body == first.json_body
    assert wallet_status(api) == ["redeemed"]


def test_a_partial_refund_keeps_the_offer_redeemed_until_the_rest_is_refunded(api, redeemed):
    purchase_id, offer_id = redeemed
    part = refund(api, purchase_id, amount=500).json_body
    assert part["offers_returned"] == [] and wallet_status(api) == ["redeemed"]
    rest = refund(api, purchase_id).json_body
    assert rest["status"] == "refunded" and rest["offers_returned"] == [offer_id]
    assert wallet_status(api) == ["issued"]


def test_an_offer_that_expired_meanwhile_is_not_given_back(api, redeemed, clock):
    purchase_id, _ = redeemed
    clock.now += timedelta(days=8)
    response = refund(api, purchase_id).json_body
    assert response["status"] == "refunded" and response["offers_returned"] == []
    assert wallet_status(api) == ["redeemed"]
