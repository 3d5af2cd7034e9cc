"""Feedback and amends: a complaint lands in the team's inbox and the reply reaches the customer;
a review of a purchase earns its bonus once; a cashier grants amends within their limits at once,
above them the request waits for an admin; every grant is on the ledger with who and why."""

import uuid
from datetime import timedelta

import pytest

from scripts.token import mint

MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")
ADMIN = mint("demo-admin", ["admin"])
NORD_MARKETER = mint("nord-marketer", ["marketer"], "m_nordlicht")


@pytest.fixture
def anna(api, clock):
    joined = api.join("anna", name="Anna Unhappy").json_body
    body = {"card": joined["card_number"], "store_id": "s_kiez_mitte", "amount": 1_500, "currency": "EUR"}
    bought = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert bought.status_code == 201
    return {**joined, "purchase_id": bought.json_body["purchase_id"]}


def feedback(api, sub, **body):
    return api.call("POST", "/v1/me/feedback", api.customer(sub), body)


def amends(api, customer_id, key=None, token=None, **body):
    headers = {"Idempotency-Key": key or str(uuid.uuid4())}
    return api.call("POST", f"/v1/customers/{customer_id}/compensations", token or api.cashier(), body, headers=headers)


def balance(api, sub):
    return api.call("GET", "/v1/me", api.customer(sub)).json_body["points_balance"]


def test_a_complaint_is_answered_in_the_customer_s_inbox_and_closed(api, anna, clock):
    given = feedback(api, "anna", kind="complaint", rating=1, text="Cold coffee", purchase_id=anna["purchase_id"])
    assert given.status_code == 201, given.json_body
    complaint = given.json_body
    assert complaint["status"] == "open" and complaint["store_id"] == "s_kiez_mitte"
    assert complaint["merchant_id"] == "m_kiez" and complaint["bonus_points"] == 0

    inbox = api.call("GET", "/v1/feedback?status=open", MARKETER).json_body["items"]
    assert [f["feedback_id"] for f in inbox] == [complaint["feedback_id"]]
    assert api.call("GET", "/v1/feedback?status=open", NORD_MARKETER).json_body["items"] == []
    assert api.call("GET", "/v1/feedback", api.customer("anna")).status_code == 403

    replied = api.call(
        "POST", f"/v1/feedback/{complaint['feedback_id']}/reply", MARKETER, {"text": "Sorry! The next one is on us."}
    )
    assert replied.status_code == 200, replied.json_body
    assert replied.json_body["status"] == "closed" and replied.json_body["reply"] == "Sorry! The next one is on us."
    [message] = api.inbox("anna", "feedback_reply")
    assert message["body"] == "Sorry! The next one is on us."
    assert api.call("GET", "/v1/feedback?status=open", MARKETER).json_body["items"] == []
    again = api.call("POST", f"/v1/feedback/{complaint['feedback_id']}/reply", MARKETER, {"text": "again"})
    assert again.status_code == 409
    other = api.call("POST", f"/v1/feedback/{complaint['feedback_id']}/reply", NORD_MARKETER, {"text": "x"})
    assert other.status_code == 404


def test_a_review_of_a_purchase_earns_the_bonus_once(api, anna, clock):
    before = balance(api, "anna")
    first = feedback(api, "anna", kind="review", rating=5, text="Lovely", purchase_id=anna["purchase_id"])
    assert first.status_code == 201, first.json_body
    assert first.json_body["status"] == "received" and first.json_body["bonus_points"] == 20
    assert balance(api, "anna") == before + 20
    second = feedback(api, "anna", kind="review", rating=4, purchase_id=anna["purchase_id"])
    assert second.status_code == 409 and second.json_body["error"]["code"] == "already_reviewed"
    assert balance(api, "anna") == before + 20
    # A low rating needs an answer, a survey without a purchase earns nothing.
    assert (
        feedback(api, "anna", kind="survey", rating=2, answers={"q1": "too loud", "q2": 3}).json_body["status"]
        == "open"
    )
    api.join("bert", phone="0151 98765432")
    someone_else = feedback(api, "bert", kind="review", rating=5, purchase_id=anna["purchase_id"])
    assert someone_else.status_code == 422 and someone_else.json_body["error"]["field"] == "purchase_id"


