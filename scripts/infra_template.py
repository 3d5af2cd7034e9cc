"""The CloudFormation resources Chalice does not create, written from the code that uses them:
``infra/resources.json``, merged into Chalice's own template by ``chalice package
--merge-template infra/resources.json``.

* **Tables**: one ``AWS::DynamoDB::Table`` per PynamoDB model the store declares
  (``store.tables.declared()``), with its keys, every global secondary index, its stream, its TTL
  attribute; on-demand billing, point-in-time recovery, deletion protection on ``prod``.
* **Queues**: each queue of ``chalicelib/queues.py`` with its dead-letter queue and the redrive
  policy the consumers count on (``MAX_RECEIVES``, ``VISIBILITY_TIMEOUT_S``).
* **API Gateway's own answers** in the API's error body (``infra/gateway_responses.json``).

Names are ``loyalty-<Stage>-<name>``, what ``chalicelib/config.py`` derives from ``LOYALTY_STAGE``.
The file is committed; ``--check`` (run by the tests) fails when it no longer matches the code.

    python -m scripts.infra_template            # write infra/resources.json
    python -m scripts.infra_template --check    # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

INFRA = Path(__file__).resolve().parents[1] / "infra"
TARGET = INFRA / "resources.json"
GATEWAY_RESPONSES = INFRA / "gateway_responses.json"


def _logical(name: str, suffix: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + suffix


def _keys(schema: list[dict[str, str]]) -> list[dict[str, str]]:
    """A key schema as CloudFormation wants it: the hash key first (PynamoDB may list the range first)."""
    return sorted(schema, key=lambda key: key["KeyType"] != "HASH")


def _named(short: str) -> dict[str, str]:
    return {"Fn::Sub": f"loyalty-${{Stage}}-{short}"}


def table_resources() -> dict[str, Any]:
    from pynamodb.attributes import TTLAttribute

    from chalicelib.config import settings
    from chalicelib.store import tables

    prefix = settings().table_prefix
    resources: dict[str, Any] = {}
    for model in tables.declared():
        short = model.Meta.table_name.removeprefix(prefix)
        schema = model._get_schema()  # PynamoDB's own CreateTable arguments
        properties: dict[str, Any] = {
            "TableName": _named(short),
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": sorted(schema["attribute_definitions"], key=lambda a: a["AttributeName"]),
            "KeySchema": _keys(schema["key_schema"]),
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "DeletionProtectionEnabled": {"Fn::If": ["IsProduction", True, False]},
        }
        indexes = [
            {
                "IndexName": index["index_name"],
                "KeySchema": _keys(index["key_schema"]),
                "Projection": index["projection"],
            }
            for index in sorted(schema.get("global_secondary_indexes", []), key=lambda i: i["index_name"])
        ]
        if indexes:
            properties["GlobalSecondaryIndexes"] = indexes
        stream = getattr(model.Meta, "stream_view_type", None)
        if stream:
            properties["StreamSpecification"] = {"StreamViewType": stream}
        ttl = [name for name, attribute in model.get_attributes().items() if isinstance(attribute, TTLAttribute)]
        if ttl:
            properties["TimeToLiveSpecification"] = {"AttributeName": ttl[0], "Enabled": True}
        resources[_logical(short, "Table")] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": properties,
        }
    return resources


def queue_resources() -> dict[str, Any]:
    from chalicelib import queues

    resources: dict[str, Any] = {}
    for short in queues.QUEUES:
        dead = _logical(short, "DeadLetterQueue")
        resources[dead] = {
            "Type": "AWS::SQS::Queue",
            # What failed five times waits two weeks for an admin's replay.
            "Properties": {"QueueName": _named(f"{short}-dlq"), "MessageRetentionPeriod": 1_209_600},
        }
        resources[_logical(short, "Queue")] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": _named(short),
                "VisibilityTimeout": queues.VISIBILITY_TIMEOUT_S,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [dead, "Arn"]},
                    "maxReceiveCount": queues.MAX_RECEIVES,
                },
            },
        }
    return resources


def template() -> dict[str, Any]:
    gateway = json.loads(GATEWAY_RESPONSES.read_text())["Resources"]
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Loyalty program: the tables, queues and API Gateway answers Chalice does not create "
        "(written by scripts/infra_template.py from the code; do not edit by hand)",
        "Parameters": {
            "Stage": {
                "Type": "String",
                "AllowedPattern": "^[a-z][a-z0-9-]{1,20}$",
                "Description": "The Chalice stage (dev, prod, ...): names are loyalty-<Stage>-<name>",
            }
        },
        "Conditions": {"IsProduction": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        "Resources": {**table_resources(), **queue_resources(), **gateway},
    }


def rendered() -> str:
    return json.dumps(template(), indent=2, sort_keys=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if infra/resources.json is out of date")
    args = parser.parse_args()
    # The models are read, not connected: the local stage's settings name them (prefix stripped).
    os.environ.setdefault("LOYALTY_STAGE", "local")
    text = rendered()
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(
                f"{TARGET.relative_to(INFRA.parent)} is out of date: python -m scripts.infra_template", file=sys.stderr
            )
            sys.exit(1)
        return
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(INFRA.parent)}: {len(template()['Resources'])} resources")


if __name__ == "__main__":
    main()
