"""The program speaks, over HTTP on the real local stack: a member whose birthday is today, with a
phone registered, is greeted by the ``birthdays`` job; the greeting is in their inbox and reached
the local FCM v1 endpoint for their token through the real firebase-admin SDK, the inbox stream
and the SQS queues; a second run sends nothing."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import requests

from scripts.token import mint
from tests.integration.conftest import LocalStack

ADMIN = {"Authorization": f"Bearer {mint('demo-admin', ['admin'])}"}
T = TypeVar("T")


def midday_zone(now: datetime) -> str:
    """A time zone where ``now`` is early afternoon (13:00-13:59): outside anyone's quiet hours
    for hours either side. The job must run at the real moment: a member who joined a second ago
    was not a member at an earlier one (a fixed hour failed whenever the suite ran past it)."""
    offset = 13 - now.astimezone(UTC).hour  # hours east of UTC; Etc/GMT's sign is the other way
    offset = (offset + 12) % 24 - 12 if offset > 12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"


def eventually(check: Callable[[], T | None], timeout_s: float = 40.0) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.3)


def fcm_messages(stack: LocalStack, token: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{stack.fcm_url}/_local/messages", params={"token": token}, timeout=5)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["messages"])


def test_a_birthday_greeting_reaches_the_inbox_and_the_phone_once(running: LocalStack) -> None:
    sub = f"it-birthday-{uuid.uuid4().hex[:8]}"
    me = {"Authorization": f"Bearer {mint(sub, ['customer'])}"}
    # Early afternoon where the member lives: outside their quiet hours, so the push is not held back.
    zone = midday_zone(datetime.now(UTC))
    today = datetime.now(ZoneInfo(zone)).date()
    born = today.replace(year=today.year - 30) if (today.month, today.day) != (2, 29) else today.replace(year=1996)
    phone = f"+49151{uuid.uuid4().int % 10**8:08d}"
    joined = requests.post(
        running.url("/me"),
        json={
            "name": "Greta Geburtstag",
            "phone": phone,
            "birthday": born.isoformat(),
            "marketing_consent": True,
            "timezone": zone,
        },
        headers=me,
        timeout=10,
    )
    assert joined.status_code == 201, joined.text
    token = f"it-token-{uuid.uuid4().hex}"
    device = requests.post(
        running.url("/me/devices"), json={"token": token, "platform": "android"}, headers=me, timeout=10
    )
    assert device.status_code in (200, 201), device.text

    def run() -> dict[str, Any]:
        at = datetime.now(UTC) + timedelta(seconds=1)
        answer = requests.post(
            running.url("/jobs/birthdays/run"), json={"at": at.isoformat()}, headers=ADMIN, timeout=30
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["result"])

    assert run()["selected"] >= 1

    def greetings() -> list[dict[str, Any]]:
        inbox = requests.get(running.url("/me/inbox"), headers=me, timeout=10).json()
        return [m for m in inbox["items"] if m["kind"] == "birthday"]

    greeting = eventually(greetings)[0]
    assert "Greta" in greeting["title"] + (greeting.get("body") or "")
    pushed = eventually(lambda: fcm_messages(running, token))
    assert len(pushed) == 1
    sent = pushed[0]["message"]
    assert sent["token"] == token
    assert sent["data"]["message_id"] == greeting["message_id"]

    # Again, as the hourly schedule would: nobody is greeted twice, nothing is pushed twice.
    run()
    time.sleep(5)  # what a second greeting would need to travel: the queues poll every second or so
    assert len(greetings()) == 1
    assert len(fcm_messages(running, token)) == 1
