"""The key design is written beside the models and in infra/: both name every table and catalog kind."""

import re
from pathlib import Path

import chalicelib.store
from chalicelib.config import settings
from chalicelib.store import catalog, tables

INFRA_README = Path(__file__).resolve().parents[2] / "infra" / "README.md"


def table_names() -> set[str]:
    prefix = settings().table_prefix
    return {model.Meta.table_name.removeprefix(prefix) for model in tables.declared()}


def test_infra_readme_lists_every_table_and_says_how_many():
    row = next(line for line in INFRA_README.read_text().splitlines() if line.startswith("| `LOYALTY_TABLE_PREFIX`"))
    assert set(re.findall(r"`([a-z_]+)`", row.split("|")[3])) == table_names()
    assert f"the {len(table_names())} table names" in row


def test_the_stores_key_design_names_every_table():
    for name in table_names():
        assert f"``{name}``" in chalicelib.store.__doc__


def test_the_stores_key_design_names_every_catalog_kind():
    for item in catalog.CatalogItem.__subclasses__():
        kind = catalog.CatalogItem.kind.get_discriminator(item)
        assert f"``{kind}/" in chalicelib.store.__doc__, kind
