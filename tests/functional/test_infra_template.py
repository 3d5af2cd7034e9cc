"""infra/resources.json is written from the code (``scripts/infra_template.py``): it is up to date,
it names exactly the tables and indexes the store declares with their streams and TTLs, every queue
has its dead-letter queue, and cfn-lint finds nothing wrong with it."""

import json
import subprocess
import sys
from pathlib import Path

from pynamodb.attributes import TTLAttribute

from chalicelib import queues
from chalicelib.config import settings
from chalicelib.store import tables
from scripts import infra_template


def test_the_committed_template_is_what_the_code_writes():
    assert infra_template.TARGET.read_text() == infra_template.rendered(), (
        "infra/resources.json is out of date: python -m scripts.infra_template"
    )


def test_the_template_has_exactly_the_tables_and_indexes_the_code_declares():
    resources = json.loads(infra_template.TARGET.read_text())["Resources"]
    in_template = {
        r["Properties"]["TableName"]["Fn::Sub"].removeprefix("loyalty-${Stage}-"): r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::DynamoDB::Table"
    }
    prefix = settings().table_prefix
    declared = {model.Meta.table_name.removeprefix(prefix): model for model in tables.declared()}
    assert set(in_template) == set(declared)
    for name, model in declared.items():
        table = in_template[name]
        indexes = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}
        assert indexes == {i["index_name"] for i in model._get_schema()["global_secondary_indexes"]}, name
        assert table["KeySchema"][0]["KeyType"] == "HASH" and table["BillingMode"] == "PAY_PER_REQUEST"
        stream = getattr(model.Meta, "stream_view_type", None)
        assert table.get("StreamSpecification", {}).get("StreamViewType") == stream, name
        ttl = [n for n, a in model.get_attributes().items() if isinstance(a, TTLAttribute)]
        assert table.get("TimeToLiveSpecification", {}).get("AttributeName") == (ttl[0] if ttl else None), name
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_every_queue_has_its_dead_letter_queue():
    resources = json.loads(infra_template.TARGET.read_text())["Resources"]
    names = {
        r["Properties"]["QueueName"]["Fn::Sub"].removeprefix("loyalty-${Stage}-"): r
        for r in resources.values()
        if r["Type"] == "AWS::SQS::Queue"
    }
    assert set(names) == {*queues.QUEUES, *(f"{q}-dlq" for q in queues.QUEUES)}
    for short in queues.QUEUES:
        redrive = names[short]["Properties"]["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == queues.MAX_RECEIVES
        assert redrive["deadLetterTargetArn"]["Fn::GetAtt"][0] in resources


def test_cfn_lint_finds_nothing(tmp_path):
    template = json.loads(infra_template.TARGET.read_text())
    # The gateway responses name Chalice's RestAPI: they are checked in the merged template.
    template["Resources"] = {
        k: v for k, v in template["Resources"].items() if not v["Type"].startswith("AWS::ApiGateway")
    }
    path = tmp_path / "resources.json"
    path.write_text(json.dumps(template))
    linted = subprocess.run(  # noqa: S603 - our own venv's cfn-lint on our own file
        [str(Path(sys.executable).parent / "cfn-lint"), str(path)], capture_output=True, text=True, check=False
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
