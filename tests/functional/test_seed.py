"""The demo data is written once per database; a stopped run resumes without duplicating."""

from __future__ import annotations

from typing import Any
from unittest.mock import ANY

import pytest

from chalicelib.domain.catalog import Beacon
from chalicelib.domain.identity import Identity
from chalicelib.services import members
from chalicelib.store import catalog, ledger
from scripts import seed
from scripts.token import mint

from .conftest import Api

#: Three demo members are enough to show resuming; the full dozen only make the test slow.
DEMO = seed.CUSTOMERS[:3]


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch, api: Api) -> Api:
    monkeypatch.setattr(seed, "CUSTOMERS", DEMO)
    return api


class Stopped(Exception):
    """Stands for the process being killed midway."""


def is_done() -> bool:
    state = catalog.seed_state(seed.SEED_NAME)
    return state is not None and state[0] == seed.DONE


def ledger_of(sub: str) -> list[Any]:
    customer_id = members.profile(Identity(sub=sub), clock=seed.system_clock)["customer_id"]
    return ledger.entries(customer_id, 1000, None)[0]


def test_a_second_run_writes_nothing_and_never_recreates_what_was_deleted(demo: Api) -> None:
    first = seed.seed()
    assert first["members joined now"] == len(DEMO)
    assert is_done()

    leaver = DEMO[0][0]
    assert demo.call("DELETE", "/v1/me", demo.customer(leaver)).status_code == 204
    admin_token = mint("demo-admin", ["admin"])
    gone = seed.BEACONS[0].beacon_id
    assert demo.call("DELETE", f"/v1/beacons/{gone}", admin_token).status_code == 204
    kept = DEMO[1][0]
    entries_before = ledger_of(kept)

    second = seed.seed()

    assert "already written" in str(second["demo data"])
    assert demo.call("GET", "/v1/me", demo.customer(leaver)).status_code == 404
    assert gone not in {b.beacon_id for b in catalog.list_all(Beacon)}
    assert ledger_of(kept) == entries_before


def test_a_run_stopped_midway_resumes_without_duplicating(demo: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    real_history = seed._history
    calls = 0

    def stopped_during_second_history(*args: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Stopped
        return real_history(*args)

    monkeypatch.setattr(seed, "_history", stopped_during_second_history)
    with pytest.raises(Stopped):
        seed.seed()
    assert catalog.seed_state(seed.SEED_NAME) == (seed.STARTED, ANY), "done is written last"
    first_member = DEMO[0][0]
    entries_first = ledger_of(first_member)
    monkeypatch.setattr(seed, "_history", real_history)

    resumed = seed.seed()

    assert resumed["members joined now"] == len(DEMO) - 2  # the first two had joined before the stop
    assert is_done()
    assert ledger_of(first_member) == entries_first
    for sub, *_ in DEMO:
        assert demo.call("GET", "/v1/me", demo.customer(sub)).status_code == 200
    assert "already written" in str(seed.seed()["demo data"])


def test_a_database_seeded_before_the_marker_existed_is_not_seeded_again(demo: Api) -> None:
    """Demo members but no marker: an earlier version wrote the demo data, and the demo members
    missing since then left; they must not come back."""
    stayed = DEMO[1]
    demo.join(stayed[0], phone=stayed[2])

    result = seed.seed()

    assert "earlier version" in str(result["demo data"])
    assert is_done()
    for sub, *_ in (DEMO[0], DEMO[2]):
        assert demo.call("GET", "/v1/me", demo.customer(sub)).status_code == 404


def test_the_marketing_demo_is_written_once_and_a_retired_segment_stays_retired(demo: Api) -> None:
    marketer = mint("demo-marketer", ["marketer"], "m_kiez")
    assert seed.seed()["marketing"] == "2 segments, 1 draft campaign"
    segments = demo.call("GET", "/v1/segments", marketer).json_body["items"]
    assert {s["name"] for s in segments} == {"Regulars", "Drifting away"}
    spring = demo.call("GET", "/v1/campaigns/cmp_demo_spring", marketer).json_body
    assert spring["status"] == "draft" and spring["segment_id"] == "seg_demo_regulars"
    assert demo.call("DELETE", "/v1/segments/seg_demo_regulars", marketer).status_code == 204
    assert demo.call("DELETE", "/v1/campaigns/cmp_demo_spring", marketer).status_code == 204
    assert seed.seed()["marketing"] == "already written"
    assert demo.call("GET", "/v1/segments/seg_demo_regulars", marketer).json_body["status"] == "ended"
    assert demo.call("GET", "/v1/campaigns/cmp_demo_spring", marketer).json_body["status"] == "cancelled"
