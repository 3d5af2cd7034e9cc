"""Segments: definitions previewed over the members' snapshot (kept from the members table's
stream), saved segments, their membership in the members' features, and offers that target them."""

import uuid
from datetime import timedelta

import pytest

from chalicelib.store import features, snapshot
from scripts.token import mint

MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")
ADMIN = mint("demo-admin", ["admin"])


def buy(api, card, amount=1_000, categories=("coffee",)):
    body = {
        "card": card,
        "store_id": "s_kiez_mitte",
        "amount": amount,
        "currency": "EUR",
        "items": [{"sku": f"sku-{c}", "category": c, "qty": 1, "price": amount // len(categories)} for c in categories],
    }
    answer = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.json_body
    return answer.json_body


def preview(api, definition, token=MARKETER):
    return api.call("POST", "/v1/segments/preview", token, definition)


@pytest.fixture
def members(api, clock):
    """Ann (three coffee visits, consents), Ben (one cake visit, no consent), Cid (never bought)."""
    ann = api.join("ann", phone="0151 11111111").json_body["card_number"]
    ben = api.join("ben", phone="0151 22222222", marketing_consent=False).json_body["card_number"]
    api.join("cid", phone="0151 33333333")
    paid = 0
    for _ in range(3):
        paid += buy(api, ann, 2_000, ("coffee",))["amount_due"]
        clock.now += timedelta(days=1)
    buy(api, ben, 500, ("cake",))
    api.feed_snapshot()
    return {"ann": ann, "ben": ben, "ann_paid": paid}


def test_a_preview_counts_from_the_snapshot_and_samples_without_personal_data(api, members):
    everyone = preview(api, {})
    assert everyone.status_code == 200, everyone.json_body
    assert everyone.json_body["count"] == everyone.json_body["members"] == 3
    coffee = preview(api, {"categories": ["coffee"]}).json_body
    assert coffee["count"] == 1
    [ann] = coffee["sample"]
    assert ann["visits"] == 3 and ann["spend_minor"] == members["ann_paid"] and ann["favourite_category"] == "coffee"
    assert set(ann) == {"customer_id", "tier", "visits", "spend_minor", "last_visit_at", "favourite_category"}
    assert preview(api, {"consent_only": True}).json_body["count"] == 2
    assert preview(api, {"min_visits": 1}).json_body["count"] == 2
    assert preview(api, {"min_visits": 1, "consent_only": True, "categories": ["cake"]}).json_body["count"] == 0
    assert preview(api, {"last_visit_days": {"max": 0}}).json_body["count"] == 1  # Ben bought today
    assert preview(api, {"last_visit_days": {"min": 1, "max": 30}}).json_body["count"] == 1  # Ann, yesterday
    assert preview(api, {"birthday_month": 4}).json_body["count"] == 3
    assert preview(api, {"joined_days": {"max": 0}}).json_body["count"] == 0  # they joined 3 days ago
    # Ann spent more, more often, more recently...: among the two with visits she is the top cell.
    assert preview(api, {"rfm": ["*55"]}).json_body["count"] == 1
    assert preview(api, {"rfm": ["***"]}).json_body["count"] == 2


def test_a_member_who_leaves_is_gone_from_the_snapshot(api, members):
    assert api.call("DELETE", "/v1/me", api.customer("ben")).status_code == 204
    api.feed_snapshot()
    assert preview(api, {}).json_body["count"] == 2
    assert snapshot.current().compact(snapshot.MEMBERS) >= 1
    with snapshot.current().connect() as con:
        assert con.execute("SELECT count(*) FROM members WHERE sub = 'ben'").fetchone() == (0,)


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ({"rfm": ["6**"]}, "rfm.0"),
        ({"rfm": ["55"]}, "rfm.0"),
        ({"last_visit_days": {"min": 10, "max": 5}}, "last_visit_days.max"),
        ({"min_visits": 5, "max_visits": 2}, "max_visits"),
        ({"birthday_month": 13}, "birthday_month"),
        ({"tiers": ["Platinum"]}, "tiers.0"),
        ({"home_store_id": "s_nowhere"}, "home_store_id"),
        ({"last_visit_days": {"min": -1}}, "last_visit_days.min"),
        ({"favourite": "x"}, "favourite"),
    ],
)
def test_a_definition_that_cannot_be_is_refused_naming_the_field(api, definition, field):
    answer = preview(api, definition)
    assert answer.status_code in (400, 422), answer.json_body
    assert answer.json_body["error"]["field"] == field


