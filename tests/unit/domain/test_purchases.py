"""``apply_purchase`` and ``apply_refund``: what a purchase and its refund do to a member beyond the
quote (the points machine in test_points_machine.py drives them in random order)."""

from datetime import UTC, datetime

from chalicelib.domain.changes import Standing
from chalicelib.domain.points import Points
from chalicelib.domain.purchases import MAX_CATEGORIES, LineItem, Sale, apply_purchase
from chalicelib.domain.refunds import PurchaseTotals, Sold, apply_refund
from tests.unit.domain.test_points_machine import seed_rules

RULES = seed_rules()
NEWCOMER = Standing(Points(), "Bronze")


def sale(amount: int, *items: LineItem, redeem: int = 0) -> Sale:
    return Sale("pur_1", "m_kiez", "s_kiez_mitte", amount, items, redeem)


def test_a_purchase_counts_in_the_programs_month_not_utcs() -> None:
    # 23:30 UTC on New Year's Eve is already January in Berlin: the visit, the lot and the
    # upgrade's review all count from the local day.
    new_year = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    decision = apply_purchase(RULES, NEWCOMER, sale(120_000), (), (), new_year)
    assert list(decision.visit.monthly) == ["2026-01"]
    assert decision.points.points.lots[0][0] == "2028-01-31"
    assert decision.tier_change is not None and decision.tier_change.tier == "Gold"
    assert decision.tier_change.review_due == "2027-01-01"


def test_a_purchase_forgets_the_months_that_left_the_tier_window() -> None:
    member = Standing(Points(), "Bronze", monthly={"2024-06": (5_000, 2), "2025-03": (1_000, 1)})
    decision = apply_purchase(RULES, member, sale(1_000), (), (), datetime(2025, 6, 15, 10, tzinfo=UTC))
    assert decision.visit.monthly == {"2025-03": (1_000, 1), "2025-06": (950, 1)}


def test_a_purchase_keeps_the_most_bought_categories_up_to_the_cap() -> None:
    counts = {f"cat{n:03d}": 2 for n in range(MAX_CATEGORIES)}
    items = (LineItem("latte", 3, 400, "coffee"), LineItem("bag", 1, 100))
    decision = apply_purchase(
        RULES, Standing(Points(), "Bronze", category_counts=counts), sale(1_300, *items), (), (), datetime.now(UTC)
    )
    kept = decision.visit.category_counts
    assert kept is not None and len(kept) == MAX_CATEGORIES
    assert next(iter(kept.items())) == ("coffee", 3) and "cat049" not in kept
    no_categories = apply_purchase(RULES, NEWCOMER, sale(100, LineItem("bag", 1, 100)), (), (), datetime.now(UTC))
    assert no_categories.visit.category_counts is None  # left as they are


def test_a_refund_undoes_an_upgrade_but_never_below_the_tier_before_the_purchase() -> None:
    # Silver bought Gold with one purchase; refunding it leaves the window below Silver's
    # threshold too, but the refund only undoes what that purchase bought.
    bought = datetime(2025, 6, 15, 10, tzinfo=UTC)
    silver = Standing(Points(), "Silver", monthly={"2025-06": (30_000, 12)})
    decision = apply_purchase(RULES, silver, sale(90_000), (), (), bought)
    assert decision.tier_change is not None and decision.tier_change.tier == "Gold"
    quote = decision.quote
    sold = Sold(
        "pur_1",
        "m_kiez",
        "s_kiez_mitte",
        bought,
        PurchaseTotals(quote.amount, quote.amount_due, quote.points_earned, quote.points_redeemed),
        quote.tier_before,
        quote.tier_after,
        True,
    )
    # Meanwhile the spend that made Silver was refunded: without this purchase the window
    # reaches only Bronze.
    emptied = Standing(
        decision.points.points, "Gold", {"2025-06": (quote.amount_due + 1_000, 2)}, tier_review_due="2026-06-15"
    )
    refund = apply_refund(RULES, emptied, sold, None, None, datetime(2025, 7, 1, 10, tzinfo=UTC))
    assert refund.complete and refund.tier_change is not None
    assert (refund.tier_change.tier, refund.tier_change.review_due) == ("Silver", "2026-06-15")
    assert refund.points.points == Points() and refund.visit.monthly == {"2025-06": (1_000, 1)}
