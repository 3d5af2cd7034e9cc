"""The catalog cache over HTTP: a change written by another warm Lambda is served on this one's
next request (not after a time-to-live), and nothing is cleared by hand."""

import dataclasses
from contextlib import contextmanager

from pydantic import TypeAdapter
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from chalicelib.domain.catalog import Store
from chalicelib.domain.program import ProgramRules
from chalicelib.store import catalog
from chalicelib.store.catalog import VERSION_KEY, CatalogVersionItem, ProgramItem, StoreItem
from scripts.seed import PROGRAM
from scripts.token import mint

ADMIN = mint("demo-admin", ["admin"])
POPUP = Store("s_popup", "m_kiez", "Pop-up", geofence={"center": [13.39, 52.52], "radius_m": 50})


def written_by_another_lambda(item: StoreItem | ProgramItem) -> None:
    """What another process's write leaves in the table: the item and a moved version."""
    item.save()
    CatalogVersionItem(*VERSION_KEY).update(actions=[CatalogVersionItem.counter.add(1)])


def store_ids(api) -> list[str]:
    return [s["store_id"] for s in api.call("GET", "/v1/stores?limit=50", ADMIN).json_body["items"]]


def test_a_store_another_lambda_adds_is_served_on_the_next_request(api):
    assert "s_popup" not in store_ids(api)
    written_by_another_lambda(StoreItem("store", POPUP.store_id, body=dataclasses.asdict(POPUP)))
    assert "s_popup" in store_ids(api)
    # ... and the geofence index is rebuilt with it.
    api.join("alice")
    sighting = {"type": "geo", "lon": 13.39, "lat": 52.52, "accuracy_m": 10}
    assert api.call("POST", "/v1/me/checkins", api.customer("alice"), sighting).json_body["store_id"] == "s_popup"


def test_rules_another_lambda_saves_apply_to_the_next_request(api):
    token = api.customer("alice")
    api.join("alice")
    assert api.call("GET", "/v1/me", token).json_body["tier"] == "Bronze"
    renamed = dataclasses.replace(
        PROGRAM, version=2, tiers=(dataclasses.replace(PROGRAM.tiers[0], name="Copper"), *PROGRAM.tiers[1:])
    )
    renamed = dataclasses.replace(renamed, tier_migrations={"Bronze": "Copper"})
    body = TypeAdapter(ProgramRules).dump_python(renamed, mode="json")
    written_by_another_lambda(ProgramItem("program", "current", body=body, version=2))
    assert api.call("GET", "/v1/me", token).json_body["tier"] == "Copper"


def lost_race(items: int) -> TransactWriteError:
    """DynamoDB's answer to a transaction that met another one on an item (here, the version)."""
    reasons = [None] * (items - 1) + [CancellationReason(code="TransactionConflict")]
    response = {"Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}}
    return TransactWriteError(
        "cancelled", VerboseClientError(response, "TransactWriteItems", cancellation_reasons=reasons)
    )


def test_a_catalog_write_that_races_another_on_the_version_is_tried_again(api, monkeypatch):
    real = catalog.transaction
    raced = [lost_race(2)]

    @contextmanager
    def racing_once():
        with real() as tx:
            yield tx
            if raced:
                raise raced.pop()  # before the commit, as DynamoDB's cancellation would come

    monkeypatch.setattr(catalog, "transaction", racing_once)
    created = api.call("POST", "/v1/stores", ADMIN, {**dataclasses.asdict(POPUP), "address": None})
    assert created.status_code == 201, created.json_body
    assert raced == [] and "s_popup" in store_ids(api)
