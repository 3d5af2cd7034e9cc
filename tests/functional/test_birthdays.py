"""The birthdays job over HTTP: selected through the month-day index, fanned out on the contacts
queue, greeted once a year in the member's own time zone, with the bonus in the ledger."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

import app as handlers
from chalicelib import queues
from chalicelib.domain.offers import Offer, Targeting, Trigger
from chalicelib.store import catalog
from scripts.token import mint

ADMIN = mint("demo-admin", ["admin"])
#: 11:00 in Berlin on 24 November 2026; already 25 November on Kiritimati (UTC+14).
NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)


@pytest.fixture
def members(api, clock):
    clock.now = datetime(2026, 1, 10, 10, tzinfo=UTC)
    api.join("alice", phone="0151 11111111", name="Alice Liddell", birthday="1990-11-24")
    api.join("bob", phone="0151 22222222", birthday="1985-06-01")
    api.join("kiri", phone="0151 33333333", name="Kiri Line", birthday="1992-11-25", timezone="Pacific/Kiritimati")
    api.join("nora", phone="0151 44444444", birthday="1991-11-24", marketing_consent=False)
    api.join("leap", phone="0151 55555555", name="Leap Year", birthday="2000-02-29")
    clock.now = NOW
    return api


def run(api, at=NOW):
    return api.run_job("birthdays", at)


def inbox(api, sub):
    return api.inbox(sub, "birthday")


def bonuses(api, sub):
    entries = api.call("GET", "/v1/me/ledger", api.customer(sub)).json_body["items"]
    return [e["points"] for e in entries if e["reason"] == "birthday_bonus"]


def test_members_are_greeted_on_their_birthday_in_their_zone_once_with_their_bonus(members):
    summary = run(members)
    assert summary["job"] == "birthdays" and summary["messages"] >= 1
    [greeting] = inbox(members, "alice")
    assert greeting["title"] == "Happy birthday, Alice!"
    assert "100 birthday points" in greeting["body"]
    assert bonuses(members, "alice") == [100]
    assert members.call("GET", "/v1/me", members.customer("alice")).json_body["points_balance"] == 100
    [kiri] = inbox(members, "kiri")  # already the 25th where Kiri lives
    assert kiri["title"] == "Happy birthday, Kiri!"
    assert inbox(members, "bob") == []
    # Hourly runs the same day (and the same moment again): nobody is greeted twice.
    run(members)
    run(members, NOW.replace(hour=15))
    assert len(inbox(members, "alice")) == 1 and bonuses(members, "alice") == [100]


def test_no_consent_no_birthday_message_and_no_points(members):
    run(members)
    assert inbox(members, "nora") == [] and bonuses(members, "nora") == []


def test_29_february_is_greeted_on_28_february_in_a_common_year(members, clock):
    clock.now = datetime(2027, 2, 28, 11, tzinfo=UTC)
    run(members, clock.now)
    [greeting] = inbox(members, "leap")
    assert greeting["title"] == "Happy birthday, Leap!"


def test_the_greeting_brings_a_birthday_offer_that_fits(members):
    cake = Offer(
        "o_birthday_cake",
        "A slice of cake on us",
        Trigger("birthday"),
        {"type": "free_item", "sku": "cake"},
        merchant_id="m_kiez",
    )
    catalog.put(cake)
    catalog.put(dataclasses.replace(cake, offer_id="o_gold_only", targeting=Targeting(tiers=("Gold",)), priority=9))
    run(members)
    [greeting] = inbox(members, "alice")
    assert greeting["offer_id"] == "o_birthday_cake" and "A slice of cake on us" in greeting["body"]
    wallet = members.call("GET", "/v1/me/offers", members.customer("alice")).json_body["items"]
    assert [w["offer_id"] for w in wallet] == ["o_birthday_cake"]


def test_the_program_can_turn_birthdays_off(members):
    from chalicelib.domain.program import Moments

    rules = catalog.program_rules()
    catalog.put(
        dataclasses.replace(rules, moments=Moments(birthday=dataclasses.replace(Moments().birthday, enabled=False)))
    )
    assert run(members)["selected"] == 0
    assert inbox(members, "alice") == []


def test_a_run_interrupted_before_its_consumers_and_run_again_greets_nobody_twice(members):
    # The first run's members were enqueued but not decided (the consumers stopped); a second
    # run enqueues them again; then both messages are consumed.
    for _ in range(2):
        assert members.call("POST", "/v1/jobs/birthdays/run", ADMIN, {"at": NOW.isoformat()}).status_code == 200
    assert queues.poll_once(queues.CONTACTS, handlers.contact_members, max_messages=1) == 1
    while queues.poll_once(queues.CONTACTS, handlers.contact_members):
        pass
    assert len(inbox(members, "alice")) == 1 and bonuses(members, "alice") == [100]
