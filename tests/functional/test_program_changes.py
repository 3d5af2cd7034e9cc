"""PUT /v1/program: changes that would strand members, re-denominate money or give the bill away."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.store.members import MemberModel
from scripts.token import mint

ADMIN = mint("demo-admin", ["admin"])


def current(api):
    return api.call("GET", "/v1/program", ADMIN).json_body


def put(api, rules):
    return api.call("PUT", "/v1/program", ADMIN, rules)


def with_tiers(rules, *renames, drop=()):
    tiers = []
    for tier in rules["tiers"]:
        if tier["name"] in drop:
            continue
        tiers.append({**tier, "name": dict(renames).get(tier["name"], tier["name"])})
    return {**rules, "tiers": tiers}


def buy(api, card):
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": 1000, "currency": "EUR"}
    return api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})


@pytest.fixture
def gold_member(api):
    joined = api.join("alice").json_body
    MemberModel("alice").update(actions=[MemberModel.tier.set("Gold")])
    return joined


def test_renaming_a_tier_without_a_migration_is_422_naming_tiers_and_changes_nothing(api):
    before = current(api)
    response = put(api, with_tiers(before, ("Gold", "Platinum")))
    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "tiers"
    assert "Gold" in response.json_body["error"]["message"]
    assert current(api) == before
    dropped = put(api, with_tiers(before, drop=("Gold",)))
    assert dropped.status_code == 422 and dropped.json_body["error"]["field"] == "tiers"


def test_a_rename_with_its_migration_moves_every_holder_without_touching_them(api, gold_member):
    rules = with_tiers(current(api), ("Gold", "Platinum"))
    saved = put(api, {**rules, "tier_migrations": {"Gold": "Platinum"}})
    assert saved.status_code == 200, saved.json_body
    assert saved.json_body["tier_migrations"] == {"Gold": "Platinum"}
    profile = api.call("GET", "/v1/me", api.customer("alice")).json_body
    assert profile["tier"] == "Platinum" and profile["tier_progress"]["tier"] == "Platinum"
    lookup = api.call("GET", f"/v1/cards/{gold_member['card_number']}", api.cashier()).json_body
    assert lookup["tier"] == "Platinum"
    bought = buy(api, gold_member["card_number"]).json_body
    assert bought["tier"] == "Platinum" and bought["tier_upgraded"] is False
    assert bought["earn_multiplier_percent"] == 150  # Platinum is the old Gold: its multiplier applies
    # The rules as read save back unchanged, migrations included.
    again = put(api, current(api))
    assert again.status_code == 200 and again.json_body["tier_migrations"] == {"Gold": "Platinum"}


def test_dropping_a_tier_maps_its_members_to_the_kept_tier_named(api, gold_member):
    saved = put(api, {**with_tiers(current(api), drop=("Gold",)), "tier_migrations": {"Gold": "Silver"}})
    assert saved.status_code == 200, saved.json_body
    assert api.call("GET", "/v1/me", api.customer("alice")).json_body["tier"] == "Silver"


def test_a_migration_to_a_tier_the_rules_lack_is_422_naming_it(api):
    rules = with_tiers(current(api), drop=("Gold",))
    response = put(api, {**rules, "tier_migrations": {"Gold": "Diamond"}})
    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "tier_migrations.Gold"


@pytest.mark.parametrize("currency", ["ZZZ", "XTS", "HRK"])
def test_a_currency_that_is_not_an_active_iso_4217_code_is_422(api, currency):
    response = put(api, {**current(api), "currency": currency})
    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "currency"


def test_the_currency_may_change_until_the_first_purchase_and_never_after(api):
    rules = current(api)
    changed = put(api, {**rules, "currency": "CHF"})
    assert changed.status_code == 200 and changed.json_body["currency"] == "CHF"
    assert put(api, {**current(api), "currency": "EUR"}).status_code == 200
    card = api.join("alice").json_body["card_number"]
    assert buy(api, card).status_code == 201
    refused = put(api, {**current(api), "currency": "CHF"})
    assert refused.status_code == 409
    assert refused.json_body["error"]["code"] == "currency_locked"
    assert refused.json_body["error"]["field"] == "currency"
    assert current(api)["currency"] == "EUR"
    # Other changes still save.
    assert put(api, {**current(api), "name": "Kiez Card+"}).status_code == 200


@pytest.mark.parametrize("top", [51, 100])
def test_a_cumulative_discount_over_half_the_bill_is_422_with_the_reason(api, top):
    rules = current(api)
    ladder = {**rules["cumulative_discount"], "max_percent": top}
    response = put(api, {**rules, "cumulative_discount": ladder})
    assert response.status_code == 422
    error = response.json_body["error"]
    assert error["field"] == "cumulative_discount.max_percent"
    assert "at most 50" in error["message"] and "margin" in error["message"]


def test_a_ladder_whose_base_is_above_its_top_is_422(api):
    rules = current(api)
    ladder = {**rules["cumulative_discount"], "base_percent": 20, "max_percent": 10}
    response = put(api, {**rules, "cumulative_discount": ladder})
    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "cumulative_discount.base_percent"


def test_offers_and_promotions_aimed_at_a_renamed_tier_follow_it_in_the_same_save(api, gold_member):
    marketer = mint("demo-marketer", ["marketer"], "m_kiez")
    now = datetime.now(UTC)
    window = {"valid_from": (now - timedelta(hours=1)).isoformat(), "valid_to": (now + timedelta(hours=2)).isoformat()}
    promo = {"name": "Gold weekend", "multiplier_percent": 200, "tiers": ["Gold"], **window}
    promotion = api.call("POST", "/v1/promotions", marketer, promo).json_body
    offer_body = {
        "title": "For Gold",
        "trigger": {"type": "checkin"},
        "targeting": {"tiers": ["Silver", "Gold"]},
        "reward": {"type": "bonus_points", "points": 10},
    }
    offer = api.call("POST", "/v1/offers", marketer, offer_body).json_body
    saved = put(api, {**with_tiers(current(api), ("Gold", "Platinum")), "tier_migrations": {"Gold": "Platinum"}})
    assert saved.status_code == 200, saved.json_body
    assert api.call("GET", f"/v1/promotions/{promotion['promotion_id']}", marketer).json_body["tiers"] == ["Platinum"]
    retargeted = api.call("GET", f"/v1/offers/{offer['offer_id']}", marketer).json_body
    assert retargeted["targeting"]["tiers"] == ["Silver", "Platinum"]
    bought = buy(api, gold_member["card_number"]).json_body
    assert bought["promotion_ids"] == [promotion["promotion_id"]]


def test_a_promotion_for_a_tier_the_program_lacks_is_422_naming_it(api):
    now = datetime.now(UTC)
    body = {
        "name": "Nobody's",
        "multiplier_percent": 200,
        "tiers": ["Silver", "Diamond"],
        "valid_from": now.isoformat(),
        "valid_to": (now + timedelta(hours=1)).isoformat(),
    }
    response = api.call("POST", "/v1/promotions", mint("demo-marketer", ["marketer"], "m_kiez"), body)
    assert response.status_code == 422 and response.json_body["error"]["field"] == "tiers.1"


def test_a_tier_review_treats_a_renamed_tier_as_the_tier_it_became(api):
    card = api.join("alice").json_body["card_number"]
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": 40_000, "currency": "EUR"}
    bought = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert bought.json_body["tier"] == "Silver"
    saved = put(api, {**with_tiers(current(api), ("Silver", "Argent")), "tier_migrations": {"Silver": "Argent"}})
    assert saved.status_code == 200, saved.json_body
    due = api.call("GET", "/v1/me", api.customer("alice")).json_body["tier_review_on"]
    review = api.call("POST", "/v1/jobs/tier_review/run", ADMIN, {"at": f"{due}T03:00:00Z"})
    # The window no longer reaches the tier: a grace month in Argent, not a silent fall to Bronze.
    assert review.json_body["result"]["grace"] == 1, review.json_body
    me = api.call("GET", "/v1/me", api.customer("alice")).json_body
    assert me["tier"] == "Argent" and me["tier_grace_until"] is not None
