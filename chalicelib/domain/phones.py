"""Phone numbers in E.164, read the way people type or say them in the program's region."""

from __future__ import annotations

from chalicelib.domain.errors import DomainRefusal


class InvalidPhone(DomainRefusal):
    default_field = "phone"
    default_code = "invalid_phone"


def normalise_phone(raw: str, default_region: str) -> str:
    """``+4915123456789`` for ``0151 234 56789`` in region DE; raises :class:`InvalidPhone`."""
    import phonenumbers  # its metadata: loaded by the requests that read a phone, not every cold start

    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_readings(raw: str, default_region: str) -> list[str]:
    """Every E.164 number a phone said at the till may mean, likeliest first: as written in the
    program's region, then, for digits said without ``+`` or a leading 0, with the first digits
    as a country code (``49 151 23456789``: tills and forms drop the ``+``). Some regions' plans
    are open enough that both readings are valid, so a lookup tries each in turn."""
    readings: list[str] = []
    for text, region in ((raw, default_region), ("+" + "".join(c for c in raw if c.isdigit()), None)):
        if region is None and raw.strip().startswith(("+", "0")):
            break
        try:
            number = normalise_phone(text, region or default_region)
        except InvalidPhone:
            continue
        if number not in readings:
            readings.append(number)
    return readings


def looks_like_phone(raw: str) -> bool:
    """True for anything a person might say as a phone number (digits, spaces, +, -, ())."""
    stripped = raw.strip()
    return bool(stripped) and all(c.isdigit() or c in " +-()/." for c in stripped)
