"""The inbox is the outbox: a message the issuing service sends lands in the inbox, its stream puts
it on the push queue, and the consumer pushes it to every device of the member once, with token
hygiene, retries and dead letters (a fake sender here; tests/functional/test_fcm_sender.py holds
the Firebase one to FCM's wire format)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib import queues
from chalicelib.domain import contact
from chalicelib.push import DeadToken, Rejected, Retry
from chalicelib.services import issuing, push
from chalicelib.services.issuing import Sent
from chalicelib.store import members as member_store
from chalicelib.store import streams
from chalicelib.store.wallet import InboxModel
from scripts.token import mint
from tests.fakes import FakeSender

ADMIN = mint("demo-admin", ["admin"])
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def sender():
    fake = FakeSender()
    with push.replaced(fake):
        yield fake


@pytest.fixture
def alice(api, clock):
    clock.now = datetime(2026, 11, 24, 11, tzinfo=UTC)  # noon in Berlin: no quiet hours
    api.join("alice", phone="0151 23456789")
    return api


class Pipeline:
    """The inbox's stream and the push queue, pumped by hand as Lambda would be triggered."""

    def __init__(self, clock) -> None:
        self.reader = streams.StreamReader(InboxModel)
        self.clock = clock
        self.sleeps: list[float] = []
        self.records: list[dict] = []

    def stream(self) -> int:
        def handler(records):
            self.records.extend(records)
            push.on_inbox_records((r["eventName"], r["dynamodb"].get("NewImage")) for r in records)

        return self.reader.poll(handler)

    def consume(self) -> int:
        handled = 0
        while n := queues.poll_once(queues.PUSH, self.handler):
            handled += n
        return handled

    def handler(self, event, context):
        return push.deliver(event, clock=self.clock, sleep=self.sleeps.append)

    def pump(self) -> int:
        self.stream()
        return self.consume()


@pytest.fixture
def pipeline(clock):
    return Pipeline(clock)


def device(api, sub, token, platform="android"):
    answer = api.call("POST", "/v1/me/devices", api.customer(sub), {"token": token, "platform": platform})
    assert answer.status_code == 201, answer.json_body


def send(clock, key="campaign#c_spring", kind="campaign", title="Two for one", body="Only this week"):
    sent = issuing.send("alice", kind, key, title, body, clock=clock)
    assert isinstance(sent, Sent), sent
    return sent


def state(sent) -> str | None:
    customer_id = member_store.get_member("alice").customer_id
    return InboxModel.get(customer_id, sent.message_id).push_state


def test_a_message_reaches_every_device_of_the_member_once(alice, clock, sender, pipeline):
    device(alice, "alice", "token-phone-1234", "android")
    device(alice, "alice", "token-tablet-5678", "ios")
    sent = send(clock)
    assert pipeline.pump() == 1
    pushed = sorted(sender.batches[0], key=lambda p: p.token)
    assert [(p.token, p.platform) for p in pushed] == [("token-phone-1234", "android"), ("token-tablet-5678", "ios")]
    assert all(p.title == "Two for one" and p.data["message_id"] == sent.message_id for p in pushed)
    assert state(sent) == "sent"
    # The stream's record and the queue's message delivered again: nothing is pushed twice.
    push.on_inbox_records((r["eventName"], r["dynamodb"].get("NewImage")) for r in pipeline.records)
    queues.send(
        queues.PUSH, [{"customer_id": member_store.get_member("alice").customer_id, "message_id": sent.message_id}]
    )
    assert pipeline.consume() == 2
    assert len(sender.batches) == 1


def test_only_messages_to_push_reach_the_queue(alice, clock, sender, pipeline):
    device(alice, "alice", "token-phone-1234")
    send(clock)
    pipeline.stream()
    assert [r["eventName"] for r in pipeline.records] == ["INSERT"]
    pipeline.consume()
    # The push's own state changes are MODIFY records: they are not pushed again.
    pipeline.records.clear()
    pipeline.stream()
    assert {r["eventName"] for r in pipeline.records} == {"MODIFY"}
    assert pipeline.consume() == 0


def test_a_dead_token_leaves_the_members_devices(alice, clock, sender, pipeline):
    device(alice, "alice", "token-uninstalled-1")
    device(alice, "alice", "token-phone-1234")
    sender.script["token-uninstalled-1"] = [lambda t: DeadToken(t, "UNREGISTERED")]
    sent = send(clock)
    pipeline.pump()
    customer_id = member_store.get_member("alice").customer_id
    assert [d.token for d in member_store.devices_of(customer_id)] == ["token-phone-1234"]
    assert state(sent) == "sent"


