"""Staff act for the merchant their token names, and a till for its store: a missing claim never
reads as "everything"."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from scripts.token import mint

ADMIN = mint("demo-admin", ["admin"])
UNSCOPED_MARKETER = mint("stray-marketer", ["marketer"])
UNSCOPED_CASHIER = mint("stray-cashier", ["cashier"])
MITTE_CASHIER = mint("demo-cashier-mitte", ["cashier"], "m_kiez", "s_kiez_mitte")
KIEZ_CASHIER_ANY_STORE = mint("kiez-floater", ["cashier"], "m_kiez")


def window():
    now = datetime.now(UTC)
    return (now - timedelta(hours=1)).isoformat(), (now + timedelta(hours=2)).isoformat()


def promotion(**fields):
    start, end = window()
    return {"name": "Double points", "multiplier_percent": 200, "valid_from": start, "valid_to": end, **fields}


def offer(**fields):
    return {"title": "A coffee on us", "trigger": {"type": "checkin"}, "reward": {"type": "bonus_points", "points": 50}}


def buy(api, token, card, store, key=None):
    body = {"card": card, "store_id": store, "amount": 2000, "currency": "EUR"}
    headers = {"Idempotency-Key": key or str(uuid.uuid4())}
    return api.call("POST", "/v1/purchases", token, body, headers=headers)


@pytest.fixture
def card(api):
    return api.join("alice").json_body["card_number"]


def assert_no_merchant_scope(response):
    assert response.status_code == 403, response.json_body
    assert response.json_body["error"]["code"] == "no_merchant_scope"


@pytest.mark.parametrize("resource", ["promotions", "offers"])
def test_a_marketer_token_without_a_merchant_can_neither_create_nor_list_nor_change(api, resource):
    body = promotion() if resource == "promotions" else offer()
    assert_no_merchant_scope(api.call("POST", f"/v1/{resource}", UNSCOPED_MARKETER, body))
    assert_no_merchant_scope(api.call("POST", f"/v1/{resource}", UNSCOPED_MARKETER, {**body, "merchant_id": "m_kiez"}))
    assert_no_merchant_scope(api.call("GET", f"/v1/{resource}", UNSCOPED_MARKETER))
    # Something that exists (program-wide, by the admin) is neither shown nor changed.
    created = api.call("POST", f"/v1/{resource}", ADMIN, body)
    assert created.status_code == 201 and created.json_body["merchant_id"] is None
    thing_id = created.json_body["promotion_id" if resource == "promotions" else "offer_id"]
    assert_no_merchant_scope(api.call("GET", f"/v1/{resource}/{thing_id}", UNSCOPED_MARKETER))
    assert_no_merchant_scope(api.call("PUT", f"/v1/{resource}/{thing_id}", UNSCOPED_MARKETER, body))
    assert_no_merchant_scope(api.call("DELETE", f"/v1/{resource}/{thing_id}", UNSCOPED_MARKETER))
    assert api.call("GET", f"/v1/{resource}/{thing_id}", ADMIN).json_body == created.json_body


def test_an_admin_without_a_merchant_still_runs_program_wide_promotions(api):
    assert api.call("POST", "/v1/promotions", ADMIN, promotion()).status_code == 201


def test_a_cashier_token_without_a_merchant_can_neither_look_up_nor_sell_nor_refund(api, card):
    assert_no_merchant_scope(api.call("GET", f"/v1/cards/{card}", UNSCOPED_CASHIER))
    assert_no_merchant_scope(buy(api, UNSCOPED_CASHIER, card, "s_kiez_mitte"))
    sold = buy(api, MITTE_CASHIER, card, "s_kiez_mitte").json_body
    refund = api.call(
        "POST", f"/v1/purchases/{sold['purchase_id']}/refund", UNSCOPED_CASHIER, {}, headers={"Idempotency-Key": "r1"}
    )
    assert_no_merchant_scope(refund)
    assert api.call("GET", "/v1/me", api.customer("alice")).json_body["points_balance"] == sold["points_balance"]


def test_a_till_bound_to_a_store_cannot_record_a_purchase_at_a_sister_store(api, card):
    response = buy(api, MITTE_CASHIER, card, "s_kiez_kreuzberg")
    assert response.status_code == 403
    assert response.json_body["error"]["code"] == "wrong_store"
    assert response.json_body["error"]["field"] == "store_id"
    assert api.call("GET", "/v1/me/ledger", api.customer("alice")).json_body["items"] == []
    assert buy(api, MITTE_CASHIER, card, "s_kiez_mitte").status_code == 201


def test_a_cashier_token_without_a_store_sells_at_any_store_of_its_merchant_only(api, card):
    assert buy(api, KIEZ_CASHIER_ANY_STORE, card, "s_kiez_kreuzberg").status_code == 201
    assert buy(api, KIEZ_CASHIER_ANY_STORE, card, "s_nordlicht_alex").json_body["error"]["code"] == "wrong_merchant"


def test_a_purchase_is_refunded_at_another_store_of_the_same_merchant(api, card):
    sold = buy(api, MITTE_CASHIER, card, "s_kiez_mitte").json_body
    kreuzberg = mint("demo-cashier-kreuzberg", ["cashier"], "m_kiez", "s_kiez_kreuzberg")
    nordlicht = mint("demo-cashier-alex", ["cashier"], "m_nordlicht", "s_nordlicht_alex")
    path = f"/v1/purchases/{sold['purchase_id']}/refund"
    elsewhere = api.call("POST", path, nordlicht, {}, headers={"Idempotency-Key": "r-alex"})
    assert elsewhere.status_code == 403 and elsewhere.json_body["error"]["code"] == "wrong_merchant"
    refunded = api.call("POST", path, kreuzberg, {}, headers={"Idempotency-Key": "r-kreuzberg"})
    assert refunded.status_code == 201, refunded.json_body
    assert refunded.json_body["status"] == "refunded"


def test_a_till_bound_to_a_store_looks_up_cards_anywhere(api, card):
    assert api.call("GET", f"/v1/cards/{card}", MITTE_CASHIER).status_code == 200
