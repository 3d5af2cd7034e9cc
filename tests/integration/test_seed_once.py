"""Restarting the local stack on the same data directory never re-creates what someone deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING

import requests

from scripts.token import mint

if TYPE_CHECKING:
    from .conftest import LocalStack

TIMEOUT_S = 10.0
LEAVER = "alice"
BEACON = "b_mitte_door"


def test_a_member_who_left_and_a_deleted_beacon_stay_gone_after_a_restart(running: LocalStack) -> None:
    stack = running
    member = {"Authorization": f"Bearer {mint(LEAVER, ['customer'])}"}
    admin = {"Authorization": f"Bearer {mint('demo-admin', ['admin'])}"}

    def beacon_ids() -> set[str]:
        page = requests.get(stack.url("/beacons"), headers=admin, params={"limit": 200}, timeout=TIMEOUT_S)
        assert page.status_code == 200, page.text
        return {b["beacon_id"] for b in page.json()["items"]}

    assert requests.get(stack.url("/me"), headers=member, timeout=TIMEOUT_S).status_code == 200
    assert BEACON in beacon_ids()
    assert requests.delete(stack.url("/me"), headers=member, timeout=TIMEOUT_S).status_code == 204
    assert requests.delete(stack.url(f"/beacons/{BEACON}"), headers=admin, timeout=TIMEOUT_S).status_code == 204

    stack.stop()
    stack.start()

    assert requests.get(stack.url("/me"), headers=member, timeout=TIMEOUT_S).status_code == 404
    assert BEACON not in beacon_ids()
    assert stack.log_path is not None
    assert "seed demo data: already written on" in stack.log_path.read_text(), stack.log_text()