def test_a_member_without_a_device_keeps_the_message_in_the_inbox(alice, clock, sender, pipeline):
    sent = send(clock)
    pipeline.pump()
    assert sender.batches == []
    assert state(sent) == "no_device"
    inbox = alice.call("GET", "/v1/me/inbox", alice.customer("alice")).json_body["items"]
    assert [m["message_id"] for m in inbox] == [sent.message_id]


def test_a_503_is_retried_after_a_backoff_and_a_429_after_its_retry_after(alice, clock, sender, pipeline):
    device(alice, "alice", "token-phone-1234")
    device(alice, "alice", "token-tablet-5678")
    sender.script["token-phone-1234"] = [lambda t: Retry(t, "UNAVAILABLE")]
    sender.script["token-tablet-5678"] = [lambda t: Retry(t, "QUOTA_EXCEEDED", 7.0)] * 2
    sent = send(clock)
    pipeline.pump()
    assert len(sender.sent_to("token-phone-1234")) == 2
    assert len(sender.sent_to("token-tablet-5678")) == 3
    assert len(pipeline.sleeps) == 2 and all(s >= 7.0 for s in pipeline.sleeps)
    assert state(sent) == "sent"


def test_a_permanent_failure_is_a_dead_letter_an_admin_replays_once(alice, clock, sender, pipeline):
    device(alice, "alice", "token-phone-1234")
    sender.script["token-phone-1234"] = [lambda t: Retry(t, "UNAVAILABLE")] * push.ATTEMPTS
    sent = send(clock)
    pipeline.pump()
    assert len(sender.sent_to("token-phone-1234")) == push.ATTEMPTS
    assert state(sent) == "dead_letter"
    listed = alice.call("GET", "/v1/push/dead-letters", ADMIN).json_body["items"]
    assert len(listed) == 1
    letter = listed[0]
    assert letter["message_id"] == sent.message_id and letter["reason"] == "UNAVAILABLE"
    assert letter["tokens_failed"] == 1 and letter["replayed_at"] is None
    assert "token-phone-1234" not in str(listed)  # tokens are personal data

    replayed = alice.call("POST", f"/v1/push/dead-letters/{letter['dead_letter_id']}/replay", ADMIN)
    assert replayed.status_code == 200, replayed.json_body
    again = alice.call("POST", f"/v1/push/dead-letters/{letter['dead_letter_id']}/replay", ADMIN)
    assert again.json_body == replayed.json_body
    pipeline.consume()
    assert len(sender.sent_to("token-phone-1234")) == push.ATTEMPTS + 1
    assert state(sent) == "sent"


def test_a_message_the_device_can_never_take_is_a_dead_letter_without_retries(alice, clock, sender, pipeline):
    device(alice, "alice", "token-phone-1234")
    sender.script["token-phone-1234"] = [lambda t: Rejected(t, "THIRD_PARTY_AUTH_ERROR")]
    send(clock)
    pipeline.pump()
    assert len(sender.sent_to("token-phone-1234")) == 1
    [letter] = alice.call("GET", "/v1/push/dead-letters", ADMIN).json_body["items"]
    assert letter["reason"] == "THIRD_PARTY_AUTH_ERROR"


def test_dead_letters_are_the_admins(alice):
    assert alice.call("GET", "/v1/push/dead-letters", alice.customer("alice")).status_code == 403
    unknown = alice.call("POST", "/v1/push/dead-letters/20261124T110000.000000Z-0123abcd/replay", ADMIN)
    assert unknown.status_code == 404 and unknown.json_body["error"]["code"] == "dead_letter_not_found"
    assert alice.call("POST", "/v1/push/dead-letters/nonsense/replay", ADMIN).status_code == 422


def test_a_broken_sender_fails_the_batch_and_after_the_last_receive_it_is_a_dead_letter(alice, clock, sender, pipeline):
    device(alice, "alice", "token-phone-1234")
    sender.raises = ConnectionError("network down")
    sent = send(clock)
    pipeline.stream()
    assert queues.poll_once(queues.PUSH, pipeline.handler) == 1
    assert state(sent) == "sending"  # the claim lapses; SQS hands the message back
    # The last allowed receive: it becomes a dead letter the admin sees, not a silent DLQ entry.
    record = {
        "messageId": "m-1",
        "receiptHandle": "r-1",
        "body": json.dumps(
            {"customer_id": member_store.get_member("alice").customer_id, "message_id": sent.message_id}
        ),
        "attributes": {"ApproximateReceiveCount": str(queues.MAX_RECEIVES)},
        "eventSourceARN": "arn:aws:sqs:eu-central-1:000000000000:test-push",
    }
    clock.now += timedelta(minutes=2)  # the lapsed claim is taken over
    assert push.deliver({"Records": [record]}, clock=clock, sleep=pipeline.sleeps.append) == {"batchItemFailures": []}
    assert state(sent) == "dead_letter"
    [letter] = alice.call("GET", "/v1/push/dead-letters", ADMIN).json_body["items"]
    assert letter["reason"] == "consumer_failed:ConnectionError"


