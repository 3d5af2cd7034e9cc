"""The marketing team's work, over HTTP on the real local stack (DynamoDB Local, its streams, the
moto SQS server, the members' snapshot in DATA_DIR): a referrer and a friend join, the friend buys,
both are rewarded and the referral report shows it; a segment preview; a campaign reaches the
inbox with the weekly cap respected and its report counts the funnel; a complaint and its reply;
amends within and above the cashier's limit."""

from __future__ import annotations

import time
import uuid
from typing import Any

import requests

from scripts.token import mint
from tests.integration.conftest import LocalStack
from tests.integration.test_push_birthday import eventually

ADMIN = {"Authorization": f"Bearer {mint('demo-admin', ['admin'])}"}
MARKETER = {"Authorization": f"Bearer {mint('demo-marketer', ['marketer'], 'm_kiez')}"}
CASHIER = {
    "Authorization": f"Bearer {mint('demo-cashier-mitte', ['cashier'], 'm_kiez', 's_kiez_mitte')}",
}


def as_member(sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(sub, ['customer'])}"}


def join(stack: LocalStack, sub: str, **extra: Any) -> dict[str, Any]:
    body = {
        "name": f"{sub.title()} Example",
        "phone": f"+49151{uuid.uuid4().int % 10**8:08d}",
        "birthday": "1990-05-17",
        "marketing_consent": True,
        **extra,
    }
    answer = requests.post(stack.url("/me"), json=body, headers=as_member(sub), timeout=10)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def buy(stack: LocalStack, card: str, amount: int) -> dict[str, Any]:
    answer = requests.post(
        stack.url("/purchases"),
        json={"card": card, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR"},
        headers={**CASHIER, "Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def get(stack: LocalStack, path: str, headers: dict[str, str]) -> Any:
    answer = requests.get(stack.url(path), headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def inbox(stack: LocalStack, sub: str, kind: str) -> list[dict[str, Any]]:
    return [m for m in get(stack, "/me/inbox", as_member(sub))["items"] if m["kind"] == kind]


def test_the_marketing_team_s_day(running: LocalStack) -> None:
    tag = uuid.uuid4().hex[:6]
    rosa, fritz = f"it-rosa-{tag}", f"it-fritz-{tag}"

    # Referrals: the friend joins with the code and buys; both are rewarded from the ledger's stream.
    referrer = join(running, rosa, name="Rosa Example")
    friend = join(running, fritz, name="Fritz Example", referral_code=referrer["referral_code"])
    buy(running, friend["card_number"], 2_500)
    mine = eventually(
        lambda: (m := get(running, "/me/referrals", as_member(rosa)))["points_earned"] and m, timeout_s=60
    )
    assert mine["friends_joined"] == 1 and mine["items"][0]["status"] == "rewarded"
    assert inbox(running, fritz, "referral")
    report = eventually(
        lambda: next(
            (
                r
                for r in get(running, "/reports/referrals?limit=200", MARKETER)["items"]
                if r["customer_id"] == referrer["customer_id"] and r["friends_spend_minor"]
            ),
            None,
        ),
        timeout_s=60,
    )
    assert report["friends"] == 1 and report["friends_who_bought"] == 1

    # A segment preview over the snapshot the members' stream keeps.
    preview = requests.post(running.url("/segments/preview"), json={"min_visits": 1}, headers=MARKETER, timeout=10)
    assert preview.status_code == 200, preview.text
    assert preview.json()["count"] >= 1 and preview.json()["sample"]

    # A campaign to the two of them; a second one the same week is held back by the cap.
    segment = {"categories": [], "joined_days": {"max": 0}, "consent_only": True}
    first = requests.post(
        running.url("/campaigns"),
        json={
            "name": f"Hello {tag}",
            "message": {"title": "Hi {name}", "body": "You have {balance} points"},
            "segment": segment,
            "holdout_percent": 0,
        },
        headers=MARKETER,
        timeout=10,
    ).json()
    launched = requests.post(running.url(f"/campaigns/{first['campaign_id']}/launch"), headers=MARKETER, timeout=10)
    assert launched.status_code == 200, launched.text
    assert launched.json()["run"]["to_contact"] >= 2
    assert eventually(lambda: inbox(running, rosa, "campaign"))[0]["title"] == "Hi Rosa"
    second = requests.post(
        running.url("/campaigns"),
        json={
            "name": f"Again {tag}",
            "message": {"title": "Again", "body": "b"},
            "segment": segment,
            "holdout_percent": 0,
        },
        headers=MARKETER,
        timeout=10,
    ).json()
    assert requests.post(running.url(f"/campaigns/{second['campaign_id']}/launch"), headers=MARKETER, timeout=10).ok
    funnel = eventually(
        lambda: (
            (f := get(running, f"/reports/campaigns/{second['campaign_id']}", MARKETER))["held_back"].get(
                "frequency_cap"
            )
            and f
        )
    )
    assert funnel["sent"] == 0 and len(inbox(running, rosa, "campaign")) == 1
    counted = eventually(
        lambda: (f := get(running, f"/reports/campaigns/{first['campaign_id']}", MARKETER))["sent"] and f
    )
    assert counted["sent"] >= 2 and counted["audience"] >= 2

    # A complaint, answered in the customer's inbox.
    complaint = requests.post(
        running.url("/me/feedback"),
        json={"kind": "complaint", "rating": 1, "text": "Cold"},
        headers=as_member(fritz),
        timeout=10,
    ).json()
    replied = requests.post(
        running.url(f"/feedback/{complaint['feedback_id']}/reply"),
        json={"text": "Sorry!"},
        headers=MARKETER,
        timeout=10,
    )
    assert replied.status_code == 200 and replied.json()["status"] == "closed"
    assert eventually(lambda: inbox(running, fritz, "feedback_reply"))[0]["body"] == "Sorry!"

    # Amends: within the cashier's limit at once, above it pending an admin.
    path = f"/customers/{friend['customer_id']}/compensations"
    within = requests.post(
        running.url(path),
        json={"points": 50, "reason": "cold coffee", "feedback_id": complaint["feedback_id"]},
        headers={**CASHIER, "Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    )
    assert within.status_code == 201 and within.json()["status"] == "granted", within.text
    above = requests.post(
        running.url(path),
        json={"points": 5_000, "reason": "a ruined coat"},
        headers={**CASHIER, "Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    )
    assert above.status_code == 202 and above.json()["status"] == "pending", above.text
    approved = requests.post(
        running.url(f"/compensations/{above.json()['compensation_id']}/approve"), headers=ADMIN, timeout=10
    )
    assert approved.status_code == 200 and approved.json()["status"] == "granted"
    ledger = get(running, "/me/ledger", as_member(fritz))["items"]
    assert sorted(e["points"] for e in ledger if e["reason"] == "compensation") == [50, 5_000]


def test_the_weekly_fit_reaches_a_member_who_bought(running: LocalStack) -> None:
    """The purchases stream keeps the history in DATA_DIR's snapshot; the job fitted over HTTP
    writes the member's prediction through the contacts queue; their export shows its version."""
    sub = f"it-fit-{uuid.uuid4().hex[:6]}"
    card = join(running, sub)["card_number"]
    buy(running, card, 1_800)

    def fitted() -> dict[str, Any] | None:
        answer = requests.post(running.url("/jobs/fit_predictor/run"), json={}, headers=ADMIN, timeout=60)
        assert answer.status_code == 200, answer.text
        result = answer.json()["result"]
        for _ in range(20):  # the predictions travel on the contacts queue
            predicted = get(running, "/me/export", as_member(sub))["marketing"]["predicted_next_visit"]
            if predicted and predicted["model"].endswith(f"@{result['version']}"):
                return dict(result)
            time.sleep(0.5)
        return None  # the purchase was not in the history yet: fit again

    result = eventually(fitted, timeout_s=60)
    assert result["customers"] >= 1 and result["messages"] >= 1
    predicted = get(running, "/me/export", as_member(sub))["marketing"]["predicted_next_visit"]
    assert 0 < predicted["p_active"] <= 1 and predicted["wait_days"] >= 1
