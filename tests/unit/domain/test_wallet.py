from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.offers import ALREADY_REDEEMED, EXPIRED, WRONG_MERCHANT, Offer, Trigger
from chalicelib.domain.wallet import (
    WALLET_OFFER_DAYS,
    WalletOffer,
    history_of,
    redeemable,
    status_at,
    wallet_entry,
    why_unusable,
)

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
COFFEE = Offer("o_coffee", "A coffee", Trigger("checkin"), {"type": "bonus_points", "points": 50})


def entry(wallet_id="o_coffee#1", issued_at=NOW, expires_at=None, status="issued", store_id="s1", merchant_id=None):
    offer_id = wallet_id.split("#")[0]
    expires_at = expires_at or issued_at + timedelta(days=WALLET_OFFER_DAYS)
    return WalletOffer(wallet_id, offer_id, "t", {}, store_id, issued_at, expires_at, status, merchant_id=merchant_id)


def test_the_nth_issue_of_an_offer_is_keyed_n_so_racing_issues_meet_on_one_key():
    first = wallet_entry(COFFEE, "s1", "m1", NOW, {})
    assert first.wallet_id == "o_coffee#1"
    again = wallet_entry(COFFEE, "s2", "m2", NOW, history_of([first]))
    assert again.wallet_id == "o_coffee#2"
    assert wallet_entry(COFFEE, "s2", "m2", NOW, history_of([first])).wallet_id == again.wallet_id


def test_an_entry_lasts_a_week_or_until_its_offer_ends_and_is_redeemable_at_the_offers_merchant():
    assert wallet_entry(COFFEE, "s1", "m1", NOW, {}).expires_at == NOW + timedelta(days=WALLET_OFFER_DAYS)
    ending = Offer("o_x", "x", Trigger("checkin"), {}, merchant_id="m_partner", valid_to=NOW + timedelta(days=2))
    landed = wallet_entry(ending, "s1", "m1", NOW, {})
    assert landed.expires_at == NOW + timedelta(days=2) and landed.merchant_id == "m_partner"
    assert wallet_entry(COFFEE, "s1", "m1", NOW, {}).merchant_id == "m1"


def test_an_issued_entry_past_its_expiry_reads_expired_and_a_redeemed_one_stays_redeemed():
    held = entry(expires_at=NOW + timedelta(hours=1))
    assert status_at(held, NOW) == "issued"
    assert status_at(held, NOW + timedelta(hours=1)) == "expired"
    assert status_at(entry(status="redeemed", expires_at=NOW), NOW + timedelta(days=30)) == "redeemed"


def test_why_unusable_names_redeemed_expired_and_wrong_merchant():
    assert why_unusable(entry(status="redeemed"), "m1", "m1", NOW) == ALREADY_REDEEMED
    assert why_unusable(entry(expires_at=NOW), "m1", "m1", NOW) == EXPIRED
    assert why_unusable(entry(), "m1", "m2", NOW) == WRONG_MERCHANT
    # an entry naming its merchant is redeemable there, wherever it was issued
    assert why_unusable(entry(merchant_id="m2"), "m1", "m2", NOW) is None
    # an admin (no merchant) may redeem it anywhere
    assert why_unusable(entry(), "m1", None, NOW) is None


def test_redeemable_lists_the_soonest_to_expire_first():
    late, soon = entry("a#1", expires_at=NOW + timedelta(days=5)), entry("b#1", expires_at=NOW + timedelta(days=1))
    used = entry("c#1", status="redeemed")
    assert redeemable([late, used, soon], {"s1": "m1"}, "m1", NOW) == [soon, late]


entries = st.builds(
    entry,
    wallet_id=st.sampled_from(["a#1", "a#2", "b#1", "c#1"]),
    issued_at=st.integers(0, 30).map(lambda d: NOW - timedelta(days=d)),
    status=st.sampled_from(["issued", "redeemed"]),
    store_id=st.sampled_from(["s1", "s2", None]),
    merchant_id=st.sampled_from([None, "m1", "m2"]),
)


@given(held=st.lists(entries, max_size=12))
def test_history_counts_every_entry_and_remembers_the_latest_issue(held):
    history = history_of(held)
    assert sum(n for n, _ in history.values()) == len(held)
    for offer_id, (count, last) in history.items():
        mine = [e for e in held if e.offer_id == offer_id]
        assert count == len(mine) and last == max(e.issued_at for e in mine)


@given(held=st.lists(entries, max_size=12), till=st.sampled_from([None, "m1", "m2"]), days=st.integers(0, 10))
def test_redeemable_holds_exactly_the_usable_entries_in_expiry_order(held, till, days):
    now = NOW + timedelta(days=days)
    merchants = {"s1": "m1", "s2": "m2"}
    usable = redeemable(held, merchants, till, now)
    assert [e.expires_at for e in usable] == sorted(e.expires_at for e in usable)
    assert sorted(map(id, usable)) == sorted(
        id(e) for e in held if why_unusable(e, merchants.get(e.store_id or ""), till, now) is None
    )
    assert all(status_at(e, now) == "issued" for e in usable)
