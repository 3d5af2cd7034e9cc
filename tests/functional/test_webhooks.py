"""CRM webhooks: events from the write streams, signed deliveries to a receiver, retried with
backoff, a delivery log an admin reads and replays; and the consenting members as CSV."""

import csv
import io
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import app as handlers
from chalicelib import queues
from chalicelib.domain.webhooks import verify
from chalicelib.services import webhooks
from chalicelib.store import streams
from chalicelib.store.ledger import PurchaseModel
from chalicelib.store.members import MemberModel
from scripts.token import mint

ADMIN = mint("demo-admin", ["admin"])
MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")
SECRET = "a-long-shared-secret-for-tests"


class Receiver:
    """A CRM's endpoint on this machine: records what it got; answers ``status`` (a list: one per call)."""

    def __init__(self):
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


def feed(readers):
    members, purchases = readers
    members.poll(webhooks.on_member_records)
    purchases.poll(webhooks.on_purchase_records)


def drain():
    """The webhooks queue through the handler Lambda calls (a put-off message comes back later)."""
    while queues.poll_once(queues.WEBHOOKS, handlers.deliver_webhooks):
        pass


def test_events_reach_the_crm_signed_and_once(api, clock, receiver):
    hook = api.call(
        "POST",
        "/v1/webhooks",
        ADMIN,
        {"url": receiver.url, "events": ["member.joined", "purchase.created", "feedback.created"], "secret": SECRET},
    )
    assert hook.status_code == 201, hook.json_body
    assert hook.json_body["secret"] == SECRET
    shown = api.call("GET", f"/v1/webhooks/{hook.json_body['webhook_id']}", ADMIN).json_body
    assert shown["secret"] is None  # write-only
    readers = (streams.StreamReader(MemberModel), streams.StreamReader(PurchaseModel))

    joined = api.join("ann", phone="0151 11111111", name="Ann Private").json_body
    bought = api.call(
        "POST",
        "/v1/purchases",
        api.cashier(),
        {"card": joined["card_number"], "store_id": "s_kiez_mitte", "amount": 1_000, "currency": "EUR"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    ).json_body
    api.call("POST", "/v1/me/feedback", api.customer("ann"), {"kind": "complaint", "rating": 1})
    feed(readers)
    readers[0]._iterators.clear()
    readers[0]._last_sequence.clear()
    feed(readers)  # the stream delivered again: no second delivery
    drain()

    events = [json.loads(body) for _, body in receiver.received]
    assert sorted(e["type"] for e in events) == ["feedback.created", "member.joined", "purchase.created"]
    purchase = next(e for e in events if e["type"] == "purchase.created")
    assert purchase["data"]["purchase_id"] == bought["purchase_id"]
    assert purchase["data"]["customer_id"] == joined["customer_id"]
    for headers, body in receiver.received:
        assert verify(SECRET, headers["x-loyalty-signature"], body, int(time.time()))
        assert not verify("another-secret-entirely", headers["x-loyalty-signature"], body, int(time.time()))
        assert b"Ann Private" not in body and b"+49151" not in body  # no personal data

    log = api.call("GET", f"/v1/webhooks/{hook.json_body['webhook_id']}/deliveries", ADMIN).json_body["items"]
    assert len(log) == 3 and {d["status"] for d in log} == {"delivered"}


def test_a_failing_receiver_is_retried_with_backoff_then_failed_and_replayed(api, clock, receiver):
    hook = api.call(
        "POST", "/v1/webhooks", ADMIN, {"url": receiver.url, "events": ["member.joined"], "secret": SECRET}
    ).json_body
    receiver.statuses = [500] * 5
    readers = (streams.StreamReader(MemberModel), streams.StreamReader(PurchaseModel))
    api.join("ann", phone="0151 11111111")
    feed(readers)
    drain()  # the first attempt fails: the message is handed back in 30 s
    [pending] = api.call("GET", f"/v1/webhooks/{hook['webhook_id']}/deliveries", ADMIN).json_body["items"]
    assert (pending["status"], pending["attempts"]) == ("pending", 1)
    body = {"webhook_id": hook["webhook_id"], "delivery_id": pending["delivery_id"]}
    waits = []
    for _ in range(4):  # the queue's redeliveries, as they come back after each wait
        try:
            webhooks.on_delivery(body)
        except queues.Later as later:
            waits.append(later.seconds)
    assert waits == [120, 600, 3600]  # after the second, third and fourth; the fifth gives up
    [delivery] = api.call("GET", f"/v1/webhooks/{hook['webhook_id']}/deliveries", ADMIN).json_body["items"]
    assert delivery["status"] == "failed" and delivery["attempts"] == 5 and delivery["last_status_code"] == 500
    assert len(receiver.received) == 5

    replayed = api.call("POST", f"/v1/webhooks/{hook['webhook_id']}/deliveries/{delivery['delivery_id']}/replay", ADMIN)
    assert replayed.status_code == 200, replayed.json_body
    drain()
    [after] = api.call("GET", f"/v1/webhooks/{hook['webhook_id']}/deliveries", ADMIN).json_body["items"]
    assert after["status"] == "delivered" and after["attempts"] == 1
    assert len({h["x-loyalty-delivery"] for h, _ in receiver.received}) == 1  # one delivery id throughout


def test_a_webhook_is_https_with_known_events(api):
    for body, field in (
        ({"url": "http://crm.example.com/hooks", "events": ["member.joined"]}, "url"),
        ({"url": "https://crm.example.com/hooks", "events": ["member.deleted"]}, "events.0"),
        ({"url": "https://crm.example.com/hooks", "events": ["member.joined"], "secret": "short"}, "secret"),
        # URLs the standard library's parser itself refuses, and hosts outside ASCII: a 400 naming
        # the field, never the 500 a fuzzer found.
        *(
            ({"url": url, "events": ["member.joined"]}, "url")
            for url in (
                "https://[::1/hooks",
                "https://crm.example.com:99999/hooks",
                "https://crm.example.com:port/hooks",
                "https://crm.\uff21example.com/hooks",
                "http://\x19\x04\u00f3\u00fa/a",
                "https://bücher.example/hooks",
                "https:///hooks",
            )
        ),
    ):
        answer = api.call("POST", "/v1/webhooks", ADMIN, body)
        assert answer.status_code in (400, 422) and answer.json_body["error"]["field"] == field, answer.json_body
    assert api.call("GET", "/v1/webhooks", MARKETER).status_code == 403


def test_the_crm_export_lists_consenting_members_a_page_at_a_time(api, clock):
    for n in range(5):
        api.join(f"m{n}", phone=f"0151 5500{n:04d}", name=f'=HYPERLINK("x") {n}', marketing_consent=n != 2)
    api.feed_snapshot()
    first = api.call("GET", "/v1/reports/members.csv?limit=3", MARKETER)
    assert first.status_code == 200, first.body
    assert first.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(first.body.decode() if isinstance(first.body, bytes) else first.body)))
    assert len(rows) == 3 and all(r["name"].startswith("'=") for r in rows)  # never a formula
    cursor = first.headers["X-Next-Cursor"]
    second = api.call("GET", f"/v1/reports/members.csv?limit=3&cursor={cursor}", MARKETER)
    rest = list(csv.DictReader(io.StringIO(second.body.decode() if isinstance(second.body, bytes) else second.body)))
    assert len(rest) == 1 and "X-Next-Cursor" not in second.headers
    assert len({r["customer_id"] for r in rows + rest}) == 4  # the one without consent is not there
    assert api.call("GET", "/v1/reports/members.csv", api.cashier()).status_code == 403
