from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.refunds import PurchaseTotals, quote_refund


@st.composite
def purchases_and_refunds(draw):
    amount = draw(st.integers(1, 10**6))
    due = draw(st.integers(0, amount))
    earned = draw(st.integers(0, 10**4))
    redeemed = draw(st.integers(0, 10**4))
    parts = draw(st.lists(st.integers(1, amount), max_size=6))
    return PurchaseTotals(amount=amount, amount_due=due, points_earned=earned, points_redeemed=redeemed), parts


@given(purchases_and_refunds())
def test_partial_refunds_then_the_rest_add_up_to_the_purchase_exactly(case):
    totals, parts = case
    money = take = give = 0
    state = totals
    for part in parts:
        left = state.amount - state.refunded_amount
        if part > left:
            continue
        quote = quote_refund(state, part)
        assert quote.money >= 0 and quote.take_back >= 0 and quote.give_back >= 0
        money, take, give = money + quote.money, take + quote.take_back, give + quote.give_back
        state = PurchaseTotals(
            amount=totals.amount,
            amount_due=totals.amount_due,
            points_earned=totals.points_earned,
            points_redeemed=totals.points_redeemed,
            refunded_amount=quote.refunded_amount_after,
            refunded_money=money,
            points_taken_back=take,
            points_returned=give,
        )
    if state.refunded_amount < totals.amount:
        rest = quote_refund(state)
        money, take, give = money + rest.money, take + rest.take_back, give + rest.give_back
    assert (money, take, give) == (totals.amount_due, totals.points_earned, totals.points_redeemed)
