"""The catalog cache on an in-memory catalog: one version read per request, every change seen on
the next request (this process's at once), nothing for a writer to forget."""

import dataclasses
from contextlib import ExitStack

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.catalog import Store
from chalicelib.domain.offers import Offer, Trigger
from chalicelib.services.catalog_cache import CatalogCache, one_reading, replaced, seen
from chalicelib.store.catalog import CatalogVersion
from scripts.seed import PROGRAM, STORES
from tests.fakes import InMemoryCatalog

COOKIE = Offer("offer_cookie", "A cookie", Trigger("checkin"), {"type": "free_item", "sku": "cookie"})
POPUP = Store("s_popup", "m_kiez", "Pop-up", geofence={"center": [13.0, 52.0], "radius_m": 50})


def seeded() -> tuple[InMemoryCatalog, CatalogCache]:
    source = InMemoryCatalog(PROGRAM)
    for thing in (*STORES, COOKIE):
        source.write(thing)
    return source, CatalogCache(source, counts_ttl_s=lambda: 3600)


def test_a_request_reads_the_version_once_and_each_kind_once():
    source, cache = seeded()
    with one_reading():
        for _ in range(3):
            assert cache.program() == PROGRAM
            assert "s_kiez_mitte" in cache.stores().by_id
            assert [o.offer_id for o in cache.offers()] == ["offer_cookie"]
    assert source.reads == {"version": 1, "program": 1, "Store": 1, "Offer": 1, "issued_counts": 1}


def test_later_requests_cost_one_version_read_while_nothing_changes():
    source, cache = seeded()
    for _ in range(5):
        with one_reading():
            cache.program(), cache.stores(), cache.offers()
    assert source.reads["version"] == 5
    assert source.reads["program"] == source.reads["Store"] == source.reads["Offer"] == 1


def test_another_lambdas_write_is_seen_on_the_next_request():
    source, cache = seeded()
    with one_reading():
        assert "s_popup" not in cache.stores().by_id
    source.written_elsewhere(POPUP)
    with one_reading():
        assert "s_popup" in cache.stores().by_id
        assert cache.stores().geofences.locate(13.0, 52.0, 10) is not None


def test_this_processs_write_is_seen_within_the_same_request():
    source, cache = seeded()
    with one_reading():
        assert "s_popup" not in cache.stores().by_id
        source.write(POPUP)
        assert "s_popup" in cache.stores().by_id
    assert source.reads["version"] == 2


def test_a_changed_definition_replaces_the_cached_one():
    source, cache = seeded()
    with one_reading():
        assert cache.offers()[0].status == "active"
    source.written_elsewhere(dataclasses.replace(COOKIE, status="ended"))
    with one_reading():
        assert cache.offers()[0].status == "ended"


def test_issued_counts_refresh_after_their_time_to_live_without_reloading_definitions():
    source = InMemoryCatalog(PROGRAM)
    source.write(COOKIE)
    ttl = [3600.0]
    cache = CatalogCache(source, counts_ttl_s=lambda: ttl[0])
    assert cache.offers()[0].issued == 0
    source.counts["offer_cookie"] = 3  # an issue is not a catalog write: the version stays
    assert cache.offers()[0].issued == 0
    ttl[0] = 0
    assert cache.offers()[0].issued == 3
    assert source.reads["Offer"] == 1


def test_outside_a_request_every_read_validates():
    source, cache = seeded()
    cache.program()
    cache.program()
    assert source.reads["version"] == 2 and source.reads["program"] == 1


def test_an_empty_catalog_is_never_cached():
    source = InMemoryCatalog()
    cache = CatalogCache(source)
    assert cache.program() is None
    source.program_rules = PROGRAM  # a database filled without a version (none yet)
    assert cache.program() == PROGRAM


STEPS = st.lists(
    st.tuples(st.sampled_from(["new_request", "write_here", "write_elsewhere", "read"]), st.integers(0, 3)),
    max_size=40,
)


@given(STEPS)
def test_a_read_never_misses_a_write_made_before_its_request_or_by_this_process(steps):
    """Whatever the order of writes (here or in another Lambda) and requests, a read returns every
    store written here so far and every store written elsewhere before the request began."""
    source = InMemoryCatalog(PROGRAM)
    cache = CatalogCache(source, counts_ttl_s=lambda: 3600)
    written: set[str] = set()
    must_see: set[str] = set()
    with ExitStack() as request:
        request.enter_context(one_reading())
        for action, n in steps:
            store = dataclasses.replace(POPUP, store_id=f"s_{n}_{len(written)}")
            if action == "new_request":
                request.close()
                request.enter_context(one_reading())
                must_see = set(written)
            elif action == "write_here":
                source.write(store)
                written.add(store.store_id)
                must_see.add(store.store_id)
            elif action == "write_elsewhere":
                source.written_elsewhere(store)
                written.add(store.store_id)
            else:
                seen = set(cache.stores().by_id)
                assert must_see <= seen <= written


def test_the_beacon_list_is_the_same_object_until_a_write_so_the_eid_table_is_built_once():
    """geo.beacons.directory_of keys its directory (and the EID resolver's table) on the list object."""
    source, cache = seeded()
    with one_reading():
        first = cache.beacons()
    with one_reading():
        assert cache.beacons() is first
    source.write(POPUP)
    with one_reading():
        assert cache.beacons() is not first


def test_a_version_read_elsewhere_validates_only_a_cache_of_the_store_it_was_read_from():
    """``seen`` primes the request's validation with a version the member's read brought from
    DynamoDB; a cache reading another source (a fake here) must still read its own version."""
    source = InMemoryCatalog(PROGRAM)
    source.write(COOKIE)
    with replaced(source) as cache, one_reading():
        seen(CatalogVersion("another-database", 99))
        assert [o.offer_id for o in cache.offers()] == ["offer_cookie"]
    assert source.reads["version"] == 1


def test_the_held_program_is_whatever_this_process_loaded_without_a_read():
    source, cache = seeded()
    assert cache.held_program() is None
    with one_reading():
        cache.program()
    reads = dict(source.reads)
    assert cache.held_program() == PROGRAM and source.reads == reads
