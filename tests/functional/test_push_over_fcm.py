"""The whole push path with the real Firebase Admin SDK against the local FCM v1 endpoint, errors
injected per token: a dead token leaves the member's devices, a 503 is retried, a permanent
failure lands in the dead letters and an admin's replay delivers it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from chalicelib import queues
from chalicelib.config import from_environ
from chalicelib.domain import contact
from chalicelib.push.firebase import FirebaseSender
from chalicelib.services import issuing, push
from chalicelib.store import members as member_store
from chalicelib.store import streams
from chalicelib.store.wallet import InboxModel
from scripts import fcm_local
from scripts.token import mint

ADMIN = mint("demo-admin", ["admin"])


@pytest.fixture(scope="module")
def fcm() -> Iterator[fcm_local.FcmServer]:
    server, _ = fcm_local.start()
    yield server
    server.shutdown()


@pytest.fixture
def firebase(fcm):
    requests.delete(f"{fcm.url}/_local", timeout=5)
    with push.replaced(FirebaseSender(from_environ({"LOYALTY_FCM_URL": fcm.url}))) as sender:
        yield sender


def fail(fcm, token, error, **more):
    assert requests.put(f"{fcm.url}/_local/tokens/{token}", json={"error": error, **more}, timeout=5).ok


def received(fcm, token):
    return requests.get(f"{fcm.url}/_local/messages", params={"token": token}, timeout=5).json()["messages"]


def pump(clock, sleeps):
    streams.StreamReader(InboxModel).poll(
        lambda records: push.on_inbox_records((r["eventName"], r["dynamodb"].get("NewImage")) for r in records)
    )
    while queues.poll_once(queues.PUSH, lambda event, context: push.deliver(event, clock=clock, sleep=sleeps.append)):
        pass


def test_the_sdk_path_with_errors_injected_per_token(api, clock, fcm, firebase):
    clock.now = datetime(2026, 11, 24, 11, tzinfo=UTC)  # noon in Berlin
    api.join("alice")
    me = api.customer("alice")
    for token in ("phone-uninstalled-1", "phone-flaky-22222", "tablet-ok-333333"):
        assert api.call("POST", "/v1/me/devices", me, {"token": token, "platform": "android"}).status_code == 201
    fail(fcm, "phone-uninstalled-1", "UNREGISTERED")
    fail(fcm, "phone-flaky-22222", "UNAVAILABLE", times=1)
    sleeps: list[float] = []
    sent = issuing.send("alice", "campaign", contact.campaign_key("c1"), "Two for one", "This week", clock=clock)
    pump(clock, sleeps)
    assert len(received(fcm, "phone-flaky-22222")) == 1  # the 503 was retried, then delivered
    assert len(received(fcm, "tablet-ok-333333")) == 1
    customer_id = member_store.get_member("alice").customer_id
    assert sorted(d.token for d in member_store.devices_of(customer_id)) == ["phone-flaky-22222", "tablet-ok-333333"]
    assert received(fcm, "tablet-ok-333333")[0]["message"]["data"]["message_id"] == sent.message_id

    # FCM down for this member's phones for good: a dead letter, replayed once FCM is back.
    for token in ("phone-flaky-22222", "tablet-ok-333333"):
        fail(fcm, token, "UNAVAILABLE")
    clock.now += timedelta(days=8)  # past the weekly cap
    assert isinstance(
        issuing.send("alice", "campaign", contact.campaign_key("c2"), "Autumn", clock=clock), issuing.Sent
    )
    pump(clock, sleeps)
    [letter] = api.call("GET", "/v1/push/dead-letters", ADMIN).json_body["items"]
    assert letter["reason"] == "UNAVAILABLE" and letter["tokens_failed"] == 2
    assert sleeps, "the retries backed off"
    for token in ("phone-flaky-22222", "tablet-ok-333333"):
        requests.delete(f"{fcm.url}/_local/tokens/{token}", timeout=5)
    assert api.call("POST", f"/v1/push/dead-letters/{letter['dead_letter_id']}/replay", ADMIN).status_code == 200
    pump(clock, sleeps)
    autumn = [m for m in received(fcm, "tablet-ok-333333") if m["message"]["notification"]["title"] == "Autumn"]
    assert len(autumn) == 1
