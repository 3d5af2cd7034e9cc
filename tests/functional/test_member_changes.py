"""One exactly-once member change (store/ledger.py ``MemberChange``) carries what comes next as
well as the till: a campaign sent to a member once, a birthday greeting once a year. No endpoint
sends them yet, so these drive the issuing service's message path (``issuing.send``, which asks
the contact policy and commits through ``exactly_once``) the way such a job will, and read the
result over HTTP."""

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import contact
from chalicelib.domain.contact import Refused
from chalicelib.domain.offers import Limits, Offer, Targeting, Trigger
from chalicelib.services import issuing, program
from chalicelib.services.catalog_cache import one_reading
from chalicelib.services.issuing import Sent
from chalicelib.store import features as features_store
from chalicelib.store import ledger
from chalicelib.store import members as member_store
from chalicelib.store.wallet import InboxModel

from .test_purchase_cards import dynamodb_requests


def inbox(api, sub):
    return api.call("GET", "/v1/me/inbox", api.customer(sub)).json_body["items"]


def me(api, sub):
    return api.call("GET", "/v1/me", api.customer(sub)).json_body


def campaign(clock, campaign_id, sub="alice"):
    return issuing.send(
        sub, "campaign", contact.campaign_key(campaign_id), f"Campaign {campaign_id}", "Two for one", clock=clock
    )


def local(clock, days_later=0, hour=12, minute=0, zone="Europe/Berlin"):
    """A wall-clock time in ``zone`` (the members' is Berlin), ``days_later`` days after the
    clock's day there, in UTC as the clock gives it."""
    tz = ZoneInfo(zone)
    day = clock.now.astimezone(tz).date() + timedelta(days=days_later)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(UTC)


