"""Points are money, at the store level on DynamoDB Local: random purchases, redemptions,
refunds, expiry, replays of the same key and crashes around the commit; the balance always
equals the ledger, never goes below zero, and nothing is applied twice."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from chalicelib.domain.errors import DomainRefusal
from chalicelib.domain.identity import Identity, Role
from chalicelib.errors import LoyaltyError, from_refusal
from chalicelib.jobs import expire_points
from chalicelib.services import members, purchases, refunds
from chalicelib.store import ledger
from chalicelib.store import members as member_store
from tests.store.moments import tomorrow_at

CASHIER = Identity("demo-cashier-mitte", frozenset({Role.CASHIER}), merchant_id="m_kiez")
START = tomorrow_at(10)


class Crash(Exception):
    """A Lambda that dies around its commit: before it (nothing written) or after (all written)."""


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def join(self) -> None:
        self.now = START
        self.sub = f"machine-{uuid.uuid4().hex[:12]}"
        phone = f"0151 7{uuid.uuid4().int % 10**7:07d}"
        request = members.Join(name="Machine", phone=phone, birthday=date(1990, 1, 1), marketing_consent=True)
        joined = members.join(Identity(self.sub, frozenset({Role.CUSTOMER})), request, clock=self.clock)
        self.customer_id = joined["customer_id"]
        self.done: list[tuple[str, str, Any, dict[str, Any]]] = []  # (kind, key, request, first answer)
        self.purchases: list[str] = []

    def clock(self) -> datetime:
        return self.now

    def member(self) -> Any:
        member = member_store.get_member(self.sub)
        assert member is not None
        return member

    def _call(self, kind: str, key: str, request: Any, target: str | None = None) -> dict[str, Any] | None:
        try:
            if kind == "purchase":
                outcome = purchases.record(CASHIER, request, key, clock=self.clock, sleep=lambda s: None)
            else:
                outcome = refunds.refund(CASHIER, target or "", request, key, clock=self.clock, sleep=lambda s: None)
        except (LoyaltyError, DomainRefusal) as exc:
            error = from_refusal(exc) if isinstance(exc, DomainRefusal) else exc
            assert error.status < 500  # any refusal must be a 4xx, whichever it is
            return None
        return outcome.body

    @rule(amount=st.integers(100, 60_000), redeem=st.integers(0, 400), crash=st.sampled_from([None, "before", "after"]))
    def purchase(self, amount: int, redeem: int, crash: str | None) -> None:
        request = purchases.RecordPurchase(
            customer_id=self.customer_id, store_id="s_kiez_mitte", amount=amount, currency="EUR", redeem_points=redeem
        )
        key = str(uuid.uuid4())
        before = self.member().points_balance
        if crash is not None:
            self._crash(crash, lambda: self._call("purchase", key, request))
        answer = self._call("purchase", key, request)
        if answer is None:
            assert self.member().points_balance == before
            return
        assert answer["points_redeemed"] == redeem
        self.done.append(("purchase", key, request, answer))
        self.purchases.append(answer["purchase_id"])
        self.now += timedelta(hours=5)

    @precondition(lambda self: self.purchases)
    @rule(data=st.data(), share=st.sampled_from([None, 1, 3]), crash=st.sampled_from([None, "after"]))
    def refund(self, data: st.DataObject, share: int | None, crash: str | None) -> None:
        purchase_id = data.draw(st.sampled_from(self.purchases))
        found = ledger.get_purchase(purchase_id)
        assert found is not None
        record, _ = found
        left = record.amount - record.refunded_amount
        if left <= 0:
            return
        request = refunds.RefundPurchase(amount=max(1, left // share) if share else None)
        key = str(uuid.uuid4())
        if crash is not None:
            self._crash(crash, lambda: self._call("refund", key, request, purchase_id))
        answer = self._call("refund", key, request, purchase_id)
        if answer is not None:
            self.done.append(("refund", key, (request, purchase_id), answer))

    @precondition(lambda self: self.done)
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        kind, key, request, first = data.draw(st.sampled_from(self.done))
        before = self.member().points_balance
        if kind == "purchase":
            again = self._call("purchase", key, request)
        else:
            again = self._call("refund", key, request[0], request[1])
        assert again == first
        assert self.member().points_balance == before

    @rule(days=st.integers(1, 900))
    def time_passes_and_points_expire(self, days: int) -> None:
        self.now += timedelta(days=days)
        expire_points.run(self.now)

    def _crash(self, when: str, call: Any) -> None:
        real = ledger.apply

        def crashing(change: ledger.MemberChange) -> None:
            if when == "after":
                real(change)
            raise Crash(when)

        ledger.apply = crashing
        try:
            call()
        except Crash:
            pass
        finally:
            ledger.apply = real

    @invariant()
    def balance_is_the_ledger_and_never_negative(self) -> None:
        if not hasattr(self, "sub"):
            return
        member = self.member()
        entries, cursor = [], None
        while True:
            page, cursor = ledger.entries(self.customer_id, 200, cursor)
            entries += page
            if cursor is None:
                break
        assert member.points_balance >= 0 and member.points_debt >= 0
        assert member.points_balance == sum(e.points for e in entries)
        assert member.points_balance == sum(n for _, n in member.lots)
        if entries:
            assert entries[0].balance_after == member.points_balance


LedgerMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=20, deadline=None, suppress_health_check=list(HealthCheck)
)
TestLedgerMachine = LedgerMachine.TestCase
