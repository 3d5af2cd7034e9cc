"""Promotions: the marketing team's double-points windows, and what they do at the till."""

from datetime import UTC, datetime, timedelta

from scripts.token import mint

MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")
NORDLICHT_MARKETER = mint("nordlicht-marketer", ["marketer"], "m_nordlicht")
ADMIN = mint("demo-admin", ["admin"])


def window(start_h=-1, end_h=2):
    now = datetime.now(UTC)
    return (now + timedelta(hours=start_h)).isoformat(), (now + timedelta(hours=end_h)).isoformat()


def promote(api, token=MARKETER, **fields):
    start, end = window()
    body = {"name": "Double points", "multiplier_percent": 200, "valid_from": start, "valid_to": end, **fields}
    return api.call("POST", "/v1/promotions", token, body)


def buy(api, card, amount, store="s_kiez_mitte", token=None, **extra):
    body = {"card": card, "store_id": store, "amount": amount, "currency": "EUR", **extra}
    return api.call(
        "POST", "/v1/purchases", token or api.cashier(), body, headers={"Idempotency-Key": f"{card}-{amount}-{store}"}
    )


def test_a_live_double_points_promotion_doubles_the_points(api):
    card = api.join("alice").json_body["card_number"]
    created = promote(api)
    assert created.status_code == 201
    promo = created.json_body
    assert promo["merchant_id"] == "m_kiez" and promo["state"] == "live"
    result = buy(api, card, 10_000).json_body
    assert result["points_earned"] == 190  # 95.00 paid after 5% off, 1 a euro, doubled
    assert result["promotion_ids"] == [promo["promotion_id"]]


def test_a_merchants_promotion_does_not_apply_at_its_partners_stores(api):
    card = api.join("alice").json_body["card_number"]
    promote(api)
    nordlicht_cashier = mint("demo-cashier-alex", ["cashier"], "m_nordlicht")
    result = buy(api, card, 10_000, store="s_nordlicht_alex", token=nordlicht_cashier).json_body
    assert result["points_earned"] == 95 and result["promotion_ids"] == []


def test_a_category_promotion_multiplies_only_that_part_of_the_bill(api):
    card = api.join("alice").json_body["card_number"]
    promote(api, categories=["cake"], multiplier_percent=300)
    items = [
        {"sku": "latte", "category": "coffee", "qty": 2, "price": 2500},
        {"sku": "cheesecake", "category": "cake", "qty": 1, "price": 5000},
    ]
    result = buy(api, card, 10_000, items=items).json_body
    # 95.00 paid: the coffee half earns 47.5, the cake half 3 x 47.5 = 142.5: 190 in all.
    assert result["points_earned"] == 190


def test_promotions_do_not_stack_the_best_one_wins(api):
    card = api.join("alice").json_body["card_number"]
    promote(api, multiplier_percent=150)
    best = promote(api, token=ADMIN, multiplier_percent=300).json_body
    result = buy(api, card, 10_000).json_body
    assert result["points_earned"] == 285 and result["promotion_ids"] == [best["promotion_id"]]


def test_scheduled_expired_paused_and_ended_promotions_do_not_apply(api):
    card = api.join("alice").json_body["card_number"]
    start, end = window(2, 5)
    scheduled = api.call(
        "POST",
        "/v1/promotions",
        MARKETER,
        {"name": "Later", "multiplier_percent": 200, "valid_from": start, "valid_to": end},
    ).json_body
    assert scheduled["state"] == "scheduled"
    promote(api, status="paused")
    ended = promote(api).json_body
    assert api.call("DELETE", f"/v1/promotions/{ended['promotion_id']}", MARKETER).status_code == 204
    assert api.call("GET", f"/v1/promotions/{ended['promotion_id']}", MARKETER).json_body["state"] == "ended"
    assert buy(api, card, 10_000).json_body["points_earned"] == 95


def test_tier_targeted_promotions_apply_only_to_that_tier(api):
    card = api.join("alice").json_body["card_number"]
    promote(api, tiers=["Gold"])
    assert buy(api, card, 10_000).json_body["points_earned"] == 95


def test_marketers_work_only_on_their_merchants_promotions(api):
    assert promote(api, merchant_id="m_nordlicht").status_code == 403
    theirs = promote(api, token=NORDLICHT_MARKETER).json_body
    assert api.call("GET", f"/v1/promotions/{theirs['promotion_id']}", MARKETER).status_code == 404
    assert api.call("DELETE", f"/v1/promotions/{theirs['promotion_id']}", MARKETER).status_code == 404
    program_wide = promote(api, token=ADMIN).json_body
    assert program_wide["merchant_id"] is None
    assert api.call("GET", f"/v1/promotions/{program_wide['promotion_id']}", MARKETER).status_code == 200
    assert api.call("DELETE", f"/v1/promotions/{program_wide['promotion_id']}", MARKETER).status_code == 403
    listed = {p["promotion_id"] for p in api.call("GET", "/v1/promotions", MARKETER).json_body["items"]}
    assert program_wide["promotion_id"] in listed and theirs["promotion_id"] not in listed
    assert promote(api, token=api.cashier()).status_code == 403


def test_bad_promotions_name_the_field(api):
    start, end = window()
    for body, field in (
        ({"valid_from": end, "valid_to": start}, "valid_to"),
        ({"multiplier_percent": 100}, "multiplier_percent"),
        ({"valid_from": "2026-11-23T10:00:00"}, "valid_from"),
        ({"store_ids": ["s_nordlicht_alex"]}, "store_ids.0"),
    ):
        response = promote(api, **body)
        assert response.status_code == 422, body
        assert response.json_body["error"]["field"] == field