def buy(api, card, amount=1250):
    response = api.call(
        "POST",
        "/v1/purchases",
        api.cashier(),
        {"card": card, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.json_body
    return response


@pytest.fixture
def alice(api, clock):
    joined = api.join("alice", phone="0151 23456789").json_body
    assert me(api, "alice")["timezone"] == "Europe/Berlin"
    clock.now = local(clock, days_later=1)
    return joined


def test_a_campaign_reaches_a_member_once_however_often_it_is_sent(api, alice, clock):
    first = campaign(clock, "c_spring")
    again = campaign(clock, "c_spring")
    assert isinstance(first, Sent) and not first.replayed
    assert again == Sent(first.message_id, first.at, replayed=True)
    messages = inbox(api, "alice")
    assert [(m["kind"], m["title"], m["body"]) for m in messages] == [("campaign", "Campaign c_spring", "Two for one")]
    assert messages[0]["message_id"] == first.message_id
    # A message moves no points: the balance and the ledger stay as they were.
    assert me(api, "alice")["points_balance"] == 0
    assert api.call("GET", "/v1/me/ledger", api.customer("alice")).json_body["items"] == []
    # Long after the request's idempotency record is gone, the member's features still know the key.
    clock.now += timedelta(days=30)
    ledger.IdempotencyModel(
        issuing.contact_idempotency_key(alice["customer_id"], contact.campaign_key("c_spring"))
    ).delete()
    assert campaign(clock, "c_spring") == Refused(contact.ALREADY_CONTACTED)
    assert len(inbox(api, "alice")) == 1


def test_a_birthday_greeting_is_sent_once_a_year_and_again_the_next(api, alice, clock):
    sent = []
    for year in (2026, 2026, 2027, 2027):
        clock.now = local(clock, days_later=8)  # past the frequency window of the last greeting
        sent.append(issuing.send("alice", "birthday", contact.birthday_key(year), "Happy birthday!", clock=clock))
    # The same year again answers with that year's greeting, replayed; nothing new lands.
    assert [(type(s), getattr(s, "replayed", None)) for s in sent] == [(Sent, False), (Sent, True)] * 2
    assert sent[0].message_id == sent[1].message_id != sent[2].message_id == sent[3].message_id
    assert [m["kind"] for m in inbox(api, "alice")] == ["birthday", "birthday"]
    assert set(features_store.get_features("alice").keys) == {"birthday#2026", "birthday#2027"}


def test_marketing_never_reaches_a_member_without_consent_but_a_receipt_does(api, alice, clock):
    assert api.call("PATCH", "/v1/me", api.customer("alice"), {"marketing_consent": False}).status_code == 200
    assert campaign(clock, "c_spring") == Refused(contact.NO_CONSENT)
    receipt = issuing.send("alice", "receipt", "receipt#p_1", "Thank you for your visit", clock=clock)
    assert isinstance(receipt, Sent)
    assert [m["kind"] for m in inbox(api, "alice")] == ["receipt"]


def test_marketing_in_the_members_quiet_hours_lands_now_and_its_push_waits_for_their_end(api, alice, clock):
    clock.now = local(clock, hour=23)
    sent = campaign(clock, "c_spring")
    assert isinstance(sent, Sent)
    assert [m["kind"] for m in inbox(api, "alice")] == ["campaign"]
    assert push_after(sent) == local(clock, days_later=1, hour=9)
    # Their own quiet hours, in their own time zone.
    body = {"quiet_hours": {"start": "13:00", "end": "15:30"}, "timezone": "America/New_York"}
    assert api.call("PATCH", "/v1/me", api.customer("alice"), body).status_code == 200
    clock.now = local(clock, days_later=8, hour=14, zone="America/New_York")
    in_new_york = campaign(clock, "c_summer")
    assert isinstance(in_new_york, Sent)
    assert push_after(in_new_york) == local(clock, hour=15, minute=30, zone="America/New_York")
    clock.now = local(clock, days_later=8, hour=16, zone="America/New_York")
    assert push_after(campaign(clock, "c_autumn")) is None


def push_after(sent):
    customer_id = member_store.get_member("alice").customer_id
    return InboxModel.get(customer_id, sent.message_id).push_after


def test_a_member_gets_one_marketing_message_a_week_while_receipts_are_not_counted(api, alice, clock):
    assert isinstance(campaign(clock, "c_spring"), Sent)
    clock.now += timedelta(days=1)
    assert campaign(clock, "c_summer") == Refused(contact.FREQUENCY_CAP)
    assert isinstance(issuing.send("alice", "receipt", "receipt#p_1", "Thanks", clock=clock), Sent)
    clock.now = local(clock, days_later=6)
    assert isinstance(campaign(clock, "c_summer"), Sent)
    assert [m["title"] for m in inbox(api, "alice")] == ["Campaign c_summer", "Thanks", "Campaign c_spring"]


def test_a_member_who_left_is_sent_nothing(api, alice, clock):
    assert api.call("DELETE", "/v1/me", api.customer("alice")).status_code == 204
    assert campaign(clock, "c_spring") == Refused(contact.NOT_A_MEMBER)
    assert issuing.send("nobody", "receipt", "receipt#p_1", "Thanks", clock=clock) == Refused(contact.NOT_A_MEMBER)


def test_two_campaigns_racing_for_one_member_send_one(api, alice, clock, monkeypatch):
    """Both decide on the same features; the second to commit meets the first's contact
    (the features' revision), reads again and is refused by the cap."""
    real_apply = ledger.apply
    raced = []

    def apply_after_a_rival(change):
        if change.contact.key == contact.campaign_key("c_spring") and not raced:
            raced.append(None)
            raced[0] = campaign(clock, "c_rival")
        real_apply(change)

    monkeypatch.setattr(ledger, "apply", apply_after_a_rival)
    assert campaign(clock, "c_spring") == Refused(contact.FREQUENCY_CAP)
    assert isinstance(raced[0], Sent)
    assert [m["title"] for m in inbox(api, "alice")] == ["Campaign c_rival"]


def test_a_message_never_makes_a_purchase_on_the_same_member_read_again(api, alice, clock, monkeypatch):
    """A marketing send lands between the till's read of the member and its commit: the
    purchase commits on its first attempt, because a message checks the member, not updates it."""
    real_apply = ledger.apply
    attempts = []

    def apply_after_a_campaign(change):
        attempts.append(change.idempotency_key)
        if len(attempts) == 1:
            assert isinstance(campaign(clock, "c_spring"), Sent)
        real_apply(change)

    monkeypatch.setattr(ledger, "apply", apply_after_a_campaign)
    buy(api, alice["card_number"])
    purchase_attempts = [key for key in attempts if not key.startswith("contact|")]
    assert len(purchase_attempts) == 1
    assert [m["kind"] for m in inbox(api, "alice")] == ["campaign"]
    assert me(api, "alice")["points_balance"] > 0


def test_a_marketing_message_decided_before_consent_was_withdrawn_is_not_sent(api, alice, clock, monkeypatch):
    real_apply = ledger.apply

    def apply_after_withdrawal(change):
        if (
            change.contact is not None
            and change.contact.marketing
            and member_store.get_member("alice").marketing_consent
        ):
            body = {"marketing_consent": False}
            assert api.call("PATCH", "/v1/me", api.customer("alice"), body).status_code == 200
        real_apply(change)

    monkeypatch.setattr(ledger, "apply", apply_after_withdrawal)
    assert campaign(clock, "c_spring") == Refused(contact.NO_CONSENT)
    assert inbox(api, "alice") == []


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


def coffee_offer(**changes):
    offer = Offer(
        "o_spring_coffee",
        "A coffee on us",
        Trigger("campaign"),
        {"type": "free_item", "sku": "coffee"},
        merchant_id="m_kiez",
        limits=Limits(per_customer=1),
    )
    return dataclasses.replace(offer, **changes)


def test_a_campaign_brings_its_offer_through_the_same_rules_as_a_check_in(api, alice, clock):
    """The offer is issued into the wallet with its own inbox message and budget; one the member
    cannot get (here: their one per customer is spent) is not promised."""
    sent = issuing.send(
        "alice", "campaign", contact.campaign_key("c_spring"), "Spring", clock=clock, offer=coffee_offer()
    )
    assert isinstance(sent, Sent) and sent.wallet_ids == ("o_spring_coffee#1",)
    wallet = api.call("GET", "/v1/me/offers", api.customer("alice")).json_body["items"]
    assert [(w["wallet_id"], w["status"], w["store_id"]) for w in wallet] == [("o_spring_coffee#1", "issued", None)]
    assert sorted((m["kind"], m["offer_id"]) for m in inbox(api, "alice")) == [
        ("campaign", "o_spring_coffee"),
        ("offer", "o_spring_coffee"),
    ]
    clock.now = local(clock, days_later=8)
    again = issuing.send(
        "alice", "campaign", contact.campaign_key("c_autumn"), "Autumn", clock=clock, offer=coffee_offer()
    )
    assert again == Refused(issuing.OFFER_UNAVAILABLE)
    assert len(inbox(api, "alice")) == 2


def test_a_campaign_offer_for_a_segment_reaches_only_its_members(api, alice, clock):
    for_regulars = coffee_offer(targeting=Targeting(segment_id="regulars"))
    key = contact.campaign_key("c_regulars")
    assert issuing.send("alice", "campaign", key, "Hi", clock=clock, offer=for_regulars) == Refused(
        issuing.OFFER_UNAVAILABLE
    )
    features_store.set_segments("alice", frozenset({"regulars"}), clock.now)
    assert isinstance(issuing.send("alice", "campaign", key, "Hi", clock=clock, offer=for_regulars), Sent)


def test_a_campaign_whose_offer_the_store_refuses_is_sent_without_it(api, alice, clock):
    """The budget was spent between the decision and the commit: the message keeps its text and
    the offer is left out, as a check-in's or a purchase's would be."""
    spent = coffee_offer(limits=Limits(budget=1))
    other = api.join("bob", phone="0151 22233344").json_body
    assert other["customer_id"]
    assert isinstance(
        issuing.send("bob", "campaign", contact.campaign_key("c_spring"), "Spring", clock=clock, offer=spent), Sent
    )
    # The caller's copy of the offer still says none were issued: the store's counter says otherwise.
    sent = issuing.send("alice", "campaign", contact.campaign_key("c_spring"), "Spring", clock=clock, offer=spent)
    assert isinstance(sent, Sent) and sent.wallet_ids == ()
    assert api.call("GET", "/v1/me/offers", api.customer("alice")).json_body["items"] == []
    assert [(m["kind"], m["offer_id"]) for m in inbox(api, "alice")] == [("campaign", "o_spring_coffee")]


def test_a_message_costs_two_reads_and_one_transaction(api, alice, clock):
    """The member and their features by key, then one transaction (the idempotency record, the
    member checked, the inbox message, the features): a job sending to many members pays that much
    per member, whatever their history."""
    with one_reading():  # as a job's consumer runs: the program's rules read once for the batch
        program.rules()
        with dynamodb_requests() as made:
            assert isinstance(campaign(clock, "c_spring"), Sent)
    assert made == [("GetItem", "members"), ("GetItem", "features"), ("TransactWriteItems", "-")]
