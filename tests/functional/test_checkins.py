"""Check-ins: the right offer once, nothing that cannot be real, the wallet and the inbox."""

import uuid
from datetime import UTC, datetime, timedelta

from chalicelib.geo.eid import compute_eid
from scripts.token import mint

MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")
ADMIN = mint("demo-admin", ["admin"])
MITTE = {"type": "geo", "lon": 13.4016, "lat": 52.5303, "accuracy_m": 15}
DOOR = {"type": "beacon", "uuid": "F7826DA6-4FA2-4E98-8024-BC5B71E0893E", "major": 100, "minor": 1}
COOKIE = {
    "title": "A cookie with your coffee",
    "trigger": {"type": "checkin", "store_id": "s_kiez_mitte"},
    "reward": {"type": "free_item", "sku": "cookie"},
    "limits": {"per_customer": 1, "budget": 100},
}


def check_in(api, body, sub="alice"):
    return api.call("POST", "/v1/me/checkins", api.customer(sub), body)


def new_offer(api, **fields):
    offer = api.call("POST", "/v1/offers", MARKETER, {**COOKIE, **fields}).json_body
    return offer


def test_arriving_at_the_store_brings_the_offer_once(api):
    api.join("alice")
    offer = new_offer(api)
    first = check_in(api, MITTE)
    assert first.status_code == 200, first.json_body
    body = first.json_body
    assert body["store_id"] == "s_kiez_mitte"
    assert [o["offer_id"] for o in body["offers"]] == [offer["offer_id"]]
    # Sightings while still there are the same visit: the same check-in, no new offer.
    again = check_in(api, DOOR).json_body
    assert again["checkin_id"] == body["checkin_id"] and again["zone"] == "entrance"
    wallet = api.call("GET", "/v1/me/offers", api.customer("alice")).json_body["items"]
    assert [(w["offer_id"], w["status"]) for w in wallet] == [(offer["offer_id"], "issued")]
    inbox = api.call("GET", "/v1/me/inbox", api.customer("alice")).json_body["items"]
    assert inbox[0]["kind"] == "offer" and inbox[0]["offer_id"] == offer["offer_id"]


def test_a_location_outside_every_fence_is_a_check_in_without_a_store(api):
    api.join("alice")
    new_offer(api)
    body = check_in(api, {**MITTE, "lat": 52.5400}).json_body
    assert body["store_id"] is None and body["offers"] == []


def test_a_spent_budget_stops_the_offer(api):
    new_offer(api, limits={"budget": 1})
    api.join("alice")
    api.join("bob", phone="0151 11111111")
    assert len(check_in(api, MITTE, "alice").json_body["offers"]) == 1
    assert check_in(api, MITTE, "bob").json_body["offers"] == []


def test_what_cannot_be_real_is_refused(api):
    api.join("alice")
    mocked = check_in(api, {**MITTE, "mocked": True})
    assert mocked.status_code == 422 and mocked.json_body["error"]["code"] == "mocked_location"
    assert check_in(api, MITTE).status_code == 200
    lisbon = check_in(api, {"type": "geo", "lon": -9.14, "lat": 38.72, "accuracy_m": 10})
    assert lisbon.status_code == 422 and lisbon.json_body["error"]["code"] == "impossible_speed"
    for body, field in (
        ({"type": "geo", "lon": 200, "lat": 52.5, "accuracy_m": 10}, "lon"),
        ({"type": "beacon", "uuid": "nope", "major": 1, "minor": 1}, "uuid"),
        ({"type": "beacon", "eid": "00ff"}, "eid"),
        ({"type": "beacon"}, "body"),
        ({"type": "wifi"}, "type"),
    ):
        response = check_in(api, body)
        assert response.status_code == 422 and response.json_body["error"]["field"] == field, body


def test_more_check_ins_a_minute_than_a_phone_sends_are_429(api):
    api.join("alice")
    statuses = [check_in(api, MITTE).status_code for _ in range(8)]
    assert statuses[:6] == [200] * 6 and statuses[6:] == [429, 429]


