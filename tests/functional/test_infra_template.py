"""infra/resources.json is written from the code (``scripts/infra_template.py``): it is up to date,
it names exactly the tables and indexes the store declares with their streams and TTLs, every queue
has its dead-letter queue; and the template make package merges from it and Chalice's, which
cfn-lint finds nothing wrong with, gives each function its own role and the event sources their
failure handling."""

import json

import pytest
from pynamodb.attributes import TTLAttribute

from chalicelib import queues
from chalicelib.config import settings
from chalicelib.store import tables
from scripts import infra_template, package


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
    assert set(names) == {*queues.QUEUES, *(f"{q}-dlq" for q in queues.QUEUES), "stream-failures"}
    for short in queues.QUEUES:
        redrive = names[short]["Properties"]["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == queues.MAX_RECEIVES
        assert redrive["deadLetterTargetArn"]["Fn::GetAtt"][0] in resources


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    """The dev stage's template as `make package` merges it (Chalice's own, the resources, the
    wiring), linted by cfn-lint on the way."""
    work = tmp_path_factory.mktemp("package")
    return package.build_template("dev", work, work / "template.json")


def _functions(template):
    return {
        package._function_name(r): r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    }


def test_every_function_has_its_own_role_without_wildcards_on_data(merged):
    functions = _functions(merged)
    assert set(functions) == set(infra_template.permissions())
    roles = set()
    for name, properties in functions.items():
        role = properties["Role"]["Fn::GetAtt"][0]
        roles.add(role)
        statements = merged["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        for statement in statements:
            assert all("*" not in action for action in statement["Action"]), (name, statement)
            if statement["Resource"] == "*":
                assert statement["Action"] == ["dynamodb:ListStreams"], (name, statement)
    assert len(roles) == len(functions)


def test_the_event_sources_report_partial_failures_and_set_aside_what_keeps_failing(merged):
    kinds = set()
    for name, properties in _functions(merged).items():
        assert properties["CodeUri"] in {f"./{p.name}.zip" for p in package.PACKAGES}
        assert properties["Runtime"] == package.RUNTIME
        for event in (properties.get("Events") or {}).values():
            kinds.add(event["Type"])
            if event["Type"] == "SQS":
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
            if event["Type"] == "DynamoDB":
                assert event["Properties"]["Stream"]["Fn::GetAtt"][1] == "StreamArn", name
                assert event["Properties"]["BisectBatchOnFunctionError"] is True
                assert "OnFailure" in event["Properties"]["DestinationConfig"]
    assert kinds == {"SQS", "DynamoDB", "Schedule"}


def test_the_functions_find_their_stage_in_their_environment(merged):
    variables = merged["Globals"]["Function"]["Environment"]["Variables"]
    assert set(package.STREAM_VARIABLES) <= set(variables)
    assert {"LOYALTY_SECRETS_ARN", "LOYALTY_COGNITO_ISSUER", "LOYALTY_COGNITO_CLIENT_IDS"} <= set(variables)
    assert merged["Parameters"]["Stage"]["AllowedValues"] == ["dev"]
    for properties in _functions(merged).values():
        assert properties["Environment"]["Variables"]["LOYALTY_STAGE"] == "dev"


def test_each_role_fits_iams_inline_policy_quota(merged):
    """IAM refuses a role whose inline policies exceed 10,240 characters (whitespace aside): the
    deploy would fail there, long after the template was written. Measured with the longest names
    the substitutions can give (partition, region, account id, a 21-character stage)."""
    names = {
        "${AWS::Partition}": "aws-us-gov",
        "${AWS::Region}": "ap-southeast-4",
        "${AWS::AccountId}": "123456789012",
        "${Stage}": "s" * 21,
        "${SnapshotBucket}": "b" * 63,
    }
    for logical, resource in merged["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        text = "".join(json.dumps(p["PolicyDocument"]) for p in resource["Properties"]["Policies"])
        for placeholder, longest in names.items():
            text = text.replace(placeholder, longest)
        assert len("".join(text.split())) < 10_240, logical
