from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.settlement import MerchantPeriod, settle

periods = st.lists(
    st.builds(MerchantPeriod, st.sampled_from("abcdef"), st.integers(0, 10**6), st.integers(0, 10**6)),
    max_size=6,
    unique_by=lambda p: p.merchant_id,
)


@given(periods, st.integers(1, 100))
def test_nets_sum_to_zero_and_the_transfers_settle_them(merchants, value):
    result, transfers = settle(merchants, value)
    assert sum(s.net_minor for s in result) == 0
    assert sum(s.cost_share_minor for s in result) == sum(s.redeemed_value_minor for s in result)
    balance = {s.merchant_id: s.net_minor for s in result}
    for t in transfers:
        assert t.amount_minor > 0 and t.from_merchant != t.to_merchant
        balance[t.from_merchant] += t.amount_minor
        balance[t.to_merchant] -= t.amount_minor
    assert all(v == 0 for v in balance.values())


def test_the_cafe_that_honoured_the_boutiques_points_is_paid_by_the_boutique():
    result, transfers = settle([MerchantPeriod("cafe", 100, 900), MerchantPeriod("boutique", 900, 100)], 1)
    by_id = {s.merchant_id: s for s in result}
    assert by_id["cafe"].cost_share_minor == 100 and by_id["cafe"].net_minor == 800
    assert [(t.from_merchant, t.to_merchant, t.amount_minor) for t in transfers] == [("boutique", "cafe", 800)]
