"""The purchase item's JSON body and the typed record it holds read back into each other."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.purchase_record import RecordedLine, RecordedPurchase, RefundMade
from chalicelib.store.ledger import purchase_body, recorded_purchase

SECONDS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)).map(
    lambda moment: moment.replace(microsecond=0)
)
COUNT = st.integers(min_value=0, max_value=10**9)
TEXT = st.text(min_size=1, max_size=12)

LINES = st.builds(
    RecordedLine,
    sku=TEXT,
    qty=st.integers(min_value=1, max_value=100),
    price_minor=COUNT,
    category=st.none() | TEXT,
    on_sale=st.booleans(),
    due=COUNT,
    points=COUNT,
    redeemed=COUNT,
    refunded_qty=st.integers(min_value=0, max_value=100),
)
REFUNDS = st.builds(
    RefundMade,
    refund_id=TEXT,
    at=SECONDS,
    **dict.fromkeys(("amount_refunded", "money_refunded", "points_taken_back", "points_returned"), COUNT),
)
RECORDS = st.builds(
    RecordedPurchase,
    purchase_id=TEXT,
    customer_id=TEXT,
    store_id=TEXT,
    merchant_id=TEXT,
    at=SECONDS,
    currency=st.sampled_from(["EUR", "GBP"]),
    promotion_ids=st.lists(TEXT, max_size=3).map(tuple),
    offers_redeemed=st.lists(TEXT, max_size=3).map(tuple),
    offers_issued=st.lists(st.fixed_dictionaries({"offer_id": TEXT, "title": TEXT}), max_size=2).map(tuple),
    tier=TEXT,
    tier_upgraded=st.booleans(),
    tier_before=st.none() | TEXT,
    redeemed_lots=st.lists(st.tuples(st.sampled_from(["2026-01", "2026-02"]), COUNT), max_size=3).map(tuple),
    lines=st.lists(LINES, max_size=4).map(tuple),
    status=st.sampled_from([None, "partially_refunded", "refunded"]),
    refunds=st.lists(REFUNDS, max_size=3).map(tuple),
    **dict.fromkeys(
        (
            "amount",
            "discount_percent",
            "discount",
            "points_redeemed",
            "redeemed_value",
            "amount_due",
            "points_earned",
            "earn_multiplier_percent",
            "offer_discount",
            "points_debt_repaid",
            "points_balance",
            "refunded_amount",
            "refunded_money",
            "points_taken_back",
            "points_returned",
        ),
        COUNT,
    ),
)


@given(RECORDS)
def test_a_record_reads_back_from_its_body_unchanged(record):
    assert recorded_purchase(purchase_body(record)) == record


def test_a_body_of_the_oldest_layout_reads_as_a_record_with_no_lines_tier_before_or_refunds():
    oldest = {
        "purchase_id": "pur_1",
        "customer_id": "c_1",
        "store_id": "s_1",
        "merchant_id": "m_1",
        "at": "2026-03-01T10:00:00Z",
        "amount": 1000,
        "currency": "EUR",
        "discount_percent": 5,
        "discount": 50,
        "points_redeemed": 0,
        "redeemed_value": 0,
        "amount_due": 950,
        "points_earned": 9,
        "earn_multiplier_percent": 100,
        "promotion_ids": [],
        "points_balance": 9,
        "points_debt_repaid": 0,
        "tier": "Bronze",
        "tier_upgraded": False,
    }

    record = recorded_purchase(oldest)

    assert record.at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert (record.lines, record.tier_before, record.redeemed_lots, record.refunds) == ((), None, (), ())
    assert (record.refunded_amount, record.status, record.offers_issued) == (0, None, ())
