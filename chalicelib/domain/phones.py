"""Phone numbers in E.164, read the way people type or say them in the program's region."""

from __future__ import annotations

import phonenumbers


class InvalidPhone(ValueError):
    pass


def normalise_phone(raw: str, default_region: str) -> str:
    """``+4915123456789`` for ``0151 234 56789`` in region DE; raises :class:`InvalidPhone`."""
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(raw: str) -> bool:
    """True for anything a person might say as a phone number (digits, spaces, +, -, ())."""
    stripped = raw.strip()
    return bool(stripped) and all(c.isdigit() or c in " +-()/." for c in stripped)
