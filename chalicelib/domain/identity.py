"""Who is calling: the verified claims of a token, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    CASHIER = "cashier"
    MARKETER = "marketer"
    ADMIN = "admin"


@dataclass(frozen=True)
class Identity:
    sub: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    merchant_id: str | None = None
    store_id: str | None = None

    def has_any(self, allowed: frozenset[Role]) -> bool:
        """Admin may do everything the other roles may (API.md's role table)."""
        return Role.ADMIN in self.roles or bool(self.roles & allowed)
