"""Money in integer minor units, per ISO 4217's exponent of each currency."""

from __future__ import annotations

#: Currencies whose minor unit is not a hundredth (ISO 4217); every other one has two decimals.
_EXPONENTS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


def minor_per_major(currency: str) -> int:
    """How many minor units make one unit of ``currency`` (100 for EUR, 1 for JPY)."""
    return int(10 ** _EXPONENTS.get(currency.upper(), 2))
