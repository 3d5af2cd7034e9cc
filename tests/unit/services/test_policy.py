"""The policy as properties: a staff token never acts beyond the merchant and store it names."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.catalog import Store
from chalicelib.domain.identity import Identity, Role
from chalicelib.errors import Forbidden
from chalicelib.services import policy

MERCHANTS = st.sampled_from(["m_kiez", "m_nordlicht", "m_third"])
STORES = st.builds(
    lambda merchant, n: Store(f"s_{merchant}_{n}", merchant, "A store", {"center": [13.4, 52.5], "radius_m": 50}),
    MERCHANTS,
    st.integers(0, 2),
)
STAFF = st.builds(
    lambda roles, merchant, store: Identity("staff", frozenset(roles), merchant, store),
    st.sets(st.sampled_from([Role.CASHIER, Role.MARKETER]), min_size=1),
    st.none() | MERCHANTS,
    st.none() | STORES.map(lambda s: s.store_id),
)


class Owned:
    def __init__(self, merchant_id):
        self.merchant_id = merchant_id


@given(STAFF, STORES, st.none() | MERCHANTS)
def test_a_staff_token_acts_only_for_the_merchant_it_names(who, store, requested):
    if who.merchant_id is None:
        for act in (
            lambda: policy.seen(who, lambda: [Owned(None)]),
            lambda: policy.merchant_for(who, requested, "offer"),
            lambda: policy.may_sell_at(who, store),
            lambda: policy.may_refund(who, store.merchant_id, store.store_id),
            lambda: policy.may_look_up_members(who),
        ):
            with pytest.raises(Forbidden) as refused:
                act()
            assert refused.value.code == "no_merchant_scope"
        return
    marketer = Role.MARKETER in who.roles
    shown = policy.seen(who, lambda: [Owned(store.merchant_id), Owned(None)])
    own = [store.merchant_id] if store.merchant_id == who.merchant_id else []
    # A marketer sees their merchant's things and the program's; a cashier sees no catalog thing.
    assert [o.merchant_id for o in shown] == ([*own, None] if marketer else [])
    if marketer and requested in (None, who.merchant_id):
        assert policy.merchant_for(who, requested, "offer") == who.merchant_id
    else:
        with pytest.raises(Forbidden):
            policy.merchant_for(who, requested, "offer")


@given(STAFF, STORES)
def test_a_till_sells_only_at_its_merchant_and_at_its_own_store_when_it_names_one(who, store):
    may = Role.CASHIER in who.roles and who.merchant_id == store.merchant_id and who.store_id in (None, store.store_id)
    if may:
        policy.may_sell_at(who, store)
    else:
        with pytest.raises(Forbidden):
            policy.may_sell_at(who, store)


@given(STAFF, STORES)
def test_a_till_refunds_any_purchase_of_its_merchant_whichever_store_sold_it(who, store):
    may = Role.CASHIER in who.roles and who.merchant_id == store.merchant_id
    if may:
        policy.may_refund(who, store.merchant_id, store.store_id)
    else:
        with pytest.raises(Forbidden):
            policy.may_refund(who, store.merchant_id, store.store_id)


@given(st.none() | MERCHANTS, STORES)
def test_an_admin_acts_for_every_merchant_with_or_without_a_claim(merchant, store):
    admin = Identity("admin", frozenset({Role.ADMIN}), merchant)
    assert policy.acting_for(admin) is None
    policy.may_sell_at(admin, store)
    policy.may_refund(admin, store.merchant_id, store.store_id)
    policy.may_look_up_members(admin)
    assert len(policy.seen(admin, lambda: [Owned(store.merchant_id), Owned(None)])) == 2
    assert policy.merchant_for(admin, merchant, "offer") == merchant
