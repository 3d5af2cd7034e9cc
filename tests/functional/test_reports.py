"""Reports from counters the write streams keep (sales per day, points per day) and from the
members' snapshot: the summary, tiers, an offer, the economics; staff of a merchant see theirs."""

import uuid

from scripts.token import mint

MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")
NORD_MARKETER = mint("nord-marketer", ["marketer"], "m_nordlicht")
ADMIN = mint("demo-admin", ["admin"])


def buy(api, card, amount, items=(), offer_ids=()):
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": amount, "currency": "EUR"}
    if items:
        body["items"] = list(items)
    if offer_ids:
        body["offer_ids"] = list(offer_ids)
    answer = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.json_body
    return answer.json_body


def period(clock):
    day = clock.now.date().isoformat()
    return f"from={day}&to={day}"


def test_the_summary_counts_sales_points_and_members_from_the_streams(api, clock):
    ann = api.join("ann", phone="0151 11111111").json_body["card_number"]
    ben = api.join("ben", phone="0151 22222222", marketing_consent=False).json_body["card_number"]
    first = buy(api, ann, 2_000)
    second = buy(api, ann, 1_000)
    third = buy(api, ben, 500)
    refund = api.call(
        "POST",
        f"/v1/purchases/{third['purchase_id']}/refund",
        api.cashier(),
        {},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert refund.status_code in (200, 201), refund.json_body
    api.feed_reports()
    api.feed_reports()  # nothing new: nothing counted twice
    api.feed_snapshot()

    answer = api.call("GET", f"/v1/reports/summary?{period(clock)}", MARKETER)
    assert answer.status_code == 200, answer.json_body
    report = answer.json_body
    paid = first["amount_due"] + second["amount_due"] + third["amount_due"]
    assert report["sales"]["purchases"] == 3 and report["sales"]["revenue_minor"] == paid
    assert report["sales"]["gross_minor"] == 3_500
    assert report["sales"]["average_check_minor"] == paid // 3
    assert report["sales"]["refunded_minor"] == third["amount_due"]
    earned = first["points_earned"] + second["points_earned"] + third["points_earned"]
    assert report["points"]["given"] == earned and report["points"]["taken_back"] == third["points_earned"]
    assert report["points"]["outstanding"] == earned - third["points_earned"]
    # Ben's only purchase was refunded in full: his visit is undone, he is neither active nor a buyer.
    assert report["members"] == {
        "members": 2,
        "joined_in_period": 2,
        "active_in_period": 1,
        "repeat_rate": 1.0,
        "consenting": 1,
    }
    assert report["tiers"] == [{"tier": "Bronze", "members": 2}]

    # A merchant's staff see their merchant's, not another's; cashiers and customers nothing.
    nord = api.call("GET", f"/v1/reports/summary?{period(clock)}", NORD_MARKETER).json_body
    assert nord["merchant_id"] == "m_nordlicht" and nord["sales"]["purchases"] == 0
    assert api.call("GET", f"/v1/reports/summary?{period(clock)}&merchant_id=m_kiez", NORD_MARKETER).status_code == 403
    assert api.call("GET", f"/v1/reports/summary?{period(clock)}", api.cashier()).status_code == 403
    assert api.call("GET", f"/v1/reports/summary?{period(clock)}", api.customer("ann")).status_code == 403
    everyone = api.call("GET", f"/v1/reports/summary?{period(clock)}", ADMIN).json_body
    assert everyone["merchant_id"] is None and everyone["sales"]["purchases"] == 3

    economics = api.call("GET", f"/v1/reports/economics?{period(clock)}", MARKETER).json_body
    [month] = economics["months"]
    assert month["revenue_minor"] == paid and month["cost_minor"] >= month["discounts_minor"]

    tiers = api.call("GET", "/v1/reports/tiers", MARKETER).json_body
    bronze = next(t for t in tiers["tiers"] if t["tier"] == "Bronze")
    assert bronze["members"] == 2 and bronze["share"] == 1.0
    assert tiers["members"] == 2


def test_an_offer_report_counts_its_redemptions(api, clock):
    offer = api.call(
        "POST",
        "/v1/offers",
        MARKETER,
        {"title": "Coffee card", "trigger": {"type": "purchase"}, "reward": {"type": "percent_off", "percent": 50}},
    ).json_body
    card = api.join("ann", phone="0151 11111111").json_body["card_number"]
    earned = buy(api, card, 1_000)
    [issued] = earned["offers_issued"]
    redeeming = buy(api, card, 1_000, offer_ids=[issued["offer_id"]])
    api.feed_reports()
    report = api.call("GET", f"/v1/reports/offers/{offer['offer_id']}?{period(clock)}", MARKETER)
    assert report.status_code == 200, report.json_body
    body = report.json_body
    assert body["redeemed"] == 1 and body["revenue_minor"] == redeeming["amount_due"]
    assert body["issued"] >= 1 and body["days"][0]["redeemed"] == 1
    assert api.call("GET", f"/v1/reports/offers/{offer['offer_id']}?{period(clock)}", NORD_MARKETER).status_code == 404


def test_the_till_sees_what_the_member_likes(api, clock):
    card = api.join("ann", phone="0151 11111111").json_body["card_number"]
    api.call("PATCH", "/v1/me", api.customer("ann"), {"interests": ["coffee"]})
    items = [
        {"sku": "cake", "category": "cake", "qty": 2, "price": 300},
        {"sku": "fw", "category": "coffee", "qty": 1, "price": 300},
    ]
    buy(api, card, 900, items=items)
    summary = api.call("GET", f"/v1/cards/{card}", api.cashier()).json_body
    assert summary["favourite_categories"] == ["cake", "coffee"]
    assert summary["visits"] == 1 and isinstance(summary["tier_perks"], list)
    assert summary["interests"] == ["coffee"]
