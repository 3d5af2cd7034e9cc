"""One cache of the catalog per warm Lambda: program, stores (with their geofence index), beacons,
offers and promotions, validated by the catalog's version.

Every write of a definition bumps the version in its own transaction (``store.catalog``), so a
reader needs no time-to-live and a writer has nothing to forget: the first read of the catalog in
a request (or a job) costs one strongly consistent GetItem of the version item, the rest of the
request reads memory, and a kind is loaded again only after the version moved. Another warm
Lambda's write is therefore seen on the next request, and a write of this process at once.

The issued counts of offers are not definitions (they change with every issue, and bumping the
version for them would empty every cache at the rate offers are issued): they are refreshed
after ``settings().program_cache_ttl_s``. A stale count is safe, the budget's truth is the
issuing transaction's condition.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

from chalicelib.config import settings
from chalicelib.domain.catalog import Beacon, Store
from chalicelib.domain.offers import Offer
from chalicelib.domain.program import ProgramRules
from chalicelib.domain.promotions import Promotion
from chalicelib.geo.fences import GeofenceIndex, fence_from_geojson
from chalicelib.store.catalog import CatalogVersion, StoredCatalog

T = TypeVar("T")


class CatalogSource(Protocol):
    """What the cache reads (``store.catalog.StoredCatalog`` on DynamoDB, a fake in unit tests)."""

    def version(self) -> CatalogVersion | None: ...

    def local_writes(self) -> int:
        """A number that moves whenever this process writes a definition."""
        ...

    def program(self) -> ProgramRules | None: ...

    def stores(self) -> list[Store]: ...

    def beacons(self) -> list[Beacon]: ...

    def offers(self) -> list[Offer]: ...

    def issued_counts(self) -> dict[str, int]: ...

    def promotions(self) -> list[Promotion]: ...


@dataclasses.dataclass(frozen=True)
class Stores:
    by_id: dict[str, Store]
    geofences: GeofenceIndex


class _Validated:
    """The version a request (or job) has seen, and this process's writes at that moment."""

    def __init__(self) -> None:
        self.seen: tuple[CatalogVersion | None, int] | None = None


_request: ContextVar[_Validated | None] = ContextVar("catalog_request", default=None)


class CatalogCache:
    def __init__(self, source: CatalogSource, *, counts_ttl_s: Callable[[], float] | None = None) -> None:
        self.source = source
        self._counts_ttl_s = counts_ttl_s or (lambda: settings().program_cache_ttl_s)
        self._lock = threading.Lock()
        self._version: CatalogVersion | None = None
        self._parts: dict[str, Any] = {}

    def program(self) -> ProgramRules | None:
        return self._part("program", self.source.program)

    def held_program(self) -> ProgramRules | None:
        """The program this process holds, without validating it (a guess to be checked against
        the version later in the request: see ``services.cards``)."""
        with self._lock:
            held: ProgramRules | None = self._parts.get("program")
            return held

    def stores(self) -> Stores:
        def load() -> Stores:
            by_id = {s.store_id: s for s in self.source.stores()}
            return Stores(by_id, GeofenceIndex(fence_from_geojson(s.store_id, s.geofence) for s in by_id.values()))

        return self._part("stores", load)

    def beacons(self) -> list[Beacon]:
        return self._part("beacons", self.source.beacons)

    def promotions(self) -> list[Promotion]:
        return self._part("promotions", self.source.promotions)

    def offers(self) -> list[Offer]:
        """Every offer, with an issued count read with the definitions and again after ``counts_ttl_s``."""
        definitions = self._part("offers", self.source.offers)
        read_at, counts = self._part("issued_counts", self._read_counts)
        if time.monotonic() - read_at >= self._counts_ttl_s():
            with self._lock:
                read_at, counts = self._parts["issued_counts"] = self._read_counts()
        return [dataclasses.replace(o, issued=counts.get(o.offer_id, 0)) for o in definitions]

    def _read_counts(self) -> tuple[float, dict[str, int]]:
        return time.monotonic(), self.source.issued_counts()

    def _part(self, name: str, load: Callable[[], T]) -> T:
        version = self._current_version()
        with self._lock:
            if version is None or version != self._version:
                # Before the first write there is no version to tell one database from another.
                self._version, self._parts = version, {}
            if name not in self._parts:
                self._parts[name] = load()
            found: T = self._parts[name]
            return found

    def _current_version(self) -> CatalogVersion | None:
        validated = _request.get()
        writes = self.source.local_writes()
        if validated is not None and validated.seen is not None and validated.seen[1] == writes:
            return validated.seen[0]
        version = self.source.version()
        if validated is not None:
            validated.seen = (version, writes)
        return version


def seen(version: CatalogVersion | None) -> None:
    """The request read the catalog's version itself (with the member, in one request): the
    cache takes it as this request's validation instead of reading it again. Only a version read
    from the store the cache reads counts, and only within :func:`one_reading`; a version the
    request already validated stays (the first read of a request is the one it keeps)."""
    validated = _request.get()
    source = _cache.source
    if validated is None or validated.seen is not None or not isinstance(source, StoredCatalog):
        return
    validated.seen = (version, source.local_writes())


@contextmanager
def one_reading() -> Iterator[None]:
    """Within: the catalog's version is read once (again only after this process wrote to the
    catalog). Each request and each job runs in one; outside one, every read validates."""
    token = _request.set(_Validated())
    try:
        yield
    finally:
        _request.reset(token)


_cache = CatalogCache(StoredCatalog())


def cache() -> CatalogCache:
    """The process's cache (one per warm Lambda)."""
    return _cache


@contextmanager
def replaced(source: CatalogSource) -> Iterator[CatalogCache]:
    """Within: the services read the catalog from ``source`` (a fake in unit tests)."""
    global _cache
    previous, _cache = _cache, CatalogCache(source)
    try:
        yield _cache
    finally:
        _cache = previous
