"""Whose things a staff member may see and change, and where a till may sell.

An admin acts for every merchant. Any other staff token acts for the merchant its
``merchant_id`` claim names, and one without that claim is refused: a missing claim must never
read as "every merchant". A marketer sees their merchant's things and the program-wide ones,
and changes only their merchant's. A cashier sells at their merchant's stores, and only at the
store of their ``store_id`` claim when the token has one."""

from __future__ import annotations

from typing import Protocol, TypeVar

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


def unrestricted(identity: Identity) -> bool:
    return acting_for(identity) is None


def may_see(identity: Identity, thing: MerchantOwned) -> bool:
    merchant = acting_for(identity)
    return merchant is None or thing.merchant_id in (None, merchant)


def merchant_for(identity: Identity, requested: str | None, what: str) -> str | None:
    """The merchant a new or changed thing belongs to: the marketer's own unless they may choose."""
    merchant = acting_for(identity)
    if merchant is None:
        return requested
    if requested is not None and requested != merchant:
        raise Forbidden(f"you can run {what}s only for your merchant", code="wrong_merchant")
    return merchant


def visible(identity: Identity, cls: type[T], key: str, what: str) -> T:
    acting_for(identity)  # an unscoped token is refused before anything is looked up
    found = catalog.get(cls, key)
    if found is None or not may_see(identity, found):
        raise NotFound(f"no such {what}", code=f"{what}_not_found")
    return found


def owned(identity: Identity, cls: type[T], key: str, what: str) -> T:
    found = visible(identity, cls, key, what)
    if not unrestricted(identity) and found.merchant_id is None:
        raise Forbidden(f"a program-wide {what} is the admin's to change", code="program_wide")
    return found


def may_sell_at(identity: Identity, store: Store) -> None:
    """A purchase is recorded for the store the till stands in: the cashier's merchant's, and the
    one their token is bound to if it names a store (a till cannot book sales for a sister store)."""
    merchant = acting_for(identity)
    if merchant is None:
        return
    if store.merchant_id != merchant:
        raise Forbidden(
            "you can record purchases only at your merchant's stores", code="wrong_merchant", field="store_id"
        )
    if identity.store_id is not None and store.store_id != identity.store_id:
        raise Forbidden("you can record purchases only at your own store", code="wrong_store", field="store_id")


def may_refund(identity: Identity, merchant_id: str) -> None:
    """Refunds follow the merchant, not the store: taking goods back at any of the merchant's
    stores is ordinary retail practice."""
    merchant = acting_for(identity)
    if merchant is not None and merchant_id != merchant:
        raise Forbidden("you can refund only your merchant's purchases", code="wrong_merchant")
