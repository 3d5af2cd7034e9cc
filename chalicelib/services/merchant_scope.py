"""What a marketer may see and change: their merchant's things and the program-wide ones to see;
only their merchant's to change. An admin (or staff with no merchant) may do everything."""

from __future__ import annotations

from typing import Protocol, TypeVar

from chalicelib.domain.identity import Identity, Role
from chalicelib.errors import Forbidden, NotFound
from chalicelib.store import catalog


class MerchantOwned(Protocol):
    @property
    def merchant_id(self) -> str | None: ...


T = TypeVar("T", bound=MerchantOwned)


def unrestricted(identity: Identity) -> bool:
    return Role.ADMIN in identity.roles or identity.merchant_id is None


def may_see(identity: Identity, thing: MerchantOwned) -> bool:
    return unrestricted(identity) or thing.merchant_id in (None, identity.merchant_id)


def merchant_for(identity: Identity, requested: str | None, what: str) -> str | None:
    """The merchant a new or changed thing belongs to: the marketer's own unless they may choose."""
    if unrestricted(identity):
        return requested
    if requested is not None and requested != identity.merchant_id:
        raise Forbidden(f"you can run {what}s only for your merchant", code="wrong_merchant")
    return identity.merchant_id


def visible(identity: Identity, cls: type[T], key: str, what: str) -> T:
    found = catalog.get(cls, key)
    if found is None or not may_see(identity, found):
        raise NotFound(f"no such {what}", code=f"{what}_not_found")
    return found


def owned(identity: Identity, cls: type[T], key: str, what: str) -> T:
    found = visible(identity, cls, key, what)
    if not unrestricted(identity) and found.merchant_id is None:
        raise Forbidden(f"a program-wide {what} is the admin's to change", code="program_wide")
    return found
