"""Signed cursors: what one seals opens again, for its list and caller only, and nothing else does."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from chalicelib.domain.cursors import InvalidCursor, open_cursor, seal

SECRET = "a-secret-for-these-tests-only-0123456789"
positions = st.text(min_size=1, max_size=80)
callers = st.text(max_size=40)
listings = st.sampled_from(["ledger", "inbox", "offers", "promotions", "stores", "beacons"])


@given(positions, listings, callers)
def test_a_sealed_cursor_opens_to_its_position(position, listing, caller):
    cursor = seal(position, secret=SECRET, listing=listing, caller=caller)
    assert open_cursor(cursor, secret=SECRET, listing=listing, caller=caller) == position


@given(positions, listings, listings, callers, callers)
def test_a_cursor_opens_only_for_its_list_and_caller(position, listing, other_listing, caller, other_caller):
    assume((listing, caller) != (other_listing, other_caller))
    cursor = seal(position, secret=SECRET, listing=listing, caller=caller)
    with pytest.raises(InvalidCursor):
        open_cursor(cursor, secret=SECRET, listing=other_listing, caller=other_caller)


@given(positions, st.data())
def test_a_cursor_with_a_character_changed_is_refused(position, data):
    cursor = seal(position, secret=SECRET, listing="ledger", caller="alice")
    i = data.draw(st.integers(0, len(cursor) - 1))
    replacement = data.draw(st.characters().filter(lambda c: c != cursor[i]))
    with pytest.raises(InvalidCursor):
        open_cursor(cursor[:i] + replacement + cursor[i + 1 :], secret=SECRET, listing="ledger", caller="alice")


@given(st.text(max_size=300))
def test_any_text_not_sealed_with_the_secret_is_refused(text):
    assume(not text.startswith('"'))
    with pytest.raises(InvalidCursor):
        open_cursor(text, secret=SECRET, listing="ledger", caller="alice")


def test_a_cursor_sealed_with_another_secret_is_refused():
    cursor = seal("e_1", secret="another-secret-0123456789abcdef", listing="ledger", caller="alice")
    with pytest.raises(InvalidCursor):
        open_cursor(cursor, secret=SECRET, listing="ledger", caller="alice")


@pytest.mark.parametrize("position", ["e", "entry-000000000012.0", "msg#20261123T101500.000000Z#ab12cd34"])
def test_a_last_character_changed_within_base64s_spare_bits_is_refused(position):
    """Unpadded base64's last character carries unused bits: some changes decode to the same bytes."""
    cursor = seal(position, secret=SECRET, listing="inbox", caller="alice")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for other in alphabet.replace(cursor[-1], ""):
        with pytest.raises(InvalidCursor):
            open_cursor(cursor[:-1] + other, secret=SECRET, listing="inbox", caller="alice")
