"""Services that read the catalog, on the in-memory catalog: no moto, no DynamoDB."""

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain.members import Member
from chalicelib.domain.promotions import Promotion
from chalicelib.errors import Unavailable
from chalicelib.services import catalog_cache, places, program, promotions
from scripts.seed import PROGRAM, STORES
from tests.fakes import InMemoryCatalog

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
DOUBLE = Promotion(
    "promo_double", "Double", 200, NOW - timedelta(days=1), NOW + timedelta(days=1), merchant_id="m_kiez"
)


def test_a_location_inside_a_stores_fence_finds_the_store():
    with catalog_cache.replaced(InMemoryCatalog(PROGRAM, *STORES)):
        match = places.geofences().locate(13.4016, 52.5303, 15)
        assert match is not None and places.store(match.store_id).name == "Kiez Kaffee Mitte"


def test_a_live_promotion_applies_at_its_merchants_stores_only():
    with catalog_cache.replaced(InMemoryCatalog(PROGRAM, *STORES, DOUBLE)):
        assert promotions.live(NOW, "m_kiez", "s_kiez_mitte", "Bronze") == [DOUBLE]
        assert promotions.live(NOW, "m_nordlicht", "s_nordlicht_alex", "Bronze") == []


def test_a_member_holding_a_renamed_tier_is_read_as_the_tier_it_became():
    renamed = dataclasses.replace(
        PROGRAM,
        tiers=(dataclasses.replace(PROGRAM.tiers[0], name="Copper"), *PROGRAM.tiers[1:]),
        tier_migrations={"Bronze": "Copper"},
    )
    member = Member(
        "cus_1",
        "alice",
        "Alice",
        "+4915112345678",
        date(1990, 4, 12),
        "1234",
        "REF",
        NOW,
        True,
        NOW,
        "Europe/Berlin",
        tier="Bronze",
    )
    with catalog_cache.replaced(InMemoryCatalog(renamed)):
        assert program.with_current_tier(member).tier == "Copper"


def test_no_program_yet_is_503_program_not_configured():
    with catalog_cache.replaced(InMemoryCatalog()), pytest.raises(Unavailable) as refused:
        program.rules()
    assert refused.value.code == "program_not_configured"
