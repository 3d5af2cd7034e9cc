"""The currencies a program may keep its money in: ISO 4217's active codes.

Source: ISO 4217 Table A.1 ("List One", current currency and funds codes), as published by the
maintenance agency (SIX Group), with the amendments up to 2025: HRK, SLL, ZWL, CUC and ANG
withdrawn; ZWG, XCG and XAD added. Left out are the List One codes whose minor unit is "N.A."
(gold, silver, platinum, palladium, the SDR, the bond-market and other units of account, XTS for
testing and XXX for no currency): money here is an integer of minor units, so a code without
them cannot be a program's currency.

Kept as data rather than a dependency: it is 166 codes that change a few times a year, and the
packages that carry it either bring all of ISO 3166/639/15924 with their translations
(pycountry, about 10 MB unpacked, a tenth of a Lambda package's limit) or would be one more
thing to pin for one set. When ISO amends the list, change it here with the amendment's date.
"""

from __future__ import annotations

_LIST_ONE_WITH_MINOR_UNITS = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL
    BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF
    DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG
    HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK
    LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN
    NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
    TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAD XAF XCD XCG
    XOF XPF YER ZAR ZMW ZWG
"""
ACTIVE_CURRENCIES = frozenset(_LIST_ONE_WITH_MINOR_UNITS.split())


def is_active_currency(code: str) -> bool:
    return code in ACTIVE_CURRENCIES
