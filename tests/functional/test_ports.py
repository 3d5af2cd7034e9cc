"""Time and ids are the process's ports: a test moves the one clock every route and job reads,
and names what is created, through ``chalicelib.ports`` alone (no module patched)."""

import itertools
import uuid
from datetime import timedelta

from chalicelib import ports
from scripts.token import mint

ADMIN = mint("demo-admin", ["admin"])
MARKETER = mint("demo-marketer", ["marketer"], "m_kiez")


def test_points_lapse_when_the_clock_moves_past_their_expiry_and_the_job_runs_as_of_now(api, clock):
    card = api.join("alice").json_body["card_number"]
    body = {"card": card, "store_id": "s_kiez_mitte", "amount": 20_000, "currency": "EUR"}
    bought = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert bought.json_body["points_earned"] > 0
    clock.now += timedelta(days=25 * 31)  # past the end of the month 24 months on, within the first run's lookback
    result = api.call("POST", "/v1/jobs/expire_points/run", ADMIN, {}).json_body["result"]
    assert result["points_expired"] == bought.json_body["points_earned"]
    assert api.call("GET", "/v1/me", api.customer("alice")).json_body["points_balance"] == 0


def test_a_promotion_ends_when_the_clock_passes_its_end(api, clock):
    start = clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (clock.now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"name": "Double", "multiplier_percent": 200, "valid_from": start, "valid_to": end}
    promotion = api.call("POST", "/v1/promotions", MARKETER, body).json_body
    assert promotion["state"] == "live"
    clock.now += timedelta(days=3)
    shown = api.call("GET", f"/v1/promotions/{promotion['promotion_id']}", MARKETER).json_body
    assert shown["state"] == "expired"


def test_what_is_created_is_named_by_the_id_source(api):
    numbers = itertools.count(1)
    with ports.replaced(ids=lambda prefix, hex_chars: f"{prefix}_{next(numbers):0{hex_chars}x}"):
        offer = {
            "title": "A cookie",
            "trigger": {"type": "checkin", "store_id": "s_kiez_mitte"},
            "reward": {"type": "free_item", "sku": "cookie"},
        }
        created = api.call("POST", "/v1/offers", MARKETER, offer).json_body
    assert created["offer_id"] == "offer_0000000000000001"