def test_a_message_in_quiet_hours_is_pushed_only_when_they_end(alice, clock, sender, pipeline):
    device(alice, "alice", "token-phone-1234")
    clock.now = datetime(2026, 11, 24, 23, 30, tzinfo=BERLIN).astimezone(UTC)
    sent = send(clock)
    assert pipeline.pump() == 1
    assert sender.batches == []  # put off on the queue until 09:00 in Berlin
    attrs = queues._client().get_queue_attributes(QueueUrl=queues.url(queues.PUSH), AttributeNames=["All"])
    assert attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
    # SQS hands it back in the morning (here: the same body, as the redelivery would carry).
    clock.now = datetime(2026, 11, 25, 9, 0, 1, tzinfo=BERLIN).astimezone(UTC)
    customer_id = member_store.get_member("alice").customer_id
    queues.send(queues.PUSH, [{"customer_id": customer_id, "message_id": sent.message_id}])
    pipeline.consume()
    assert len(sender.sent_to("token-phone-1234")) == 1


def test_a_long_body_is_shortened_to_fit_the_push_and_kept_whole_in_the_inbox(alice, clock, sender, pipeline):
    device(alice, "alice", "token-phone-1234")
    body = "Grüße aus dem Kiez! " * 400
    sent = issuing.send("alice", "receipt", "receipt#p_long", "Thank you", body, clock=clock)
    pipeline.pump()
    [pushed] = sender.sent_to("token-phone-1234")
    assert pushed.body.endswith("…") and len(pushed.body) < len(body)
    from chalicelib.push.payload import fits

    assert fits(pushed)
    inbox = alice.call("GET", "/v1/me/inbox", alice.customer("alice")).json_body["items"]
    assert inbox[0]["body"] == body and inbox[0]["message_id"] == sent.message_id


def test_the_app_reports_opens(alice, clock, sender):
    sent = send(clock)
    me = alice.customer("alice")
    [unread] = alice.call("GET", "/v1/me/inbox", me).json_body["items"]
    assert unread["read"] is False and unread["read_at"] is None
    opened = alice.call("POST", f"/v1/me/inbox/{sent.message_id}/read", me)
    assert opened.status_code == 200 and opened.json_body["read"] is True
    clock.now += timedelta(hours=1)
    again = alice.call("POST", f"/v1/me/inbox/{sent.message_id}/read", me)
    assert again.json_body["read_at"] == opened.json_body["read_at"]
    [read] = alice.call("GET", "/v1/me/inbox", me).json_body["items"]
    assert read["read"] is True
    alice.join("bob", phone="0151 99999999")
    other = alice.call("POST", f"/v1/me/inbox/{sent.message_id}/read", alice.customer("bob"))
    assert other.status_code == 404 and other.json_body["error"]["code"] == "message_not_found"
    assert alice.call("POST", "/v1/me/inbox/not-an-id/read", me).status_code == 422


def test_messages_from_before_with_a_hash_in_their_id_can_be_marked_read(alice, clock):
    customer_id = member_store.get_member("alice").customer_id
    InboxModel(customer_id, "20261101T100000.000000Z#ab12cd34", at=clock.now, kind="campaign", title="Old").save()
    answer = alice.call("POST", "/v1/me/inbox/20261101T100000.000000Z%23ab12cd34/read", alice.customer("alice"))
    assert answer.status_code == 200, answer.json_body
    assert contact.KINDS["campaign"] is contact.Purpose.MARKETING


def test_a_record_that_is_not_ours_is_dropped_without_failing_its_batch(alice, clock, sender, pipeline):
    device(alice, "alice", "token-phone-1234")
    send(clock)
    pipeline.stream()
    queues.send(queues.PUSH, [{"unexpected": True}])
    pipeline.consume()
    assert len(sender.sent_to("token-phone-1234")) == 1
    attrs = queues._client().get_queue_attributes(QueueUrl=queues.url(queues.PUSH), AttributeNames=["All"])
    assert attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0"
