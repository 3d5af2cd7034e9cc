"""Merchants, stores, beacons and staff: the program's places and people, as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.identity import Role


@dataclass(frozen=True)
class Merchant:
    merchant_id: str
    name: str
    #: Merchants that share the program with this one (a coalition); points earned at one may
    #: be spent at the others.
    partner_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Store:
    store_id: str
    merchant_id: str
    name: str
    #: ``{"center": [lon, lat], "radius_m": r}`` or a GeoJSON Polygon.
    geofence: dict[str, Any]
    timezone: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Beacon:
    beacon_id: str
    store_id: str
    zone: str
    uuid: str | None = None
    major: int | None = None
    minor: int | None = None
    namespace: str | None = None
    instance: str | None = None
    #: Eddystone-EID: the identity key (hex; never shown), rotation exponent, and the beacon's
    #: time counter at registration with the moment of registration.
    eid_identity_key: str | None = None
    eid_rotation_exponent: int | None = None
    eid_time_counter: int | None = None
    eid_registered_at: datetime | None = None

    @property
    def identity(self) -> str:
        """The key a sighting is looked up by: the advertised identity, upper-case hex (an EID
        rotates, so EID beacons are found by resolution, not by this key)."""
        if self.uuid is not None:
            return f"ibeacon:{self.uuid.upper()}:{self.major}:{self.minor}"
        if self.namespace is not None:
            return f"eddystone-uid:{self.namespace.upper()}:{(self.instance or '').upper()}"
        return f"eddystone-eid:{self.beacon_id}"


@dataclass(frozen=True)
class StaffMember:
    """A staff account's role and limits as the admin set them (``staff/<sub>``, seeded).

    Kept for the amends that come next: a token's claims say who a cashier is, this record says
    how many points they may grant on the spot (API.md ``/v1/staff/{sub}`` and compensations)."""

    sub: str
    name: str
    role: Role
    merchant_id: str | None = None
    store_id: str | None = None
    #: Points a cashier may grant as compensation without an admin's approval, per grant...
    compensation_limit_points: int = 0
    #: ... and in one day, all their grants together (None: only the per-grant limit).
    daily_compensation_limit_points: int | None = None
