"""The contact policy and the moments are program rules: read, saved, validated and versioned with
the rest, and obeyed by every message."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import contact
from chalicelib.domain.offers import Offer, Trigger
from chalicelib.services import issuing
from chalicelib.services.issuing import Sent
from chalicelib.store import catalog
from scripts.token import mint

ADMIN = mint("demo-admin", ["admin"])


def current(api):
    return api.call("GET", "/v1/program", api.cashier()).json_body


def save(api, **changes):
    return api.call("PUT", "/v1/program", ADMIN, {**current(api), **changes})


def test_the_rules_show_the_contact_policy_and_the_moments_with_their_defaults(api):
    rules = current(api)
    assert rules["contact"] == {
        "marketing_per_week": 1,
        "quiet_start": "21:00",
        "quiet_end": "09:00",
        "keep_in_touch_after_days": 30,
        "campaign_holdout_percent": 5,
    }
    assert rules["moments"]["birthday"] == {"enabled": True, "bonus_points": 100, "offer_id": None}
    assert set(rules["moments"]) == {"birthday", "surprise", "reminder", "winback", "points_expiring"}


def test_rules_saved_before_the_contact_policy_read_as_its_defaults(api):
    item = catalog.ProgramItem.get("program", "current")
    item.body = {k: v for k, v in item.body.items() if k not in ("contact", "moments")}
    item.save()
    catalog.put(catalog.get(catalog.Merchant, "m_kiez"))  # any write of a definition refreshes the caches
    assert current(api)["contact"]["marketing_per_week"] == 1


def test_an_admin_changes_the_policy_and_it_is_a_new_version(api):
    before = current(api)
    contact_policy = {**before["contact"], "marketing_per_week": 2, "quiet_start": "22:30", "quiet_end": "07:00"}
    moments = {**before["moments"], "birthday": {"enabled": True, "bonus_points": 250, "offer_id": None}}
    saved = save(api, contact=contact_policy, moments=moments)
    assert saved.status_code == 200, saved.json_body
    assert saved.json_body["version"] == before["version"] + 1
    after = current(api)
    assert after["contact"] == contact_policy and after["moments"]["birthday"]["bonus_points"] == 250


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"contact": {"quiet_start": "25:00"}}, "contact.quiet_start"),
        ({"contact": {"quiet_end": "9am"}}, "contact.quiet_end"),
        ({"contact": {"marketing_per_week": 8}}, "contact.marketing_per_week"),
        ({"contact": {"keep_in_touch_after_days": 3}}, "contact.keep_in_touch_after_days"),
        ({"moments": {"birthday": {"bonus_points": -1}}}, "moments.birthday.bonus_points"),
        ({"moments": {"birthday": {"offer_id": "o_nowhere"}}}, "moments.birthday.offer_id"),
        ({"moments": {"points_expiring": {"days_before": 0}}}, "moments.points_expiring.days_before"),
    ],
)
def test_a_wrong_setting_is_a_422_naming_it_and_saves_nothing(api, changes, field):
    before = current(api)
    answer = save(api, **changes)
    assert answer.status_code == 422, answer.json_body
    assert answer.json_body["error"]["field"] == field
    assert current(api)["version"] == before["version"]


def test_a_moments_offer_must_have_the_moments_trigger(api):
    catalog.put(
        Offer("o_coffee", "A coffee", Trigger("checkin"), {"type": "free_item", "sku": "coffee"}, merchant_id="m_kiez")
    )
    moments = current(api)["moments"]
    wrong = save(api, moments={**moments, "birthday": {**moments["birthday"], "offer_id": "o_coffee"}})
    assert wrong.status_code == 422 and wrong.json_body["error"]["field"] == "moments.birthday.offer_id"
    catalog.put(
        Offer("o_cake", "Cake", Trigger("birthday"), {"type": "free_item", "sku": "cake"}, merchant_id="m_kiez")
    )
    right = save(api, moments={**moments, "birthday": {**moments["birthday"], "offer_id": "o_cake"}})
    assert right.status_code == 200, right.json_body


def test_every_message_obeys_the_saved_cap_and_quiet_hours(api, clock):
    clock.now = datetime(2026, 11, 24, 11, tzinfo=UTC)  # noon in Berlin
    api.join("alice")

    def campaign(name):
        return issuing.send("alice", "campaign", contact.campaign_key(name), name, clock=clock)

    assert isinstance(campaign("c1"), Sent)
    assert campaign("c2") == contact.Refused(contact.FREQUENCY_CAP)
    policy = {**current(api)["contact"], "marketing_per_week": 2, "quiet_start": "12:00", "quiet_end": "13:00"}
    assert save(api, contact=policy).status_code == 200
    clock.now += timedelta(minutes=30)  # 12:30 in Berlin: the program's quiet hours now
    second = campaign("c2")
    assert isinstance(second, Sent)
    from chalicelib.store import members as member_store
    from chalicelib.store.wallet import InboxModel

    held = InboxModel.get(member_store.get_member("alice").customer_id, second.message_id)
    assert held.push_after == datetime(2026, 11, 24, 12, tzinfo=UTC)  # 13:00 in Berlin
    assert campaign("c3") == contact.Refused(contact.FREQUENCY_CAP)
    assert dataclasses.is_dataclass(catalog.program_rules().contact)


def test_members_read_the_rules_in_plain_terms_with_their_birthday_gift(api):
    api.join("alice")
    answer = api.call("GET", "/v1/program/public", api.customer("alice"))
    assert answer.status_code == 200, answer.json_body
    public = answer.json_body
    assert public["name"] == "Kiez Card" and [t["name"] for t in public["tiers"]] == ["Bronze", "Silver", "Gold"]
    assert public["birthday_bonus_points"] == 100
    terms = " ".join(public["in_plain_terms"])
    assert "You earn 1 point for every 1 EUR you pay." in terms
    assert "On your birthday: 100 points from us." in terms
    assert "Silver: spend 300 EUR or visit 12 times within 12 months" in terms
    assert api.call("GET", "/v1/program/public", api.cashier()).status_code == 200
    assert api.call("GET", "/v1/program/public").status_code == 401
