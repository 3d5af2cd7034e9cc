"""The activity item's rules: built from an old wallet it counts like the wallet did, and its live
keys are exactly the entries a till may still find usable."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.activity import Activity, expired_ids, from_wallet, live_ids, offer_of
from chalicelib.domain.wallet import WalletOffer, history_of, purge_at, times_issued

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def entry(offer_id: str, n: int, issued_days_ago: float, status: str = "issued") -> WalletOffer:
    issued = NOW - timedelta(days=issued_days_ago)
    return WalletOffer(
        f"{offer_id}#{n}",
        offer_id,
        "t",
        {"type": "bonus_points", "points": 1},
        "s",
        issued,
        issued + timedelta(days=7),
        status,
    )


entries = st.lists(
    st.builds(
        entry,
        st.sampled_from(["off_a", "off_b", "off_c"]),
        st.integers(1, 50),
        st.floats(0, 30),
        st.sampled_from(["issued", "redeemed"]),
    ),
    max_size=30,
    unique_by=lambda e: e.wallet_id,
)


@given(entries)
def test_an_activity_built_from_an_old_wallet_counts_every_entry_as_the_wallet_did(held):
    built = from_wallet(None, held, NOW)
    assert built.history == history_of(held)


@given(entries)
def test_the_live_keys_are_every_unexpired_entry_whatever_its_status(held):
    built = from_wallet(None, held, NOW)
    assert set(live_ids(built, NOW)) == {e.wallet_id for e in held if e.expires_at > NOW}
    # A redeemed entry stays live until it expires: a full refund may give it back.
    assert {e.wallet_id for e in held if e.status == "redeemed" and e.expires_at > NOW} <= set(live_ids(built, NOW))


def test_live_keys_of_some_offers_only_and_the_expired_ones_to_drop():
    kept = Activity(
        None,
        {},
        {"off_a#1": NOW + timedelta(days=1), "off_b#2": NOW + timedelta(days=2), "off_a#0": NOW - timedelta(seconds=1)},
    )
    assert live_ids(kept, NOW, ["off_a"]) == ["off_a#1"]
    assert live_ids(kept, NOW) == ["off_a#1", "off_b#2"]
    assert expired_ids(kept, NOW) == ["off_a#0"]


def test_a_wallet_key_names_its_offer_and_its_n_even_when_the_offer_id_has_a_hash():
    assert offer_of("off#x#12") == "off#x" and times_issued("off#x#12") == 12


def test_an_entry_leaves_the_table_the_retention_after_it_expired():
    e = entry("off_a", 1, 3)
    assert purge_at(e) - e.expires_at == timedelta(days=400)
