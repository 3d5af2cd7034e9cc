"""What a role may do to a resource, by whose resource it is: one table, failing closed.

A route lets a role in (``api/http.py``); this table decides, once per resource, whether that
caller may act on this merchant's, this store's or the program's thing. A pair the table does
not list is refused, so a new action or a new role starts with nothing allowed. An admin acts for
every merchant. A customer's own things are reached through ``/v1/me`` by their ``sub`` and are
no merchant's, so no customer row is needed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from chalicelib.domain.identity import Identity, Role


class Action(StrEnum):
    #: Read one of a merchant's catalog things (an offer, a promotion).
    SEE = "see"
    #: Create, replace or end one.
    CHANGE = "change"
    #: Record a purchase at a store.
    SELL_AT = "sell_at"
    #: Refund a recorded purchase.
    REFUND = "refund"
    #: Find a member at the till (members belong to the program, not to a merchant).
    LOOK_UP = "look_up"


class Relation(StrEnum):
    """Whose the resource is, seen from the caller."""

    #: The caller's merchant's (and, for a token bound to a store, that store's).
    OWN = "own"
    #: The caller's merchant's, at another store than the one the token is bound to.
    SISTER_STORE = "sister_store"
    #: No merchant's: the program's.
    PROGRAM_WIDE = "program_wide"
    #: Another merchant's.
    OTHER_MERCHANT = "other_merchant"
    #: The caller's token names no merchant: a missing claim must never read as "every merchant".
    UNSCOPED = "unscoped"


_EVERYTHING = frozenset((action, relation) for action in Action for relation in Relation)

#: Every (action, relation) each role may do; anything absent is refused.
ALLOWED: Mapping[Role, frozenset[tuple[Action, Relation]]] = {
    Role.ADMIN: _EVERYTHING,
    Role.MARKETER: frozenset(
        {
            (Action.SEE, Relation.OWN),
            (Action.SEE, Relation.PROGRAM_WIDE),
            # A program-wide offer or promotion is the admin's to change.
            (Action.CHANGE, Relation.OWN),
        }
    ),
    Role.CASHIER: frozenset(
        {
            (Action.SELL_AT, Relation.OWN),
            (Action.REFUND, Relation.OWN),
            # Refunds follow the merchant, not the store: taking goods back at any of the
            # merchant's stores is ordinary retail practice. A sale is booked where the till is.
            (Action.REFUND, Relation.SISTER_STORE),
            (Action.LOOK_UP, Relation.PROGRAM_WIDE),
        }
    ),
}


def relation(caller: Identity, merchant_id: str | None, store_id: str | None = None) -> Relation:
    """Whose a resource owned by ``merchant_id`` (None: the program), at ``store_id``, is to ``caller``."""
    if caller.merchant_id is None:
        return Relation.UNSCOPED
    if merchant_id is None:
        return Relation.PROGRAM_WIDE
    if merchant_id != caller.merchant_id:
        return Relation.OTHER_MERCHANT
    if caller.store_id is not None and store_id is not None and store_id != caller.store_id:
        return Relation.SISTER_STORE
    return Relation.OWN


def may(caller: Identity, action: Action, whose: Relation) -> bool:
    return any((action, whose) in ALLOWED.get(role, frozenset()) for role in caller.roles)
