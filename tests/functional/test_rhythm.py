"""The member's rhythm from their purchases (the ledger's stream), and the moments that read it:
reminders before the next visit, win-back after a lapse, surprises for regulars within a budget."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.program import Moments, SurpriseMoment
from chalicelib.services import prediction
from chalicelib.store import catalog, counters, streams
from chalicelib.store import features as features_store
from chalicelib.store.ledger import LedgerEntryModel

START = datetime(2026, 3, 2, 10, tzinfo=UTC)  # a Monday, 11:00 in Berlin


@pytest.fixture
def ledger_stream(clock):
    reader = streams.StreamReader(LedgerEntryModel)

    def drain():
        reader.poll(
            lambda records: prediction.on_ledger_records(
                [(r["eventName"], r["dynamodb"].get("NewImage")) for r in records], clock=clock
            )
        )

    return drain


def buy(api, clock, card, at):
    clock.now = at
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": 1500, "currency": "EUR"}
    answer = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.json_body


def weekly(api, clock, ledger_stream, sub, phone, weeks=3, start=START):
    clock.now = start - timedelta(days=1)
    card = api.join(sub, phone=phone, name=f"{sub.title()} Regular").json_body["card_number"]
    for week in range(weeks):
        buy(api, clock, card, start + timedelta(days=7 * week))
    ledger_stream()
    return card


def run(api, job, at):
    return api.run_job(job, at)


def inbox(api, sub, kind):
    return api.inbox(sub, kind)


def test_purchases_keep_the_members_visits_and_prediction(api, clock, ledger_stream):
    weekly(api, clock, ledger_stream, "alice", "0151 11111111")
    ledger_stream()  # the same records again (a redelivery) change nothing
    features = features_store.get_features("alice")
    assert [d.isoformat() for d in features.visit_days] == ["2026-03-02", "2026-03-09", "2026-03-16"]
    assert features.prediction is not None and features.prediction.next_visit_at.date().isoformat() == "2026-03-23"
    assert features_store.subs_next_visit_on(features.prediction.next_visit_at.date()) == ["alice"]


def test_a_reminder_comes_two_days_before_the_next_visit_once(api, clock, ledger_stream):
    weekly(api, clock, ledger_stream, "alice", "0151 11111111")
    at = datetime(2026, 3, 21, 10, tzinfo=UTC)  # two days before the 23rd
    clock.now = at
    assert run(api, "reminders", at - timedelta(days=1))["selected"] == 0
    assert run(api, "reminders", at)["selected"] == 1
    [reminder] = inbox(api, "alice", "reminder")
    assert reminder["title"] == "See you soon, Alice?"
    run(api, "reminders", at + timedelta(hours=3))
    run(api, "reminders", at + timedelta(days=1))
    assert len(inbox(api, "alice", "reminder")) == 1


def test_a_lapsed_member_gets_one_winback_per_lapse(api, clock, ledger_stream):
    card = weekly(api, clock, ledger_stream, "alice", "0151 11111111")
    late = datetime(2026, 4, 6, 10, tzinfo=UTC)  # 14 days past the 23 March they were expected
    clock.now = late
    run(api, "winback", late)
    [word] = inbox(api, "alice", "winback")
    assert word["title"] == "We miss you, Alice"
    run(api, "winback", late + timedelta(days=1))
    assert len(inbox(api, "alice", "winback")) == 1
    # Back, then gone again: a new lapse, a new word.
    buy(api, clock, card, datetime(2026, 4, 20, 10, tzinfo=UTC))
    ledger_stream()
    expected = features_store.get_features("alice").prediction.next_visit_at.date()
    again = datetime.combine(expected + timedelta(days=14), datetime.min.time(), tzinfo=UTC).replace(hour=10)
    clock.now = again
    run(api, "winback", again)
    assert len(inbox(api, "alice", "winback")) == 2


def test_a_member_who_came_back_gets_no_winback(api, clock, ledger_stream):
    card = weekly(api, clock, ledger_stream, "alice", "0151 11111111")
    buy(api, clock, card, datetime(2026, 3, 30, 10, tzinfo=UTC))
    ledger_stream()
    late = datetime(2026, 4, 6, 10, tzinfo=UTC)
    clock.now = late
    run(api, "winback", late)
    assert inbox(api, "alice", "winback") == []


def surprises_for(budget_points, points=50):
    rules = catalog.program_rules()
    surprise = SurpriseMoment(min_visits=3, within_days=30, points=points, monthly_budget_points=budget_points)
    catalog.put(dataclasses.replace(rules, moments=dataclasses.replace(Moments(), surprise=surprise)))


def test_surprises_go_to_regulars_within_the_budget_once_in_months(api, clock, ledger_stream):
    start = datetime(2026, 3, 9, 10, tzinfo=UTC)
    weekly(api, clock, ledger_stream, "alice", "0151 11111111", start=start)
    weekly(api, clock, ledger_stream, "bob", "0151 22222222", start=start)
    weekly(api, clock, ledger_stream, "cleo", "0151 33333333", weeks=1, start=start)  # not a regular
    surprises_for(budget_points=50)  # enough for one of the two regulars
    at = datetime(2026, 3, 24, 10, tzinfo=UTC)
    clock.now = at
    summary = run(api, "surprises", at)
    assert summary["selected"] == 3
    got = [sub for sub in ("alice", "bob", "cleo") if inbox(api, sub, "surprise")]
    assert len(got) == 1 and got[0] in ("alice", "bob")
    assert counters.budget_spent("surprises", "2026-03") == 50
    ledger = api.call("GET", "/v1/me/ledger", api.customer(got[0])).json_body["items"]
    assert [e["points"] for e in ledger if e["reason"] == "surprise"] == [50]
    # A new month, a new budget: the other regular now; the first not again within three months.
    surprises_for(budget_points=100)
    april = datetime(2026, 4, 2, 10, tzinfo=UTC)
    clock.now = april
    run(api, "surprises", april)
    assert all(len(inbox(api, sub, "surprise")) == 1 for sub in ("alice", "bob"))


def test_the_same_day_draws_the_same_order():
    from chalicelib.domain.moments import fair_order
    from chalicelib.jobs.surprises import seed_of

    seed = seed_of("Kiez Card", "2026-03-17")
    assert fair_order(["alice", "bob", "cleo"], seed) == fair_order(["cleo", "alice", "bob"], seed)
