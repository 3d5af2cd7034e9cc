"""The program's rules: read by staff, replaced by an admin, validated and versioned."""

import pytest

from chalicelib.store import catalog
from scripts.token import mint

ADMIN = mint("demo-admin", ["admin"])


def current(api):
    return api.call("GET", "/v1/program", api.cashier()).json_body


def test_staff_read_the_rules(api):
    rules = current(api)
    assert rules["currency"] == "EUR" and [t["name"] for t in rules["tiers"]] == ["Bronze", "Silver", "Gold"]
    assert rules["redemption"]["max_share_percent"] == 50
    assert api.call("GET", "/v1/program", api.customer("alice")).status_code == 403


def test_an_admin_saves_a_new_version_that_applies_at_once(api):
    rules = current(api)
    changed = {**rules, "points_per_currency_unit": 2}
    saved = api.call("PUT", "/v1/program", ADMIN, changed)
    assert saved.status_code == 200, saved.json_body
    assert saved.json_body["version"] == rules["version"] + 1
    assert current(api)["points_per_currency_unit"] == 2
    joined = api.join("alice").json_body
    body = {"card": joined["card_number"], "store_id": "s_kiez_mitte", "amount": 1000, "currency": "EUR"}
    result = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": "k"}).json_body
    assert result["points_earned"] == 19  # 2 a euro of the 9.50 paid after the 5% discount, rounded down
    assert [r.version for r in catalog.program_history()][-1] == saved.json_body["version"]


def test_a_save_based_on_a_stale_version_is_409(api):
    rules = current(api)
    assert api.call("PUT", "/v1/program", ADMIN, {**rules, "name": "First"}).status_code == 200
    stale = api.call("PUT", "/v1/program", ADMIN, {**rules, "name": "Second"})
    assert stale.status_code == 409
    assert stale.json_body["error"]["code"] == "version_conflict"
    assert current(api)["name"] == "First"


def test_only_an_admin_may_change_the_rules(api):
    rules = current(api)
    marketer = mint("demo-marketer", ["marketer"], "m_kiez")
    assert api.call("PUT", "/v1/program", marketer, rules).status_code == 403
    assert api.call("PUT", "/v1/program", api.cashier(), rules).status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "euro"}, "currency"),
        ({"default_region": "XX"}, "default_region"),
        ({"timezone": "Berlin"}, "timezone"),
        ({"tiers": []}, "tiers"),
        ({"redemption": {"max_share_percent": 150}}, "redemption.max_share_percent"),
        ({"expiry": {"mode": "never"}}, "expiry.mode"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(api, change, field):
    rules = current(api)
    response = api.call("PUT", "/v1/program", ADMIN, {**rules, **change})
    assert response.status_code == 422
    assert response.json_body["error"]["field"] == field
    assert current(api)["version"] == rules["version"]


def test_tiers_must_climb(api):
    rules = current(api)
    tiers = [rules["tiers"][0], {**rules["tiers"][2], "name": "Gold"}, {**rules["tiers"][1], "name": "Silver"}]
    response = api.call("PUT", "/v1/program", ADMIN, {**rules, "tiers": tiers})
    assert response.status_code == 422
    assert response.json_body["error"]["field"].startswith("tiers.2")
    dupes = [rules["tiers"][0], {**rules["tiers"][1], "name": "bronze"}]
    assert api.call("PUT", "/v1/program", ADMIN, {**rules, "tiers": dupes}).json_body["error"]["field"] == "tiers"