def test_an_eddystone_eid_beacon_is_resolved_from_what_the_app_heard(api):
    key = "553C66DA1485E9F78849DE00F2CB178E"
    body = {
        "store_id": "s_nordlicht_alex",
        "zone": "fitting rooms",
        "eddystone_eid": {"identity_key": key, "rotation_exponent": 8, "time_counter": 65_280},
    }
    registered = api.call("POST", "/v1/beacons", ADMIN, body)
    assert registered.status_code == 201
    api.join("alice")
    counter = 65_280 + int(
        (
            datetime.now(UTC)
            - datetime.fromisoformat(registered.json_body["eddystone_eid"]["registered_at"].replace("Z", "+00:00"))
        ).total_seconds()
    )
    heard = compute_eid(bytes.fromhex(key), 8, counter).hex()
    result = check_in(api, {"type": "beacon", "eid": heard}).json_body
    assert (result["store_id"], result["zone"]) == ("s_nordlicht_alex", "fitting rooms")
    unknown = check_in(api, {"type": "beacon", "eid": uuid.uuid4().hex[:16]}).json_body
    assert unknown["store_id"] is None


def test_before_joining_a_check_in_is_404(api):
    assert check_in(api, MITTE, "stranger").status_code == 404


def pay(api, card, amount, offer_ids, key=None, store="s_kiez_mitte", token=None, **extra):
    body = {"card": card, "store_id": store, "amount": amount, "currency": "EUR", "offer_ids": offer_ids, **extra}
    headers = {"Idempotency-Key": key or str(uuid.uuid4())}
    return api.call("POST", "/v1/purchases", token or api.cashier(), body, headers=headers)


def test_an_issued_offer_is_redeemed_once_at_the_till(api):
    card = api.join("alice").json_body["card_number"]
    offer = new_offer(api, reward={"type": "amount_off", "amount": 300})
    check_in(api, MITTE)
    paid = pay(api, card, 2_000, [offer["offer_id"]])
    assert paid.status_code == 201, paid.json_body
    result = paid.json_body
    assert result["offers_redeemed"] == [offer["offer_id"]] and result["offer_discount"] == 300
    assert result["discount"] == 100 + 300  # 5% of 2000, then 3.00 off
    wallet = api.call("GET", "/v1/me/offers", api.customer("alice")).json_body["items"]
    assert wallet[0]["status"] == "redeemed"
    again = pay(api, card, 2_000, [offer["offer_id"]])
    assert again.status_code == 409 and again.json_body["error"]["code"] == "offer_already_redeemed"


def test_offers_change_the_points_too(api):
    card = api.join("alice").json_body["card_number"]
    bonus = new_offer(api, reward={"type": "bonus_points", "points": 50})
    check_in(api, MITTE)
    result = pay(api, card, 1_000, [bonus["offer_id"]]).json_body
    assert result["points_earned"] == 9 + 50


def test_offers_not_in_the_wallet_or_elsewhere_are_refused(api):
    card = api.join("alice").json_body["card_number"]
    offer = new_offer(api)
    unknown = pay(api, card, 1_000, [offer["offer_id"]])
    assert unknown.status_code == 422 and unknown.json_body["error"]["field"] == "offer_ids.0"
    check_in(api, MITTE)
    free_cookie_missing = pay(api, card, 1_000, [offer["offer_id"]])
    assert free_cookie_missing.json_body["error"]["code"] == "free_item_missing"
    alex = mint("demo-cashier-alex", ["cashier"], "m_nordlicht")
    elsewhere = pay(api, card, 1_000, [offer["offer_id"]], store="s_nordlicht_alex", token=alex)
    assert elsewhere.json_body["error"]["code"] == "offer_wrong_merchant"
    items = [{"sku": "cookie", "qty": 1, "price": 250}, {"sku": "latte", "qty": 1, "price": 750}]
    with_cookie = pay(api, card, 1_000, [offer["offer_id"]], items=items).json_body
    assert with_cookie["offer_discount"] == 250


