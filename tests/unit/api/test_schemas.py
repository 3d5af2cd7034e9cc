"""The Name pattern (what the OpenAPI document states) against Unicode's own categories."""

import unicodedata
from typing import Annotated

from pydantic import StringConstraints, TypeAdapter, ValidationError

from chalicelib.api.schemas.common import VISIBLE_TEXT

PATTERN = TypeAdapter(list[Annotated[str, StringConstraints(pattern=VISIBLE_TEXT)]])
REFUSED = {"Cc", "Cf", "Co", "Zl", "Zp"}


def refused_positions(chars):
    try:
        PATTERN.validate_python(chars)
    except ValidationError as exc:
        return {error["loc"][0] for error in exc.errors()}
    return set()


def test_the_pattern_refuses_every_control_format_separator_and_private_use_character():
    # The planes where characters are assigned (0-2, 14, and the ends of the private-use ones).
    # Surrogates cannot be in a Python str sent as JSON; unassigned ones are judged by pydantic's
    # (newer) Unicode tables, so only the categories that do not move between versions are checked.
    every = [
        chr(c)
        for c in (*range(0x30000), *range(0xE0000, 0xE1000), *range(0xFFF00, 0x110000))
        if not 0xD800 <= c <= 0xDFFF
    ]
    refused = refused_positions(every)
    by_category = {i for i, char in enumerate(every) if unicodedata.category(char) in REFUSED}
    assert by_category <= refused
    assigned_and_visible = {
        i for i, char in enumerate(every) if unicodedata.category(char) not in REFUSED | {"Cn", "Cs"}
    }
    assert not assigned_and_visible & refused
