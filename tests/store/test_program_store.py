"""The program's rules on DynamoDB Local: what a save writes with them, and the one-item purchase probe."""

import dataclasses
from datetime import timedelta

from chalicelib.domain.program import Tier
from chalicelib.domain.promotions import Promotion
from chalicelib.services import program
from chalicelib.store import catalog, ledger
from chalicelib.store.ledger import PurchaseModel
from scripts import seed
from tests.store.moments import tomorrow_at

NOW = tomorrow_at(12)


def test_a_tier_rename_saves_the_rules_and_the_retargeted_promotion_in_one_transaction():
    promotion = Promotion(
        "promo_gold_store", "Gold days", 200, NOW - timedelta(days=1), NOW + timedelta(days=1), tiers=("Gold",)
    )
    catalog.put(promotion)
    current = catalog.program_rules()
    assert current is not None
    renamed = dataclasses.replace(
        current, tiers=(*current.tiers[:2], dataclasses.replace(current.tiers[2], name="Platinum"))
    )
    saved = program.save(renamed, current.version, clock=lambda: NOW, tier_migrations={"Gold": "Platinum"})
    assert saved.tier_migrations == {"Gold": "Platinum"}
    assert catalog.get(Promotion, "promo_gold_store").tiers == ("Platinum",)
    assert catalog.program_rules().tiers[2] == Tier(**{**vars(current.tiers[2]), "name": "Platinum"})
    # Back to the demo rules for the other tests: Platinum's members (and its promotion) go back to Gold.
    back = program.save(seed.PROGRAM, saved.version, clock=lambda: NOW, tier_migrations={"Platinum": "Gold"})
    assert back.tier_migrations == {"Platinum": "Gold"}
    assert catalog.get(Promotion, "promo_gold_store").tiers == ("Gold",)


def test_the_purchase_probe_asks_for_one_item_and_finds_a_purchase():
    for n in range(3):
        PurchaseModel(
            f"pur_probe_{n}",
            customer_id="cus_x",
            merchant_id="m_kiez",
            store_id="s_kiez_mitte",
            cashier_sub="c",
            at=NOW,
            currency="EUR",
            body={},
        ).save()
    result = PurchaseModel.scan(limit=1, page_size=1)
    assert len(list(result)) == 1
    assert result.total_count == 1
    assert ledger.any_purchase()
