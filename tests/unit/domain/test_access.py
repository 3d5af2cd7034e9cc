"""The authorization table: what each role may do, by whose resource it is; nothing else."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.access import Action, Relation, may, relation
from chalicelib.domain.identity import Identity, Role

A, R = Action, Relation

#: Written out by hand, pair by pair, so that a change to the table is a change to this test too.
EXPECTED: dict[Role, set[tuple[Action, Relation]]] = {
    Role.ADMIN: set(itertools.product(Action, Relation)),
    Role.MARKETER: {(A.SEE, R.OWN), (A.SEE, R.PROGRAM_WIDE), (A.CHANGE, R.OWN)},
    Role.CASHIER: {(A.SELL_AT, R.OWN), (A.REFUND, R.OWN), (A.REFUND, R.SISTER_STORE), (A.LOOK_UP, R.PROGRAM_WIDE)},
    Role.CUSTOMER: set(),
}


@pytest.mark.parametrize(
    ("role", "action", "whose"), list(itertools.product(Role, Action, Relation)), ids=lambda v: str(v)
)
def test_the_table_allows_exactly_what_each_role_may_do(role, action, whose):
    assert may(Identity("someone", frozenset({role}), "m_kiez"), action, whose) == ((action, whose) in EXPECTED[role])


MERCHANTS = st.sampled_from(["m_kiez", "m_nordlicht"])
STORES = st.sampled_from(["s_1", "s_2"])
CALLERS = st.builds(
    lambda roles, merchant, store: Identity("someone", frozenset(roles), merchant, store),
    st.sets(st.sampled_from(list(Role))),
    st.none() | MERCHANTS,
    st.none() | STORES,
)


@given(CALLERS, st.sampled_from(list(Action)), st.none() | MERCHANTS, st.none() | STORES)
def test_nothing_outside_the_table_is_allowed(caller, action, owner, store):
    whose = relation(caller, owner, store)
    allowed = may(caller, action, whose)
    assert allowed == any((action, whose) in EXPECTED[role] for role in caller.roles)
    if allowed and Role.ADMIN not in caller.roles:
        # Whatever the table says next, a non-admin never acts for another merchant or without one,
        # and a customer never acts on a merchant's resources at all.
        assert caller.merchant_id is not None
        assert owner in (None, caller.merchant_id)
        assert caller.roles - {Role.CUSTOMER}


@given(CALLERS, st.none() | MERCHANTS, st.none() | STORES)
def test_a_store_bound_token_is_at_a_sister_store_only_of_its_own_merchant(caller, owner, store):
    whose = relation(caller, owner, store)
    if whose is Relation.SISTER_STORE:
        assert caller.merchant_id == owner and caller.store_id not in (None, store)
    if caller.merchant_id is None:
        assert whose is Relation.UNSCOPED
