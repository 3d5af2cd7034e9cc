"""Offers: the marketing team's CRUD, with the Offer object of API.md."""

import pytest

from chalicelib.domain.catalog import Merchant
from chalicelib.store import catalog
from scripts.token import mint

MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")
ADMIN = mint("demo-admin", ["admin"])
OFFER = {
    "title": "A free cookie with your coffee",
    "trigger": {"type": "checkin", "store_id": "s_kiez_mitte"},
    "targeting": {"tiers": ["Silver", "Gold"], "categories": ["coffee"]},
    "reward": {"type": "free_item", "sku": "cookie"},
    "valid_from": "2026-11-01T00:00:00Z",
    "valid_to": "2026-12-31T00:00:00Z",
    "limits": {"per_customer": 1, "budget": 500, "cooldown_hours": 24},
    "priority": 3,
}


def test_a_marketer_creates_reads_changes_and_ends_an_offer(api):
    created = api.call("POST", "/v1/offers", MARKETER, OFFER)
    assert created.status_code == 201, created.json_body
    offer = created.json_body
    assert offer["merchant_id"] == "m_kiez" and offer["issued"] == 0
    assert offer["reward"] == {"type": "free_item", "sku": "cookie"}
    assert offer["targeting"]["tiers"] == ["Silver", "Gold"]
    path = f"/v1/offers/{offer['offer_id']}"
    assert api.call("GET", path, MARKETER).json_body == offer
    changed = api.call("PUT", path, MARKETER, {**OFFER, "priority": 5}).json_body
    assert changed["priority"] == 5 and changed["offer_id"] == offer["offer_id"]
    assert api.call("DELETE", path, MARKETER).status_code == 204
    assert api.call("GET", path, MARKETER).json_body["status"] == "ended"
    assert offer["offer_id"] in {o["offer_id"] for o in api.call("GET", "/v1/offers", MARKETER).json_body["items"]}


def test_a_partners_marketer_does_not_see_or_touch_the_offer(api):
    offer = api.call("POST", "/v1/offers", MARKETER, OFFER).json_body
    theirs = mint("nordlicht-marketer", ["marketer"], "m_nordlicht")
    assert api.call("GET", f"/v1/offers/{offer['offer_id']}", theirs).status_code == 404
    assert api.call("POST", "/v1/offers", theirs, OFFER).json_body["error"]["field"] == "trigger.store_id"
    assert api.call("POST", "/v1/offers", MARKETER, {**OFFER, "merchant_id": "m_nordlicht"}).status_code == 403
    assert api.call("POST", "/v1/offers", api.cashier(), OFFER).status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reward": {"type": "percent_off", "percent": 150}}, "reward.percent_off.percent"),
        ({"reward": {"type": "cash_back", "amount": 5}}, "reward"),
        ({"trigger": {"type": "teleport"}}, "trigger.type"),
        ({"trigger": {"type": "checkin", "store_id": "s_nowhere"}}, "trigger.store_id"),
        ({"valid_to": "2026-10-01T00:00:00Z"}, "valid_to"),
        ({"limits": {"budget": 0}}, "limits.budget"),
        ({"title": ""}, "title"),
        ({"targeting": {"segment_id": "seg_regulars"}}, "targeting.segment_id"),
        # A merchant's offer fires at its own stores, or at a partner it names.
        ({"trigger": {"type": "checkin", "store_id": "s_nordlicht_alex"}}, "trigger.store_id"),
        ({"trigger": {"type": "purchase", "merchant_id": "m_elsewhere"}}, "trigger.merchant_id"),
        ({"trigger": {"type": "purchase", "merchant_id": "m_nowhere"}}, "trigger.merchant_id"),
        (
            {"trigger": {"type": "checkin", "merchant_id": "m_nordlicht", "store_id": "s_kiez_mitte"}},
            "trigger.store_id",
        ),
    ],
)
def test_bad_offers_name_the_field(api, change, field):
    catalog.put(Merchant("m_elsewhere", "Not a partner"))
    response = api.call("POST", "/v1/offers", MARKETER, {**OFFER, **change})
    assert response.status_code == 422, response.json_body
    assert response.json_body["error"]["field"] == field
    created = api.call("POST", "/v1/offers", MARKETER, OFFER).json_body
    changed = api.call("PUT", f"/v1/offers/{created['offer_id']}", MARKETER, {**OFFER, **change})
    assert changed.status_code == 422 and changed.json_body["error"]["field"] == field


def test_a_cross_promotion_names_the_partner_whose_store_or_purchase_fires_it(api):
    at_partner = {"type": "checkin", "merchant_id": "m_nordlicht", "store_id": "s_nordlicht_alex"}
    assert api.call("POST", "/v1/offers", MARKETER, {**OFFER, "trigger": at_partner}).status_code == 201
    any_partner_store = {"type": "purchase", "merchant_id": "m_nordlicht"}
    assert api.call("POST", "/v1/offers", MARKETER, {**OFFER, "trigger": any_partner_store}).status_code == 201


def test_program_wide_offers_are_the_admins(api):
    mine = api.call("POST", "/v1/offers", MARKETER, {**OFFER, "merchant_id": None}).json_body
    assert mine["merchant_id"] == "m_kiez"
    anywhere = {**OFFER, "trigger": {"type": "purchase"}}
    program_wide = api.call("POST", "/v1/offers", ADMIN, anywhere).json_body
    assert program_wide["merchant_id"] is None
    path = f"/v1/offers/{program_wide['offer_id']}"
    assert api.call("PUT", path, MARKETER, anywhere).status_code == 403
    assert api.call("DELETE", path, MARKETER).status_code == 403
    assert api.call("PUT", path, ADMIN, {**anywhere, "priority": 9}).status_code == 200


def test_an_offer_shows_how_many_have_been_issued(api):
    body = {**OFFER, "targeting": {}, "valid_from": None, "valid_to": None, "limits": {"budget": 10}}
    offer = api.call("POST", "/v1/offers", MARKETER, body).json_body
    mitte = {"type": "geo", "lon": 13.4016, "lat": 52.5303, "accuracy_m": 15}
    for n, sub in enumerate(("alice", "bob", "carla")):
        api.join(sub, phone=f"0151 1111111{n}")
        assert len(api.call("POST", "/v1/me/checkins", api.customer(sub), mitte).json_body["offers"]) == 1
    path = f"/v1/offers/{offer['offer_id']}"
    assert api.call("GET", path, MARKETER).json_body["issued"] == 3
    listed = api.call("GET", "/v1/offers", MARKETER).json_body["items"]
    assert [o["issued"] for o in listed if o["offer_id"] == offer["offer_id"]] == [3]
    assert api.call("PUT", path, MARKETER, {**body, "priority": 1}).json_body["issued"] == 3
