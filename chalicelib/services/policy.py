"""Authorization of a caller on one resource, in one place: services call it once per resource.

The decision is ``domain.access``'s table (role x action x whose resource, failing closed); this
module finds the resource and says no the way API.md asks. Existence does not leak: another
merchant's offer is 404, not 403. A staff token that names no merchant is refused before anything
is looked up, never shown an empty list or the program-wide things alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from chalicelib.domain.access import Action, Relation, may, relation
from chalicelib.domain.catalog import Store
from chalicelib.domain.identity import Identity, Role
from chalicelib.errors import Forbidden, NotFound
from chalicelib.store import catalog


class MerchantOwned(Protocol):
    @property
    def merchant_id(self) -> str | None: ...


T = TypeVar("T", bound=MerchantOwned)


def acting_for(identity: Identity) -> str | None:
    """The merchant the caller acts for; None only for an admin, who acts for all of them."""
    if Role.ADMIN in identity.roles:
        return None
    if identity.merchant_id is None:
        raise Forbidden(
            "your token names no merchant: an admin must give your account a merchant_id",
            code="no_merchant_scope",
        )
    return identity.merchant_id


def visible(identity: Identity, cls: type[T], key: str, what: str) -> T:
    """The ``what`` called ``key``, if the caller may see it; 404 if not (as if there were none)."""
    acting_for(identity)
    found = catalog.get(cls, key)
    if found is None or not may(identity, Action.SEE, relation(identity, found.merchant_id)):
        raise NotFound(f"no such {what}", code=f"{what}_not_found")
    return found


def owned(identity: Identity, cls: type[T], key: str, what: str) -> T:
    """The ``what`` called ``key``, if the caller may change it."""
    found = visible(identity, cls, key, what)
    whose = relation(identity, found.merchant_id)
    if not may(identity, Action.CHANGE, whose):
        if whose is Relation.PROGRAM_WIDE:
            raise Forbidden(f"a program-wide {what} is the admin's to change", code="program_wide")
        raise Forbidden(f"your role may not change this {what}", code="role_forbidden")
    return found


def seen(identity: Identity, load: Callable[[], Iterable[T]]) -> list[T]:
    """The things ``load`` finds that the caller may see (a list page); nothing is loaded for a
    caller who may see none."""
    acting_for(identity)
    return [t for t in load() if may(identity, Action.SEE, relation(identity, t.merchant_id))]


def merchant_for(identity: Identity, requested: str | None, what: str) -> str | None:
    """The merchant a new or changed thing belongs to: the caller's own unless they may choose."""
    merchant = acting_for(identity)
    owner = requested if merchant is None else requested or merchant
    if not may(identity, Action.CHANGE, relation(identity, owner)):
        raise Forbidden(f"you can run {what}s only for your merchant", code="wrong_merchant")
    return owner


def may_sell_at(identity: Identity, store: Store) -> None:
    """A purchase is recorded for the store the till stands in: the cashier's merchant's, and the
    one their token is bound to if it names a store (a till cannot book sales for a sister store)."""
    acting_for(identity)
    whose = relation(identity, store.merchant_id, store.store_id)
    if may(identity, Action.SELL_AT, whose):
        return
    if whose is Relation.SISTER_STORE:
        raise Forbidden("you can record purchases only at your own store", code="wrong_store", field="store_id")
    raise Forbidden("you can record purchases only at your merchant's stores", code="wrong_merchant", field="store_id")


def may_refund(identity: Identity, merchant_id: str, store_id: str | None) -> None:
    """``merchant_id`` and ``store_id``: where the purchase was recorded."""
    acting_for(identity)
    if not may(identity, Action.REFUND, relation(identity, merchant_id, store_id)):
        raise Forbidden("you can refund only your merchant's purchases", code="wrong_merchant")


def may_look_up_members(identity: Identity) -> None:
    """Members belong to the program, so any store of any merchant may find one at the till;
    called before any card is read, so an unscoped token learns nothing about who holds it."""
    acting_for(identity)
    if not may(identity, Action.LOOK_UP, relation(identity, None)):
        raise Forbidden("your role may not look up members", code="role_forbidden")
