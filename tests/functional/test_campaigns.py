"""Campaigns: drafted, launched once, sent through the contact policy to an audience from the
members' snapshot with a hold-out group, and reported as a funnel with the lift."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

import app as handlers
from chalicelib import queues
from chalicelib.domain.campaigns import held_out
from chalicelib.services import attribution
from chalicelib.store import streams
from chalicelib.store.ledger import LedgerEntryModel
from scripts.token import mint

MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")
OTHER_MARKETER = mint("nord-marketer", ["marketer"], "m_nordlicht")


def drain(api):
    """The contacts queue through the handler Lambda calls, until it is empty."""
    while queues.poll_once(queues.CONTACTS, handlers.contact_members):
        pass


def new_campaign(api, **extra):
    body = {
        "name": "Autumn coffee",
        "message": {"title": "{name}, autumn is here", "body": "Your {favourite_category}, {balance} points waiting"},
        "segment": {},
        "holdout_percent": 0,
        **extra,
    }
    created = api.call("POST", "/v1/campaigns", MARKETER, body)
    assert created.status_code == 201, created.json_body
    return created.json_body


def launch(api, campaign_id, token=MARKETER):
    return api.call("POST", f"/v1/campaigns/{campaign_id}/launch", token)


def report(api, campaign_id):
    answer = api.call("GET", f"/v1/reports/campaigns/{campaign_id}", MARKETER)
    assert answer.status_code == 200, answer.json_body
    return answer.json_body


def buy(api, card, amount=2_000, offer_ids=()):
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR"}
    if offer_ids:
        body["offer_ids"] = list(offer_ids)
    answer = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.json_body
    return answer.json_body


@pytest.fixture
def members(api, clock):
    """Ann and Ben consent (Ann bought coffee), Cid does not."""
    cards = {
        "ann": api.join("ann", phone="0151 11111111", name="Ann Example").json_body["card_number"],
        "ben": api.join("ben", phone="0151 22222222", name="Ben Example").json_body["card_number"],
        "cid": api.join("cid", phone="0151 33333333", marketing_consent=False).json_body["card_number"],
    }
    api.call(
        "POST",
        "/v1/purchases",
        api.cashier(),
        {
            "card": cards["ann"],
            "store_id": "s_kiez_mitte",
            "amount": 500,
            "currency": "EUR",
            "items": [{"sku": "flat-white", "category": "coffee", "qty": 1, "price": 500}],
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    api.feed_snapshot()
    clock.now += timedelta(hours=1)
    return cards


def test_a_launch_reaches_the_audience_once_personalised_and_says_who_was_held_back(api, members, clock):
    campaign = new_campaign(api)
    assert campaign["status"] == "draft" and campaign["merchant_id"] == "m_kiez"
    launched = launch(api, campaign["campaign_id"])
    assert launched.status_code == 200, launched.json_body
    run = launched.json_body["run"]
    assert (run["audience"], run["holdout"], run["no_consent"], run["to_contact"]) == (3, 0, 1, 2)
    assert launched.json_body["campaign"]["status"] == "sent"
    drain(api)

    [ann_message] = api.inbox("ann", "campaign")
    assert ann_message["title"] == "Ann, autumn is here"
    assert ann_message["body"].startswith("Your coffee, ")
    [ben_message] = api.inbox("ben", "campaign")
    assert ben_message["body"].startswith("Your our favourites, 0 points")  # no favourite yet
    assert api.inbox("cid", "campaign") == []

    again = launch(api, campaign["campaign_id"])
    assert again.status_code == 409 and again.json_body["error"]["code"] == "already_launched"
    edit = api.call(
        "PUT",
        f"/v1/campaigns/{campaign['campaign_id']}",
        MARKETER,
        {"name": "x", "message": {"title": "t", "body": "b"}, "segment": {}},
    )
    assert edit.status_code == 409

    funnel = report(api, campaign["campaign_id"])
    assert funnel["audience"] == 3 and funnel["sent"] == 2
    assert funnel["held_back"] == {"no_consent": 1}
    assert api.call("POST", f"/v1/me/inbox/{ann_message['message_id']}/read", api.customer("ann")).status_code == 200
    api.call("POST", f"/v1/me/inbox/{ann_message['message_id']}/read", api.customer("ann"))  # a second report
    assert report(api, campaign["campaign_id"])["opened"] == 1


def test_the_weekly_cap_holds_a_second_campaign_back_and_the_report_says_so(api, members, clock):
    first = new_campaign(api)
    launch(api, first["campaign_id"])
    drain(api)
    clock.now += timedelta(hours=1)
    second = new_campaign(api, name="Too soon")
    assert launch(api, second["campaign_id"]).status_code == 200
    drain(api)
    funnel = report(api, second["campaign_id"])
    assert funnel["sent"] == 0
    assert funnel["held_back"] == {"no_consent": 1, "frequency_cap": 2}
    assert len(api.inbox("ann", "campaign")) == 1


def test_the_hold_out_group_gets_nothing_and_its_purchases_are_the_baseline(api, clock):
    subs = [f"m{n:02d}" for n in range(12)]
    cards = {sub: api.join(sub, phone=f"0151 4400{n:04d}").json_body["card_number"] for n, sub in enumerate(subs)}
    api.feed_snapshot()
    clock.now += timedelta(hours=1)
    campaign = new_campaign(api, holdout_percent=50, attribution_days=3)
    held = {sub for sub in subs if held_out(campaign["campaign_id"], sub, 50)}
    assert 0 < len(held) < len(subs)  # the draw is fixed per campaign and member
    run = launch(api, campaign["campaign_id"]).json_body["run"]
    assert run["holdout"] == len(held)
    drain(api)
    for sub in subs:
        assert bool(api.inbox(sub, "campaign")) is (sub not in held)

    # Every treated member and one held-out member buy the next day; nobody buys after the window.
    ledger = streams.StreamReader(LedgerEntryModel)
    ledger.poll(lambda records: None)  # what came before the campaign is not its business
    clock.now += timedelta(days=1)
    treated = [s for s in subs if s not in held]
    for sub in treated:
        buy(api, cards[sub], 1_000)
    buy(api, cards[sorted(held)[0]], 1_000)
    clock.now += timedelta(days=5)
    buy(api, cards[treated[0]], 1_000)  # outside the 3-day window
    counted = []
    for _ in range(2):  # a stream delivered twice counts once
        ledger._iterators.clear()
        ledger._last_sequence.clear()
        ledger.poll(
            lambda records: counted.append(
                attribution.on_ledger_records(
                    [(r["eventName"], r["dynamodb"].get("NewImage")) for r in records], clock=lambda: clock.now
                )
            )
        )
    funnel = report(api, campaign["campaign_id"])
    assert funnel["treated"]["members"] == len(treated)
    assert funnel["treated"]["converted"] == len(treated)
    assert funnel["treated"]["conversion_rate"] == 1.0
    assert funnel["holdout"]["members"] == len(held) and funnel["holdout"]["converted"] == 1
    assert funnel["lift"] == pytest.approx(1.0 - round(1 / len(held), 4), abs=1e-4)
    assert funnel["treated"]["revenue_minor"] > 0


def test_a_campaign_offer_is_issued_with_the_message_and_its_redemption_reported(api, members, clock):
    offer = api.call(
        "POST",
        "/v1/offers",
        MARKETER,
        {"title": "20% off", "trigger": {"type": "campaign"}, "reward": {"type": "percent_off", "percent": 20}},
    ).json_body
    campaign = new_campaign(api, offer_id=offer["offer_id"], segment={"consent_only": True})
    launch(api, campaign["campaign_id"])
    drain(api)
    wallet = api.call("GET", "/v1/me/offers", api.customer("ann")).json_body["items"]
    assert [o["offer_id"] for o in wallet] == [offer["offer_id"]]
    ledger = streams.StreamReader(LedgerEntryModel)
    ledger.poll(lambda records: None)
    clock.now += timedelta(hours=2)
    bought = buy(api, members["ann"], 3_000, offer_ids=[offer["offer_id"]])
    ledger.poll(
        lambda records: attribution.on_ledger_records(
            [(r["eventName"], r["dynamodb"].get("NewImage")) for r in records], clock=lambda: clock.now
        )
    )
    funnel = report(api, campaign["campaign_id"])
    assert funnel["offers_redeemed"] == 1
    assert funnel["redeemer_revenue_minor"] == bought["amount_due"]


def test_a_scheduled_campaign_runs_when_due_and_a_recurring_one_at_each_occurrence(api, members, clock):
    later = (clock.now + timedelta(days=2)).replace(microsecond=0)
    once = new_campaign(api, schedule={"at": later.isoformat()})
    launched = launch(api, once["campaign_id"]).json_body
    assert launched["run"] is None and launched["campaign"]["status"] == "scheduled"
    assert api.run_job("campaigns", later - timedelta(minutes=5))["started"] == 0
    assert api.run_job("campaigns", later)["started"] == 1
    assert api.run_job("campaigns", later + timedelta(minutes=5))["started"] == 0
    assert api.call("GET", f"/v1/campaigns/{once['campaign_id']}", MARKETER).json_body["status"] == "sent"
    assert len(api.inbox("ann", "campaign")) == 1

    weekly = new_campaign(
        api, name="Friday treat", schedule={"rrule": "FREQ=WEEKLY;BYDAY=FR;BYHOUR=10;BYMINUTE=0"}, segment={}
    )
    started = launch(api, weekly["campaign_id"]).json_body["campaign"]
    assert started["status"] == "recurring"
    first = datetime.fromisoformat(started["next_run_at"])
    assert first.astimezone(UTC) > clock.now
    assert api.run_job("campaigns", first)["started"] == 1
    after = api.call("GET", f"/v1/campaigns/{weekly['campaign_id']}", MARKETER).json_body
    assert len(after["runs"]) == 1
    assert datetime.fromisoformat(after["next_run_at"]) - first == timedelta(days=7)
    assert api.call("DELETE", f"/v1/campaigns/{weekly['campaign_id']}", MARKETER).status_code == 204
    assert api.run_job("campaigns", first + timedelta(days=7))["started"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"message": {"title": "Hi {nickname}", "body": "b"}}, "message.title"),
        ({"message": {"title": "Hi", "body": "an { unclosed"}}, "message.body"),
        ({"segment": None}, "segment"),
        ({"segment_id": "seg_nope", "segment": None}, "segment_id"),
        ({"offer_id": "offer_nope"}, "offer_id"),
        ({"schedule": {"rrule": "FREQ=HOURLY"}}, "schedule.rrule"),
        ({"schedule": {"rrule": "NOT A RULE"}}, "schedule.rrule"),
        ({"schedule": {}}, "schedule"),
        ({"segment": {"tiers": ["Platinum"]}}, "segment.tiers.0"),
        ({"holdout_percent": 80}, "holdout_percent"),
    ],
)
def test_a_campaign_that_cannot_work_is_refused_naming_the_field(api, change, field):
    body = {"name": "x", "message": {"title": "t", "body": "b"}, "segment": {}, **change}
    answer = api.call("POST", "/v1/campaigns", MARKETER, body)
    assert answer.status_code in (400, 422), answer.json_body
    assert answer.json_body["error"]["field"] == field


def test_campaigns_are_the_merchants_own(api):
    campaign = new_campaign(api)
    assert api.call("GET", f"/v1/campaigns/{campaign['campaign_id']}", OTHER_MARKETER).status_code == 404
    assert launch(api, campaign["campaign_id"], OTHER_MARKETER).status_code == 404
    assert api.call("GET", "/v1/campaigns", OTHER_MARKETER).json_body["items"] == []
    assert [c["campaign_id"] for c in api.call("GET", "/v1/campaigns", MARKETER).json_body["items"]] == [
        campaign["campaign_id"]
    ]
    assert api.call("GET", "/v1/campaigns", api.customer("ann")).status_code == 403


def test_the_calendar_shows_the_plan_and_what_to_prepare(api, clock):
    year = clock.now.year + 1
    at = datetime(year, 3, 20, 9, tzinfo=UTC)
    campaign = new_campaign(api, name="Spring menu", schedule={"at": at.isoformat()}, tags=["new menu"])
    launch(api, campaign["campaign_id"])
    answer = api.call("GET", f"/v1/calendar?year={year}", MARKETER)
    assert answer.status_code == 200, answer.json_body
    entries = answer.json_body["entries"]
    assert answer.json_body["country"] == "DE"
    mine = [e for e in entries if e["kind"] == "campaign"]
    assert mine == [
        {
            "date": f"{year}-03-20",
            "end": None,
            "kind": "campaign",
            "title": "Spring menu",
            "id": campaign["campaign_id"],
            "status": "scheduled",
            "note": "new menu",
        }
    ]
    christmas = next(e for e in entries if e["date"] == f"{year}-12-25")
    assert christmas["kind"] == "holiday" and christmas["note"] == f"prepare by {year}-12-04"
    assert any(e["kind"] == "season" and e["title"] == "Black Friday" for e in entries)
    assert [e["date"] for e in entries] == sorted(e["date"] for e in entries)
    assert api.call("GET", "/v1/calendar?year=1999", MARKETER).status_code in (400, 422)