def test_a_saved_segment_names_the_field_under_its_definition(api):
    body = {"name": "Upside down", "definition": {"last_visit_days": {"min": 10, "max": 5}}}
    answer = api.call("POST", "/v1/segments", MARKETER, body)
    assert answer.status_code == 422
    assert answer.json_body["error"]["field"] == "definition.last_visit_days.max"


def test_only_marketers_and_admins_preview(api, clock):
    api.join("ann")
    assert preview(api, {}, api.customer("ann")).status_code == 403
    assert preview(api, {}, api.cashier()).status_code == 403
    assert preview(api, {}, ADMIN).status_code == 200


def test_a_saved_segment_writes_its_members_and_an_offer_targets_it(api, members, clock):
    created = api.call(
        "POST", "/v1/segments", MARKETER, {"name": "Coffee regulars", "definition": {"categories": ["coffee"]}}
    )
    assert created.status_code == 201, created.json_body
    segment_id = created.json_body["segment_id"]
    assert created.json_body["merchant_id"] == "m_kiez" and created.json_body["members"] is None

    run = api.run_job("segments", clock.now)
    assert run["joined"] == 1 and run["left"] == 0
    assert features.get_features("ann").segments == {segment_id}
    assert features.get_features("ben").segments == frozenset()
    assert api.run_job("segments", clock.now)["joined"] == 0  # nothing changed: nothing written
    shown = api.call("GET", f"/v1/segments/{segment_id}", MARKETER).json_body
    assert shown["members"] == 1 and shown["members_at"] is not None

    # An offer for the segment: Ann's purchase earns it, Ben's does not.
    offer = api.call(
        "POST",
        "/v1/offers",
        MARKETER,
        {
            "title": "For our coffee regulars",
            "trigger": {"type": "purchase"},
            "targeting": {"segment_id": segment_id},
            "reward": {"type": "percent_off", "percent": 20},
        },
    )
    assert offer.status_code == 201, offer.json_body
    clock.now += timedelta(days=1)
    assert [o["offer_id"] for o in buy(api, members["ann"])["offers_issued"]] == [offer.json_body["offer_id"]]
    assert buy(api, members["ben"], categories=("cake",))["offers_issued"] == []

    # Ben starts buying coffee: the next run puts him in; a retired segment lets everyone go.
    buy(api, members["ben"], categories=("coffee",))
    api.feed_snapshot()
    assert api.run_job("segments", clock.now)["joined"] == 1
    assert features.get_features("ben").segments == {segment_id}
    assert api.call("DELETE", f"/v1/segments/{segment_id}", MARKETER).status_code == 204
    assert api.run_job("segments", clock.now)["left"] == 2
    assert features.get_features("ann").segments == frozenset()


def test_an_offer_for_a_segment_that_does_not_exist_is_refused(api):
    answer = api.call(
        "POST",
        "/v1/offers",
        MARKETER,
        {
            "title": "Nobody's",
            "trigger": {"type": "purchase"},
            "targeting": {"segment_id": "seg_nope"},
            "reward": {"type": "percent_off", "percent": 20},
        },
    )
    assert answer.status_code == 422
    assert answer.json_body["error"]["code"] == "unknown_segment"


def test_segments_are_listed_paged_and_kept_to_their_merchant(api):
    for n in range(3):
        body = {"name": f"Segment {n}", "definition": {"min_visits": n}}
        assert api.call("POST", "/v1/segments", MARKETER, body).status_code == 201
    first = api.call("GET", "/v1/segments?limit=2", MARKETER).json_body
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = api.call("GET", f"/v1/segments?limit=2&cursor={first['next_cursor']}", MARKETER).json_body
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    other = mint("nord-marketer", ["marketer"], "m_nordlicht")
    assert api.call("GET", "/v1/segments", other).json_body["items"] == []
    segment_id = first["items"][0]["segment_id"]
    assert api.call("GET", f"/v1/segments/{segment_id}", other).status_code == 404
