"""Coalition settlement: who owes whom for the points redeemed in a period.

The rule, stated once: the money value of the points redeemed in the period (at every partner's
stores) is a cost the partners share in proportion to the points each issued in the period. A
partner that honoured more than its share is owed the difference; one that honoured less owes
it. Nets sum to zero exactly (the rounding remainder goes to the largest issuer), and the
transfers settle every net with as few payments as the greedy matching finds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MerchantPeriod:
    merchant_id: str
    points_issued: int
    points_redeemed: int


@dataclass(frozen=True)
class MerchantSettlement:
    merchant_id: str
    points_issued: int
    points_redeemed: int
    redeemed_value_minor: int
    cost_share_minor: int
    #: Positive: the coalition owes this merchant; negative: it owes the coalition.
    net_minor: int


@dataclass(frozen=True)
class Transfer:
    from_merchant: str
    to_merchant: str
    amount_minor: int


def settle(periods: list[MerchantPeriod], point_value_minor: int) -> tuple[list[MerchantSettlement], list[Transfer]]:
    redeemed_value = {p.merchant_id: max(0, p.points_redeemed) * point_value_minor for p in periods}
    total_value = sum(redeemed_value.values())
    issued = {p.merchant_id: max(0, p.points_issued) for p in periods}
    total_issued = sum(issued.values())
    shares = {m: (total_value * n // total_issued if total_issued else 0) for m, n in issued.items()}
    if total_issued and periods:
        largest = max(issued, key=lambda m: (issued[m], m))
        shares[largest] += total_value - sum(shares.values())
    elif periods:
        # Nobody issued points in the period: each partner carries its own redemptions.
        shares = dict(redeemed_value)
    result = [
        MerchantSettlement(
            merchant_id=p.merchant_id,
            points_issued=p.points_issued,
            points_redeemed=p.points_redeemed,
            redeemed_value_minor=redeemed_value[p.merchant_id],
            cost_share_minor=shares[p.merchant_id],
            net_minor=redeemed_value[p.merchant_id] - shares[p.merchant_id],
        )
        for p in periods
    ]
    return result, _transfers({s.merchant_id: s.net_minor for s in result})


def _transfers(nets: dict[str, int]) -> list[Transfer]:
    owed = sorted(((m, n) for m, n in nets.items() if n > 0), key=lambda p: (-p[1], p[0]))
    owing = sorted(((m, -n) for m, n in nets.items() if n < 0), key=lambda p: (-p[1], p[0]))
    credit = [n for _, n in owed]
    debit = [n for _, n in owing]
    transfers = []
    i = j = 0
    while i < len(owed) and j < len(owing):
        amount = min(credit[i], debit[j])
        transfers.append(Transfer(from_merchant=owing[j][0], to_merchant=owed[i][0], amount_minor=amount))
        credit[i] -= amount
        debit[j] -= amount
        i += credit[i] == 0
        j += debit[j] == 0
    return transfers