def test_the_categories_a_customer_buys_decide_between_offers(api):
    card = api.join("alice").json_body["card_number"]
    cake = new_offer(
        api, title="Cake treat", targeting={"categories": ["cake"]}, reward={"type": "bonus_points", "points": 5}
    )
    coffee = new_offer(
        api, title="Coffee treat", targeting={"categories": ["coffee"]}, reward={"type": "bonus_points", "points": 5}
    )
    items = [{"sku": "latte", "category": "coffee", "qty": 3, "price": 300}]
    assert pay(api, card, 900, [], items=items).status_code == 201
    offered = check_in(api, MITTE).json_body["offers"]
    # Only coffee was ever bought: the cake offer targets cake buyers and is not issued.
    assert [o["offer_id"] for o in offered] == [coffee["offer_id"]]
    assert cake["offer_id"] not in {o["offer_id"] for o in offered}


def test_buying_clothes_earns_a_coffee_offer_for_the_partner_cafe(api):
    card = api.join("alice").json_body["card_number"]
    cross = {
        "title": "A coffee on us at Kiez Kaffee",
        "merchant_id": "m_kiez",
        "trigger": {"type": "purchase", "merchant_id": "m_nordlicht", "category": "clothes"},
        "reward": {"type": "free_item", "sku": "latte"},
        "limits": {"per_customer": 1},
    }
    offer = api.call("POST", "/v1/offers", ADMIN, cross).json_body
    alex = mint("demo-cashier-alex", ["cashier"], "m_nordlicht")
    jacket = [{"sku": "jacket", "category": "clothes", "qty": 1, "price": 8_900}]
    bought = pay(api, card, 8_900, [], store="s_nordlicht_alex", token=alex, items=jacket).json_body
    assert [o["offer_id"] for o in bought["offers_issued"]] == [offer["offer_id"]]
    # Redeemable at the café, not where it was earned.
    latte = [{"sku": "latte", "qty": 1, "price": 350}]
    at_alex = pay(api, card, 350, [offer["offer_id"]], store="s_nordlicht_alex", token=alex, items=latte)
    assert at_alex.json_body["error"]["code"] == "offer_wrong_merchant"
    at_cafe = pay(api, card, 350, [offer["offer_id"]], items=latte).json_body
    assert at_cafe["amount_due"] == 0 and at_cafe["offer_discount"] > 0  # the latte is free
    # Once per customer: a second jacket earns nothing more.
    again = pay(api, card, 8_900, [], store="s_nordlicht_alex", token=alex, items=jacket).json_body
    assert again["offers_issued"] == []


def test_an_offer_naming_no_store_fires_only_at_its_merchants_stores(api):
    api.join("alice")
    api.join("bob", phone="0151 11111111")
    anywhere_of_ours = new_offer(api, trigger={"type": "checkin"})
    at_alex = check_in(api, {"type": "beacon", "uuid": DOOR["uuid"], "major": 300, "minor": 1}).json_body
    assert at_alex["store_id"] == "s_nordlicht_alex" and at_alex["offers"] == []
    at_kreuzberg = check_in(api, {"type": "beacon", "uuid": DOOR["uuid"], "major": 200, "minor": 1}, "bob").json_body
    assert [o["offer_id"] for o in at_kreuzberg["offers"]] == [anywhere_of_ours["offer_id"]]


def test_a_program_wide_offer_fires_at_every_merchants_stores(api):
    api.join("alice")
    welcome = {**COOKIE, "trigger": {"type": "checkin"}}
    offer = api.call("POST", "/v1/offers", ADMIN, welcome).json_body
    at_alex = check_in(api, {"type": "beacon", "uuid": DOOR["uuid"], "major": 300, "minor": 1}).json_body
    assert [o["offer_id"] for o in at_alex["offers"]] == [offer["offer_id"]]


