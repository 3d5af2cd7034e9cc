"""The Firebase sender through the real firebase-admin SDK against the local FCM v1 endpoint."""

from collections.abc import Iterator

import pytest
import requests

from chalicelib.config import from_environ
from chalicelib.push import MAX_BATCH, DeadToken, Delivered, Push, Rejected, Retry, firebase
from chalicelib.push.firebase import FirebaseSender
from scripts import fcm_local


@pytest.fixture(scope="module")
def fcm() -> Iterator[fcm_local.FcmServer]:
    server, _ = fcm_local.start()
    yield server
    server.shutdown()


@pytest.fixture
def sender(fcm: fcm_local.FcmServer) -> FirebaseSender:
    requests.delete(f"{fcm.url}/_local", timeout=5)
    return FirebaseSender(from_environ({"LOYALTY_FCM_URL": fcm.url, "LOYALTY_FCM_PROJECT": "kiez-test"}))


def fail(fcm: fcm_local.FcmServer, token: str, error: str, **more: object) -> None:
    assert requests.put(f"{fcm.url}/_local/tokens/{token}", json={"error": error, **more}, timeout=5).ok


def received(fcm: fcm_local.FcmServer, token: str | None = None) -> list[dict]:
    params = {"token": token} if token else {}
    return requests.get(f"{fcm.url}/_local/messages", params=params, timeout=5).json()["messages"]


def test_the_sdk_is_pointed_at_the_configured_endpoint_and_its_request_arrives_whole(sender, fcm) -> None:
    push = Push("tok-android", "android", "Happy birthday, Greta", "A coffee on us", {"message_id": "m1"}, "m1")
    [outcome] = sender.send([push])
    assert isinstance(outcome, Delivered) and outcome.name.startswith("projects/kiez-test/messages/")
    from firebase_admin import messaging

    service = messaging._get_messaging_service(sender._firebase())
    assert service._fcm_url == f"{fcm.url}/v1/projects/kiez-test/messages:send"
    [got] = received(fcm, "tok-android")
    message = got["message"]
    assert message["notification"] == {"title": "Happy birthday, Greta", "body": "A coffee on us"}
    assert message["data"] == {"message_id": "m1"}
    assert message["android"]["priority"] == "high" and message["android"]["collapse_key"] == "m1"
    assert "apns" not in message


def test_ios_gets_apns_options_with_a_collapse_id(sender, fcm) -> None:
    sender.send([Push("tok-ios", "ios", "Hi", "there", {}, "m2")])
    [got] = received(fcm, "tok-ios")
    apns = got["message"]["apns"]
    assert apns["headers"]["apns-collapse-id"] == "m2"
    assert apns["payload"]["aps"]["alert"] == {"title": "Hi", "body": "there"}


def test_each_answer_becomes_its_outcome_in_order(sender, fcm) -> None:
    fail(fcm, "tok-bad", "INVALID_ARGUMENT")
    fail(fcm, "tok-busy", "QUOTA_EXCEEDED", retry_after_s=30)
    fail(fcm, "tok-down", "UNAVAILABLE")
    fail(fcm, "tok-other-app", "SENDER_ID_MISMATCH")
    tokens = ["tok-ok", "dead-uninstalled", "tok-bad", "tok-busy", "tok-down", "tok-other-app"]
    outcomes = sender.send([Push(t, "android", "Hi") for t in tokens])
    assert [type(o) for o in outcomes] == [Delivered, DeadToken, DeadToken, Retry, Retry, DeadToken]
    assert [o.token for o in outcomes] == tokens
    assert outcomes[1].reason == "UNREGISTERED" and outcomes[2].reason == "INVALID_ARGUMENT"
    assert outcomes[3].retry_after_s == 30
    assert outcomes[4].retry_after_s is None


def test_a_503_once_is_retried_by_the_sdk_and_delivered(sender, fcm) -> None:
    fail(fcm, "tok-flaky", "UNAVAILABLE", times=1)
    [outcome] = sender.send([Push("tok-flaky", "web", "Hi")])
    assert isinstance(outcome, Delivered)
    assert len(received(fcm, "tok-flaky")) == 1


def test_an_oversize_payload_is_rejected_without_a_request(sender, fcm) -> None:
    [outcome] = sender.send([Push("tok-big", "android", "Hi", "x" * 5000)])
    assert outcome == Rejected("tok-big", "payload_too_large")
    assert received(fcm, "tok-big") == []


def test_batches_hold_one_to_500_pushes(sender, fcm) -> None:
    with pytest.raises(ValueError, match="at most 500"):
        sender.send([Push(f"t{i}", "android", "Hi") for i in range(MAX_BATCH + 1)])
    with pytest.raises(ValueError, match="empty"):
        sender.send([])
    outcomes = sender.send([Push(f"t{i}", "android", "Hi") for i in range(MAX_BATCH)])
    assert all(isinstance(o, Delivered) for o in outcomes) and len(received(fcm)) == MAX_BATCH


def test_the_endpoint_speaks_googles_error_json(fcm) -> None:
    answer = requests.post(
        f"{fcm.url}/v1/projects/p/messages:send", json={"message": {"token": "dead-1", "data": {"a": "b"}}}, timeout=5
    )
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["status"] == "NOT_FOUND"
    assert error["details"] == [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}
    ]
    bad = requests.post(
        f"{fcm.url}/v1/projects/p/messages:send", json={"message": {"token": "t", "data": {"n": 1}}}, timeout=5
    )
    assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_fcm_endpoint_url() -> None:
    assert firebase.fcm_endpoint("http://127.0.0.1:9099/", "p") == "http://127.0.0.1:9099/v1/projects/p/messages:send"
