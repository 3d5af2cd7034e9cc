from hypothesis import given
from hypothesis import strategies as st

from chalicelib.push import MAX_PAYLOAD_BYTES, Push
from chalicelib.push.payload import fits, payload_bytes


def test_the_limit_counts_bytes_not_characters() -> None:
    ascii_push = Push("t", "android", "Hi", "a" * 1000)
    umlaut_push = Push("t", "android", "Hi", "ä" * 1000)
    assert payload_bytes(umlaut_push) > payload_bytes(ascii_push) + 900


@given(st.text(max_size=3000), st.dictionaries(st.text(max_size=20), st.text(max_size=200), max_size=5))
def test_fits_is_the_limit(body: str, data: dict[str, str]) -> None:
    push = Push("t", "ios", "Title", body, data)
    assert fits(push) == (payload_bytes(push) <= MAX_PAYLOAD_BYTES)
