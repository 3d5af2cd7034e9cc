"""Anticipation in the product: the purchase history kept from the purchases stream, the weekly
``fit_predictor`` job fitting on it and storing the fit, the members' predictions fanned out on
the contacts queue, the reminders reading them, and a visit between two fits moving them."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import boto3
import duckdb
import pytest

import app as handlers
from chalicelib import jobs, queues
from chalicelib.config import settings
from chalicelib.domain.anticipation import MODEL
from chalicelib.services import anticipation, member_snapshot, prediction
from chalicelib.store import features as features_store
from chalicelib.store import snapshot, streams
from chalicelib.store.ledger import LedgerEntryModel, PurchaseModel
from chalicelib.store.members import MemberModel
from scripts.token import mint

START = datetime(2026, 1, 5, 10, tzinfo=UTC)  # a Monday, 11:00 in Berlin
ADMIN = mint("demo-admin", ["admin"])


@pytest.fixture
def feed(api, clock):
    """The three streams the history and the rhythm come from, drained as their Lambdas would."""
    purchases, members, ledger = (streams.StreamReader(m) for m in (PurchaseModel, MemberModel, LedgerEntryModel))

    def drain():
        members.poll(lambda records: member_snapshot.on_member_records(records, at=clock()))
        purchases.poll(member_snapshot.on_purchase_records)
        ledger.poll(
            lambda records: prediction.on_ledger_records(
                [(r["eventName"], r["dynamodb"].get("NewImage")) for r in records], clock=clock
            )
        )

    return drain


def buy(api, clock, card, at, amount=1500):
    clock.now = at
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR"}
    answer = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.json_body
    return answer.json_body


def join(api, clock, sub, n):
    clock.now = START - timedelta(days=1)
    answer = api.join(sub, phone=f"0151 {n:08d}", name=f"{sub.title()} Example")
    assert answer.status_code == 201, answer.json_body
    return answer.json_body["card_number"]


@pytest.fixture
def program_with_history(api, clock, feed):
    """Alice buys every 7 days; twelve others now and then; some once."""
    cards = {"alice": join(api, clock, "alice", 1)}
    for week in range(8):
        buy(api, clock, cards["alice"], START + timedelta(days=7 * week), amount=2500)
    for n in range(12):
        sub = f"member{n}"
        cards[sub] = join(api, clock, sub, 100 + n)
        for k in range(n % 4 + 1):
            buy(api, clock, cards[sub], START + timedelta(days=3 + 11 * k + n), amount=800 + 100 * n)
    feed()
    return cards


def fit(api, at):
    """The job over HTTP, without draining the queue (the test decides when its messages land)."""
    answer = api.call("POST", "/v1/jobs/fit_predictor/run", ADMIN, {"at": at.isoformat()})
    assert answer.status_code == 200, answer.json_body
    return answer.json_body["result"]


def deliver():
    while queues.poll_once(queues.CONTACTS, handlers.contact_members):
        pass


def test_the_weekly_fit_predicts_every_member_who_bought_and_stores_its_version(api, clock, program_with_history):
    at = START + timedelta(days=52)
    clock.now = at
    result = fit(api, at)
    assert result["job"] == "fit_predictor" and result["customers"] == 13
    assert result["purchase_days"] == 8 + sum(n % 4 + 1 for n in range(12))
    assert result["messages"] == 1 and result["version"] == at.strftime("%Y%m%dT%H%M%SZ")
    stored = anticipation.current_fit()
    assert stored is not None and stored.version == result["version"] and stored.params["model"] == MODEL
    deliver()

    alice = features_store.get_features("alice").prediction
    last = (START + timedelta(days=49)).date()
    assert alice is not None and alice.model == f"{MODEL}@{result['version']}"
    assert alice.wait_days == 7 and alice.next_visit_at.date() == last + timedelta(days=7)
    assert 0.5 < (alice.p_active or 0) <= 1
    predicted = [features_store.get_features(f"member{n}").prediction for n in range(12)]
    assert all(p is not None and p.model == alice.model and p.wait_days and p.wait_days >= 1 for p in predicted)
    assert features_store.subs_next_visit_on(last + timedelta(days=7)) == ["alice"]

    # The reminders read what the fit wrote: two days before Alice's next visit, once.
    reminded = api.run_job("reminders", datetime.combine(last + timedelta(days=5), datetime.min.time(), UTC))
    assert reminded["selected"] == 1 and len(api.inbox("alice", "reminder")) == 1

    # Fitted again a week later: a new version, the old one kept.
    later = fit(api, at + timedelta(days=7))
    assert later["version"] != result["version"] and anticipation.current_fit().version == later["version"]


def test_a_visit_between_two_fits_moves_the_prediction_by_the_fitted_wait(api, clock, program_with_history, feed):
    at = START + timedelta(days=52)
    clock.now = at
    version = fit(api, at)["version"]
    deliver()
    came = START + timedelta(days=54)  # two days early
    buy(api, clock, program_with_history["alice"], came)
    feed()
    alice = features_store.get_features("alice").prediction
    assert alice is not None and alice.model == f"{MODEL}@{version}"
    assert alice.next_visit_at.date() == came.date() + timedelta(days=7) and alice.p_active == 1.0


def test_a_fit_never_overwrites_a_visit_made_after_the_day_it_saw(api, clock, program_with_history, feed):
    at = START + timedelta(days=52)
    clock.now = at
    fit(api, at)  # its messages still on the queue
    came = START + timedelta(days=53)
    buy(api, clock, program_with_history["alice"], came)
    feed()
    before = features_store.get_features("alice").prediction
    deliver()
    after = features_store.get_features("alice").prediction
    assert after == before and after is not None and after.next_visit_at.date() > came.date()
    assert features_store.get_features("member3").prediction.model.startswith(MODEL)


def test_refunded_purchases_and_members_who_left_are_not_in_the_history(api, clock, program_with_history, feed):
    bought = buy(api, clock, program_with_history["member0"], START + timedelta(days=30))
    feed()
    days_of = lambda sub: [day for s, day, _ in anticipation.history(date(2026, 12, 31)) if s == sub]  # noqa: E731
    assert (START + timedelta(days=30)).date() in days_of("member0")
    refund = api.call(
        "POST",
        f"/v1/purchases/{bought['purchase_id']}/refund",
        api.cashier(),
        {},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert refund.status_code in (200, 201), refund.json_body
    feed()
    assert (START + timedelta(days=30)).date() not in days_of("member0")

    customer_id = MemberModel.get("member1").customer_id
    assert api.call("DELETE", "/v1/me", api.customer("member1")).status_code == 204
    feed()
    assert days_of("member1") == []
    # Gone from the files too, within two compactions.
    for _ in range(2):
        api.run_job("snapshot", clock())
    files = [str(p) for p in (snapshot.current().root / "purchases").glob("*.parquet")]
    with duckdb.connect() as con:
        left = con.execute(
            "SELECT count(*) FROM read_parquet(?) WHERE customer_id = ?", [files, customer_id]
        ).fetchone()
    assert left == (0,)
    assert days_of("alice")  # everybody else is still there


def test_with_no_purchases_nothing_is_fitted(api, clock):
    result = fit(api, clock())
    assert result["version"] is None and result["not_fitted"] == "too_few_customers" and result["customers"] == 0
    assert result["messages"] == 0 and anticipation.current_fit() is None


def test_a_program_s_first_weeks_keep_the_interval_model(api, clock, program_with_history):
    # 13 members, but on the 20th day of the program's history: too soon to learn anything
    result = fit(api, START + timedelta(days=20))
    assert result["version"] is None and result["not_fitted"] == "too_short_history" and result["customers"] == 13
    assert anticipation.current_fit() is None


def test_the_history_of_a_program_that_sold_before_it_was_kept_is_built_once_from_the_table(
    api, clock, program_with_history
):
    target = snapshot.current()
    for path in (target.root / "purchases").glob("*"):
        path.unlink()
    assert snapshot.rebuild_if_missing(target, snapshot.PURCHASES) == 8 + sum(n % 4 + 1 for n in range(12))
    assert snapshot.rebuild_if_missing(target, snapshot.PURCHASES) is None
    assert len(anticipation.history(date(2026, 12, 31))) == 8 + sum(n % 4 + 1 for n in range(12))


def test_on_aws_an_admins_run_is_handed_to_the_fits_own_function(api, monkeypatch):
    """The API's package has no scipy: its run of the fit invokes the weekly function, which fits
    as of the moment given, as the schedule's run would."""
    invoked = []

    class Lambda:  # the edge we cannot reach: AWS Lambda's Invoke
        def invoke(self, **call):
            invoked.append(call)
            return {"StatusCode": 202}

    real_client = boto3.client
    monkeypatch.setattr(
        boto3, "client", lambda name, *a, **k: Lambda() if name == "lambda" else real_client(name, *a, **k)
    )
    on_aws = dataclasses.replace(settings(), fit_function="loyalty-dev-FitPredictorWeekly-1AB2")
    monkeypatch.setattr(jobs, "settings", lambda: on_aws)
    at = "2026-03-02T02:30:00Z"
    response = api.call("POST", "/v1/jobs/fit_predictor/run", ADMIN, {"at": at})
    assert response.status_code == 200, response.body
    result = response.json_body["result"]
    assert result["running_in"] == "loyalty-dev-FitPredictorWeekly-1AB2" and result["version"] is None
    (call,) = invoked
    assert call["FunctionName"] == "loyalty-dev-FitPredictorWeekly-1AB2" and call["InvocationType"] == "Event"

    ran = []
    monkeypatch.setattr(jobs, "run", lambda name, moment: ran.append((name, moment)))
    handlers.fit_predictor_weekly(json.loads(call["Payload"]), None)
    assert ran == [("fit_predictor", datetime(2026, 3, 2, 2, 30, tzinfo=UTC))]