def test_the_till_sees_the_wallet_offers_it_can_redeem_now(api, clock):
    card = api.join("alice").json_body["card_number"]
    cookie = new_offer(api, reward={"type": "amount_off", "amount": 100})
    scarf = {
        "title": "10% off a scarf at Nordlicht",
        "merchant_id": "m_nordlicht",
        "trigger": {"type": "checkin", "merchant_id": "m_kiez"},
        "reward": {"type": "percent_off", "percent": 10},
    }
    scarf_offer = api.call("POST", "/v1/offers", ADMIN, scarf).json_body
    issued = check_in(api, MITTE).json_body["offers"]
    assert {o["offer_id"] for o in issued} == {cookie["offer_id"], scarf_offer["offer_id"]}
    alex = mint("demo-cashier-alex", ["cashier"], "m_nordlicht")

    def usable(token):
        return [o["offer_id"] for o in api.call("GET", f"/v1/cards/{card}", token).json_body["offers"]]

    assert usable(api.cashier()) == [cookie["offer_id"]]
    assert usable(alex) == [scarf_offer["offer_id"]]
    assert pay(api, card, 1_000, [cookie["offer_id"]]).status_code == 201
    assert usable(api.cashier()) == []
    clock.now += timedelta(days=8)
    assert usable(alex) == []


def test_of_two_entries_of_one_offer_the_till_redeems_the_one_its_merchant_takes(api, clock):
    card = api.join("alice").json_body["card_number"]
    anywhere = {**COOKIE, "trigger": {"type": "checkin"}, "reward": {"type": "amount_off", "amount": 100}}
    anywhere["limits"] = {}
    offer = api.call("POST", "/v1/offers", ADMIN, anywhere).json_body
    assert len(check_in(api, MITTE).json_body["offers"]) == 1  # redeemable at Kiez
    clock.now += timedelta(days=1)
    alex_door = {"type": "beacon", "uuid": DOOR["uuid"], "major": 300, "minor": 1}
    assert len(check_in(api, alex_door).json_body["offers"]) == 1  # redeemable at Nordlicht
    alex = mint("demo-cashier-alex", ["cashier"], "m_nordlicht")
    at_alex = pay(api, card, 1_000, [offer["offer_id"]], store="s_nordlicht_alex", token=alex)
    assert at_alex.status_code == 201, at_alex.json_body
    assert pay(api, card, 1_000, [offer["offer_id"]]).status_code == 201
    spent = pay(api, card, 1_000, [offer["offer_id"]])
    assert spent.json_body["error"]["code"] == "offer_already_redeemed"


def wallet_reads(api, monkeypatch, body, sub="alice"):
    """How many requests one check-in sends to the wallet table."""
    from botocore.client import BaseClient

    original, tables = BaseClient._make_api_call, []

    def recording(client, operation, params):
        tables.extend([params["TableName"]] if "TableName" in params else list(params.get("RequestItems", ["-"])))
        return original(client, operation, params)

    with monkeypatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", recording)
        response = check_in(api, body, sub)
    assert response.status_code == 200, response.json_body
    return sum(1 for t in tables if t.endswith("wallet"))


def test_a_check_in_reads_the_wallet_only_for_the_offers_its_visit_brought(api, clock, monkeypatch):
    api.join("alice")
    new_offer(api, trigger={"type": "checkin", "store_id": "s_kiez_kreuzberg"})
    unknown_beacon = {**DOOR, "minor": 999}
    check_in(api, unknown_beacon)  # the catalog cached, as on a warm Lambda
    assert wallet_reads(api, monkeypatch, unknown_beacon) == 0  # no store located
    assert wallet_reads(api, monkeypatch, MITTE) == 0  # a store where no offer fits
    assert wallet_reads(api, monkeypatch, DOOR) == 0  # its same visit, which issued nothing
    new_offer(api)
    clock.now += timedelta(hours=1)
    # The history the offer's limits count is the member's activity item, read with the member.
    assert wallet_reads(api, monkeypatch, MITTE) == 0
    assert wallet_reads(api, monkeypatch, DOOR) == 1  # the offers the visit brought, by their keys


def test_more_check_ins_in_a_minute_than_a_phone_sends_are_429_naming_no_field(api, clock):
    api.join("alice")
    answers = [check_in(api, DOOR) for _ in range(7)]
    assert [a.status_code for a in answers] == [200] * 6 + [429]
    assert answers[-1].json_body == {
        "error": {"code": "checkin_rate_limited", "message": "too many check-ins: a phone sends a few a minute at most"}
    }
    clock.now += timedelta(minutes=1)
    assert check_in(api, DOOR).status_code == 200