def test_amends_within_the_limit_are_granted_at_once_and_on_the_ledger(api, anna, clock):
    complaint = feedback(api, "anna", kind="complaint", rating=1, text="Waited 20 minutes").json_body
    before = balance(api, "anna")
    key = str(uuid.uuid4())
    granted = amends(
        api, anna["customer_id"], key, points=150, reason="long wait", feedback_id=complaint["feedback_id"]
    )
    assert granted.status_code == 201, granted.json_body
    assert granted.json_body["status"] == "granted" and granted.json_body["requested_by"] == "demo-cashier-mitte"
    assert balance(api, "anna") == before + 150
    replay = amends(api, anna["customer_id"], key, points=150, reason="long wait", feedback_id=complaint["feedback_id"])
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    assert balance(api, "anna") == before + 150
    assert amends(api, anna["customer_id"], key, points=99, reason="long wait").status_code == 409
    [entry] = [
        e
        for e in api.call("GET", "/v1/me/ledger", api.customer("anna")).json_body["items"]
        if e["reason"] == "compensation"
    ]
    assert entry["points"] == 150 and entry["note"] == "long wait" and entry["feedback_id"] == complaint["feedback_id"]
    assert api.inbox("anna", "amends")[0]["title"] == "We're sorry: 150 points for you"


def test_amends_above_a_limit_wait_for_an_admin(api, anna, clock):
    before = balance(api, "anna")
    over = amends(api, anna["customer_id"], points=250, reason="broken cup")
    assert over.status_code == 202, over.json_body
    assert over.json_body["status"] == "pending" and over.json_body["note"] == "over_grant_limit"
    assert balance(api, "anna") == before
    # The daily limit (500): 200 + 200 granted, the third 200 waits.
    assert amends(api, anna["customer_id"], points=200, reason="a").status_code == 201
    assert amends(api, anna["customer_id"], points=200, reason="b").status_code == 201
    third = amends(api, anna["customer_id"], points=200, reason="c")
    assert third.status_code == 202 and third.json_body["note"] == "over_daily_limit"
    assert balance(api, "anna") == before + 400

    queue = api.call("GET", "/v1/compensations?status=pending", ADMIN).json_body["items"]
    assert {c["compensation_id"] for c in queue} == {
        over.json_body["compensation_id"],
        third.json_body["compensation_id"],
    }
    approved = api.call("POST", f"/v1/compensations/{over.json_body['compensation_id']}/approve", ADMIN)
    assert approved.status_code == 200 and approved.json_body["status"] == "granted"
    assert approved.json_body["decided_by"] == "demo-admin"
    assert api.call("POST", f"/v1/compensations/{over.json_body['compensation_id']}/approve", ADMIN).status_code == 200
    assert balance(api, "anna") == before + 650
    rejected = api.call("POST", f"/v1/compensations/{third.json_body['compensation_id']}/reject", ADMIN, {"note": "no"})
    assert rejected.json_body["status"] == "rejected"
    assert api.call("POST", f"/v1/compensations/{third.json_body['compensation_id']}/approve", ADMIN).status_code == 409
    assert (
        api.call("POST", f"/v1/compensations/{third.json_body['compensation_id']}/approve", MARKETER).status_code == 403
    )

    # The next day the cashier's day starts again.
    clock.now += timedelta(days=1)
    assert amends(api, anna["customer_id"], points=200, reason="d").status_code == 201

    day = (clock.now - timedelta(days=1)).date().isoformat()
    report = api.call("GET", f"/v1/reports/compensations?from={day}&to={clock.now.date().isoformat()}", MARKETER)
    assert report.status_code == 200, report.json_body
    body = report.json_body
    assert (body["granted"], body["points_granted"], body["pending"], body["rejected"]) == (4, 850, 0, 1)
    assert {s["staff_sub"]: s["points"] for s in body["by_staff"]} == {"demo-cashier-mitte": 600, "demo-admin": 250}


def test_the_admin_sets_a_staff_member_s_limits(api, anna):
    staff = api.call(
        "PUT",
        "/v1/staff/demo-cashier-mitte",
        ADMIN,
        {"role": "cashier", "merchant_id": "m_kiez", "store_id": "s_kiez_mitte", "compensation_limit_points": 10},
    )
    assert staff.status_code == 200, staff.json_body
    assert staff.json_body["name"] == "Carl Kasse" and staff.json_body["daily_compensation_limit_points"] is None
    assert amends(api, anna["customer_id"], points=11, reason="x").status_code == 202
    assert amends(api, anna["customer_id"], points=10, reason="x").status_code == 201
    assert api.call("PUT", "/v1/staff/demo-cashier-mitte", MARKETER, {"role": "cashier"}).status_code == 403
    assert amends(api, "cus_nobody", points=10, reason="x").status_code == 404
    assert amends(api, anna["customer_id"], points=0, reason="x").status_code in (400, 422)
