"""Purchases at the till: the breakdown, exactly-once, and the ledger that explains the balance."""

import uuid

import pytest

from scripts.token import mint


def buy(api, code, amount, key=None, token=None, **extra):
    body = {"card": code, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR", **extra}
    headers = {"Idempotency-Key": key or str(uuid.uuid4())}
    return api.call("POST", "/v1/purchases", token or api.cashier(), body, headers=headers)


def ledger(api, sub, **query):
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return api.call("GET", f"/v1/me/ledger{suffix}", api.customer(sub)).json_body


@pytest.fixture
def alice(api):
    return api.join("alice", phone="0151 23456789").json_body


def test_a_purchase_earns_points_on_what_is_paid_after_the_discount(api, alice):
    response = buy(api, alice["card_number"], 1250)
    assert response.status_code == 201
    result = response.json_body
    # 5% cumulative discount on the first visit of the month: 62 off 1250 (rounded down).
    assert (result["discount_percent"], result["discount"], result["amount_due"]) == (5, 62, 1188)
    # 1 point per euro paid, rounded down.
    assert result["points_earned"] == 11
    assert result["points_balance"] == 11
    assert result["customer_id"] == alice["customer_id"]
    # The second visit this month is worth one percent more.
    assert buy(api, alice["card_number"], 1000).json_body["discount_percent"] == 6


def test_points_are_redeemed_within_the_cap_and_the_ledger_explains_the_balance(api, alice):
    for _ in range(3):
        buy(api, alice["card_number"], 10_000)
    balance = api.call("GET", "/v1/me", api.customer("alice")).json_body["points_balance"]
    assert balance >= 100
    result = buy(api, alice["card_number"], 500, redeem_points=100).json_body
    assert result["points_redeemed"] == 100 and result["redeemed_value"] == 100
    entries = ledger(api, "alice")["items"]
    assert entries[0]["reason"] == "purchase" and entries[1]["reason"] == "redemption"
    assert entries[1]["points"] == -100
    assert entries[0]["balance_after"] == result["points_balance"]
    assert sum(e["points"] for e in entries) == result["points_balance"]
    assert all(e["merchant_id"] == "m_kiez" and e["store_id"] == "s_kiez_mitte" for e in entries)


def test_redeeming_over_the_cap_or_the_balance_is_422_and_changes_nothing(api, alice):
    buy(api, alice["card_number"], 30_000)
    before = api.call("GET", "/v1/me", api.customer("alice")).json_body["points_balance"]
    response = buy(api, alice["card_number"], 100, redeem_points=before)
    assert response.status_code == 422
    assert response.json_body["error"]["code"] == "redeem_over_limit"
    assert response.json_body["error"]["field"] == "redeem_points"
    assert api.call("GET", "/v1/me", api.customer("alice")).json_body["points_balance"] == before
    assert len(ledger(api, "alice")["items"]) == 1


def test_the_same_key_and_body_replay_the_first_response(api, alice):
    first = buy(api, alice["card_number"], 2000, key="till-7-receipt-1")
    again = buy(api, alice["card_number"], 2000, key="till-7-receipt-1")
    assert again.status_code == first.status_code == 201
    assert again.json_body == first.json_body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(ledger(api, "alice")["items"]) == 1


def test_a_retry_after_the_points_were_spent_still_replays_instead_of_refusing(api, alice):
    buy(api, alice["card_number"], 40_000)
    balance = api.call("GET", "/v1/me", api.customer("alice")).json_body["points_balance"]
    first = buy(api, alice["card_number"], 60_000, key="spend-all", redeem_points=balance)
    assert first.status_code == 201
    # The balance can no longer cover it, but this is the same request: the answer is the same.
    again = buy(api, alice["card_number"], 60_000, key="spend-all", redeem_points=balance)
    assert again.status_code == 201 and again.json_body == first.json_body


def test_the_same_key_with_another_body_is_409(api, alice):
    buy(api, alice["card_number"], 2000, key="k-1")
    response = buy(api, alice["card_number"], 2500, key="k-1")
    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "idempotency_key_reused"


def test_keys_of_different_cashiers_do_not_collide(api, alice):
    other = mint("demo-cashier-kreuzberg", ["cashier"], "m_kiez")
    assert buy(api, alice["card_number"], 2000, key="k-1").status_code == 201
    assert buy(api, alice["card_number"], 2500, key="k-1", token=other).status_code == 201


def test_a_purchase_without_an_idempotency_key_is_400(api, alice):
    body = {"card": alice["card_number"], "store_id": "s_kiez_mitte", "amount": 100, "currency": "EUR"}
    response = api.call("POST", "/v1/purchases", api.cashier(), body)
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "idempotency_key_required"


def test_a_cashier_acts_only_at_their_merchants_stores(api, alice):
    response = buy(api, alice["card_number"], 1000, store_id="s_nordlicht_alex")
    assert response.status_code == 403
    assert response.json_body["error"]["code"] == "wrong_merchant"


def test_the_programs_currency_only(api, alice):
    response = buy(api, alice["card_number"], 1000, currency="USD")
    assert response.status_code == 422
    assert response.json_body["error"]["code"] == "currency_mismatch"


def test_by_customer_id_and_with_items(api, alice):
    body = {
        "customer_id": alice["customer_id"],
        "store_id": "s_kiez_mitte",
        "amount": 1500,
        "currency": "EUR",
        "items": [
            {"sku": "flat-white", "category": "coffee", "qty": 2, "price": 350},
            {"sku": "cake-of-the-day", "category": "cake", "qty": 1, "price": 800, "on_sale": True},
        ],
    }
    result = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": "x"}).json_body
    # The discount does not stack with the cake already on sale: 5% of 700 only.
    assert result["discount"] == 35
    bad = {**body, "amount": 1499}
    response = api.call("POST", "/v1/purchases", api.cashier(), bad, headers={"Idempotency-Key": "y"})
    assert response.status_code == 422 and response.json_body["error"]["field"] == "items"


def test_card_and_customer_id_together_or_neither_is_422(api, alice):
    both = {
        "card": alice["card_number"],
        "customer_id": alice["customer_id"],
        "store_id": "s_kiez_mitte",
        "amount": 100,
        "currency": "EUR",
    }
    neither = {k: v for k, v in both.items() if k not in ("card", "customer_id")}
    for key, body in (("a", both), ("b", neither)):
        response = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": key})
        assert response.status_code == 422


def test_crossing_the_threshold_upgrades_the_tier_at_once(api, alice):
    result = buy(api, alice["card_number"], 35_000).json_body
    assert result["tier"] == "Silver" and result["tier_upgraded"] is True
    assert api.call("GET", "/v1/me", api.customer("alice")).json_body["tier"] == "Silver"
    # Silver earns 1.25x from the next purchase on.
    assert buy(api, alice["card_number"], 10_000).json_body["earn_multiplier_percent"] == 125


def test_the_ledger_pages_newest_first_and_refuses_foreign_cursors(api, alice):
    for amount in (1000, 2000, 3000):
        buy(api, alice["card_number"], amount)
    first = ledger(api, "alice", limit=2)
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = ledger(api, "alice", limit=2, cursor=first["next_cursor"])
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    times = [e["entry_id"] for e in first["items"] + rest["items"]]
    assert times == sorted(times, reverse=True)
    api.join("bob", phone="0151 11111111")
    response = api.call("GET", f"/v1/me/ledger?cursor={first['next_cursor']}", api.customer("bob"))
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "invalid_cursor"


def test_what_the_lookup_says_is_redeemable_is_exactly_what_the_till_may_redeem(api, alice):
    from urllib.parse import quote

    buy(api, alice["card_number"], 100_000)
    summary = api.call("GET", f"/v1/cards/{quote(alice['card_number'])}?amount=1500", api.cashier()).json_body
    allowed = summary["redeemable_points"]
    assert 0 < allowed < summary["points_balance"]
    assert buy(api, alice["card_number"], 1500, redeem_points=allowed + 1).status_code == 422
    assert buy(api, alice["card_number"], 1500, redeem_points=allowed).status_code == 201
