"""One exactly-once member change (store/ledger.py ``MemberChange``) carries what comes next as
well as the till: a campaign sent to a member once, a birthday greeting once a year. No endpoint
sends them yet, so these drive the change the way such a service will (``exactly_once`` with a
deterministic key) and read the result over HTTP."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.changes import Notice
from chalicelib.services.idempotency import exactly_once, request_hash
from chalicelib.store import ledger
from chalicelib.store import members as member_store

#: A greeting key names the year; it must outlive the year it guards.
A_YEAR = timedelta(days=366)


def send_once(sub: str, key: str, notice: Notice, remember_for: timedelta = ledger.IDEMPOTENCY_TTL):
    fingerprint = request_hash({"key": key})

    def prepare() -> ledger.MemberChange:
        member = member_store.get_member(sub)
        assert member is not None
        return ledger.MemberChange(
            member,
            key,
            fingerprint,
            datetime.now(UTC),
            {"customer_id": member.customer_id, "sent": notice.kind},
            remember_for=remember_for,
            notices=(notice,),
        )

    return exactly_once(key, fingerprint, prepare)


def inbox(api, sub):
    return api.call("GET", "/v1/me/inbox", api.customer(sub)).json_body["items"]


def me(api, sub):
    return api.call("GET", "/v1/me", api.customer(sub)).json_body


@pytest.fixture
def alice(api):
    return api.join("alice", phone="0151 23456789").json_body


def test_a_campaign_reaches_a_member_once_however_often_it_is_sent(api, alice):
    key = f"campaign|c_spring|{alice['customer_id']}"
    notice = Notice("campaign", "Spring at Kiez", "Two coffees for one all week")
    first = send_once("alice", key, notice)
    again = send_once("alice", key, notice)
    assert not first.replayed and again.replayed and again.body == first.body
    messages = inbox(api, "alice")
    assert [(m["kind"], m["title"], m["body"]) for m in messages] == [
        ("campaign", "Spring at Kiez", "Two coffees for one all week")
    ]
    # A message moves no points: the balance and the ledger stay as they were.
    assert me(api, "alice")["points_balance"] == 0
    assert api.call("GET", "/v1/me/ledger", api.customer("alice")).json_body["items"] == []


def test_a_birthday_greeting_is_sent_once_a_year_and_again_the_next(api, alice):
    greeting = Notice("birthday", "Happy birthday!", "A cake on us this week")
    for year in (2026, 2026, 2027, 2027):
        send_once("alice", f"birthday|{year}|{alice['customer_id']}", greeting, remember_for=A_YEAR)
    assert [m["kind"] for m in inbox(api, "alice")] == ["birthday", "birthday"]
    # "Once a year" holds for the year: the key is remembered that long, not the requests' 24 hours.
    record = ledger.IdempotencyModel.get(f"birthday|2026|{alice['customer_id']}")
    assert record.expires_at - record.created_at > A_YEAR - timedelta(seconds=1)  # a TTL keeps seconds


def test_a_message_decided_on_a_stale_read_of_the_member_is_not_sent(api, alice):
    stale = member_store.get_member("alice")
    assert stale is not None
    cashier_buys = api.call(
        "POST",
        "/v1/purchases",
        api.cashier(),
        {"card": alice["card_number"], "store_id": "s_kiez_mitte", "amount": 1250, "currency": "EUR"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert cashier_buys.status_code == 201
    change = ledger.MemberChange(
        stale, "campaign|c_stale|x", "h", datetime.now(UTC), {}, notices=(Notice("campaign", "Hi"),)
    )
    with pytest.raises(ledger.StaleRead):
        ledger.apply(change)
    assert inbox(api, "alice") == []
    assert ledger.stored_response("campaign|c_stale|x") is None


def test_the_store_numbers_a_changes_ledger_entries_after_the_members_revision(api, alice):
    revision = member_store.get_member("alice").revision
    for amount in (1250, 3000):
        response = api.call(
            "POST",
            "/v1/purchases",
            api.cashier(),
            {"card": alice["card_number"], "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201
    ids = [e["entry_id"] for e in api.call("GET", "/v1/me/ledger", api.customer("alice")).json_body["items"]]
    assert [i.split(".")[:2] for i in ids] == [[f"{revision + 2:012d}", "0"], [f"{revision + 1:012d}", "0"]]
