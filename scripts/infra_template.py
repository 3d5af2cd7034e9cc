"""The CloudFormation resources Chalice does not create, written from the code that uses them:
``infra/resources.json``, merged into Chalice's own template by ``chalice package
--merge-template infra/resources.json``.

* **Tables**: one ``AWS::DynamoDB::Table`` per PynamoDB model the store declares
  (``store.tables.declared()``), with its keys, every global secondary index, its stream, its TTL
  attribute; on-demand billing, point-in-time recovery, deletion protection on ``prod``.
* **Queues**: each queue of ``chalicelib/queues.py`` with its dead-letter queue and the redrive
  policy the consumers count on (``MAX_RECEIVES``, ``VISIBILITY_TIMEOUT_S``).
* **API Gateway's own answers** in the API's error body (``infra/gateway_responses.json``).
* **Stream failures**: a queue for the stream records a trigger gave up on (each is retried, the
  batch halved around the failure, then set aside there instead of blocking its shard for a day).
* **The snapshot's bucket**: the members' columnar snapshot the functions share (each has its own
  ``/tmp``), private, encrypted, kept when the stack goes.
* **Secrets**: the stage's root secret, generated (``chalicelib/config.py`` derives the card's and
  the cursors' keys from it), and the Firebase service account's place (filled by the operator).
* **Cognito**: the user pool (sign-in by email; the staff's ``merchant_id`` and ``store_id`` as
  attributes only an admin writes), the app client, one group per role of API.md.
* **Roles**: one per function, from the hand-written ``infra/permissions.json`` (the tables and
  the actions on each, the queues it sends to or consumes, its stream, its secrets), with its own
  log group (30 days). Every name is a stage's resource: no ``*`` action, no ``*`` on data. The
  functional suite records every AWS call each function makes and fails on one its permissions
  do not allow (``tests/functional/aws_calls.py``).
* **Alarms**: any message in a dead-letter queue or the stream failures queue, any 5xx of the
  API, to an SNS topic (and the ``AlarmEmail`` given at deploy).

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
PERMISSIONS = INFRA / "permissions.json"
LOG_RETENTION_DAYS = 30


def logical(name: str, suffix: str) -> str:
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
        resources[logical(short, "Table")] = {
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
        dead = logical(short, "DeadLetterQueue")
        resources[dead] = {
            "Type": "AWS::SQS::Queue",
            # What failed five times waits two weeks for an admin's replay.
            "Properties": {"QueueName": _named(f"{short}-dlq"), "MessageRetentionPeriod": 1_209_600},
        }
        resources[logical(short, "Queue")] = {
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


STREAM_FAILURES = "StreamFailuresQueue"


def stream_failure_resources() -> dict[str, Any]:
    return {
        STREAM_FAILURES: {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": _named("stream-failures"), "MessageRetentionPeriod": 1_209_600},
        }
    }


def snapshot_resources() -> dict[str, Any]:
    """The bucket the functions share the members' snapshot through (``store/snapshot.py``'s Mirror)."""
    return {
        "SnapshotBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "abandoned-uploads",
                            "Status": "Enabled",
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                        }
                    ]
                },
            },
        }
    }


def secret_resources() -> dict[str, Any]:
    return {
        "AppSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": _named("app"),
                "Description": "The stage's root secret: the card QR and list cursor keys are derived from it",
                "GenerateSecretString": {
                    "SecretStringTemplate": "{}",
                    "GenerateStringKey": "root",
                    "PasswordLength": 64,
                    "ExcludePunctuation": True,
                },
            },
        },
        "FirebaseSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": _named("firebase"),
                "Description": "The Firebase service account JSON the push sender signs in with "
                "(aws secretsmanager put-secret-value: README, Deploy)",
                "SecretString": "{}",
            },
        },
    }


def cognito_resources() -> dict[str, Any]:
    from chalicelib.domain.identity import Role

    staff_attributes = [
        {
            "Name": name,
            "AttributeDataType": "String",
            "Mutable": True,
            "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"},
        }
        for name in ("merchant_id", "store_id")
    ]
    resources: dict[str, Any] = {
        "UserPool": {
            "Type": "AWS::Cognito::UserPool",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "UserPoolName": _named("users"),
                "UserPoolTier": "LITE",
                "UsernameAttributes": ["email"],
                "AutoVerifiedAttributes": ["email"],
                "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
                "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False},
                "Policies": {
                    "PasswordPolicy": {
                        "MinimumLength": 10,
                        "RequireLowercase": False,
                        "RequireUppercase": False,
                        "RequireNumbers": False,
                        "RequireSymbols": False,
                    }
                },
                "Schema": staff_attributes,
                "DeletionProtection": {"Fn::If": ["IsProduction", "ACTIVE", "INACTIVE"]},
            },
        },
        "UserPoolClient": {
            "Type": "AWS::Cognito::UserPoolClient",
            "Properties": {
                "UserPoolId": {"Ref": "UserPool"},
                "ClientName": "app",
                "GenerateSecret": False,
                "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                "PreventUserExistenceErrors": "ENABLED",
                "EnableTokenRevocation": True,
                "AccessTokenValidity": 60,
                "IdTokenValidity": 60,
                "RefreshTokenValidity": 30,
                "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
                "ReadAttributes": ["email", "email_verified", "custom:merchant_id", "custom:store_id"],
                # A user writes their email only: the staff's merchant and store are an admin's.
                "WriteAttributes": ["email"],
            },
        },
    }
    for precedence, role in enumerate((Role.ADMIN, Role.MARKETER, Role.CASHIER, Role.CUSTOMER)):
        resources[logical(role.value, "Group")] = {
            "Type": "AWS::Cognito::UserPoolGroup",
            "Properties": {
                "UserPoolId": {"Ref": "UserPool"},
                "GroupName": role.value,
                "Precedence": precedence,
                "Description": f"API.md's {role.value} role",
            },
        }
    return resources


def _alarm(description: Any, namespace: str, metric: str, dimensions: list[Any], statistic: str) -> dict[str, Any]:
    """Any datapoint above zero in five minutes: each of these is a message or an answer lost."""
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": dimensions,
            "Statistic": statistic,
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
        },
    }


def alarm_resources(dead_letter_queues: list[str]) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": _named("alarms")}},
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
        },
        "ApiServerErrorsAlarm": _alarm(
            "The API answered 5xx: the contract allows none (a bug or an outage)",
            "AWS/ApiGateway",
            "5XXError",
            [{"Name": "ApiName", "Value": _named("api")}, {"Name": "Stage", "Value": "api"}],
            "Sum",
        ),
    }
    for queue in dead_letter_queues:
        resources[queue.removesuffix("Queue") + "Alarm"] = _alarm(
            {"Fn::Sub": f"Messages wait in ${{{queue}.QueueName}}: replay or fix, then redrive"},
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
            "Maximum",
        )
    return resources


def permissions() -> dict[str, dict[str, Any]]:
    return {k: v for k, v in json.loads(PERMISSIONS.read_text()).items() if not k.startswith("_")}


def _arn(service: str, resource: str) -> dict[str, str]:
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"}


def _statement(actions: list[str], resources: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def role_resources() -> dict[str, Any]:
    """One role and one log group per function, from ``infra/permissions.json``."""
    resources: dict[str, Any] = {}
    for function, grants in permissions().items():
        log_group = logical(function, "LogGroup")
        resources[log_group] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": {"Fn::Sub": f"/aws/lambda/loyalty-${{Stage}}-{function}"},
                "RetentionInDays": LOG_RETENTION_DAYS,
            },
        }
        statements = [
            _statement(["logs:CreateLogStream", "logs:PutLogEvents"], {"Fn::GetAtt": [log_group, "Arn"]}),
            _statement(["secretsmanager:GetSecretValue"], [{"Ref": secret} for secret in grants.get("secrets", [])]),
        ]
        for table, actions in sorted(grants.get("tables", {}).items()):
            arn = f"table/loyalty-${{Stage}}-{table}"
            resources_of_table = [_arn("dynamodb", arn), _arn("dynamodb", f"{arn}/index/*")]
            statements.append(_statement([f"dynamodb:{a}" for a in {*actions, "DescribeTable"}], resources_of_table))
        for other in grants.get("invokes", []):  # Chalice's function, in the merged template
            statements.append(_statement(["lambda:InvokeFunction"], {"Fn::GetAtt": [logical(other, ""), "Arn"]}))
        snapshot_access = grants.get("snapshot")
        if snapshot_access:
            objects = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${SnapshotBucket}/snapshot/*"}
            bucket = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${SnapshotBucket}"}
            actions = ["s3:GetObject"] + (["s3:PutObject", "s3:DeleteObject"] if snapshot_access == "write" else [])
            statements.append(_statement(actions, objects))
            listing = _statement(["s3:ListBucket"], bucket)
            listing["Condition"] = {"StringLike": {"s3:prefix": ["snapshot/*"]}}
            statements.append(listing)
        sends = grants.get("send_to", [])
        if sends:
            statements.append(
                _statement(
                    ["sqs:SendMessage", "sqs:GetQueueUrl"], [_arn("sqs", f"loyalty-${{Stage}}-{q}") for q in sends]
                )
            )
        if "consumes" in grants:  # what Lambda's event source mapping does with the function's role,
            # and the consumer itself putting a message off (ChangeMessageVisibility) on its own queue
            actions = [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueUrl",
            ]
            statements.append(_statement(actions, {"Fn::GetAtt": [logical(grants["consumes"], "Queue"), "Arn"]}))
        if "stream" in grants:  # ditto, and the records it gives up on go to the stream failures queue
            table = logical(grants["stream"], "Table")
            stream_actions = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
            statements.append(_statement(stream_actions, {"Fn::GetAtt": [table, "StreamArn"]}))
            # ListStreams names a table's streams and reads nothing; IAM has no resource for it.
            statements.append(_statement(["dynamodb:ListStreams"], "*"))
            statements.append(_statement(["sqs:SendMessage"], {"Fn::GetAtt": [STREAM_FAILURES, "Arn"]}))
        resources[logical(function, "Role")] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": function,
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [st for st in statements if st["Resource"] != []],
                        },
                    }
                ],
            },
        }
    return resources


def not_allowed(calls: set[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The (function, action, resource) calls ``infra/permissions.json`` does not allow; resources
    by their full local names (the stage's prefix is taken off)."""
    from chalicelib.config import settings

    prefix = settings().table_prefix
    granted = permissions()
    denied = []
    for function, action, resource in sorted(calls):
        grants = granted.get(function, {})
        short = resource.removeprefix(prefix)
        service, verb = action.split(":", 1)
        if service == "dynamodb":
            actions = grants.get("tables", {}).get(short)
            allowed = actions is not None and (verb in actions or verb == "DescribeTable")
        elif service == "s3":
            access = grants.get("snapshot")
            allowed = access == "write" or (access == "read" and verb in ("GetObject", "ListBucket"))
        else:
            sends = verb in ("SendMessage", "GetQueueUrl") and short in grants.get("send_to", [])
            own = verb in ("ChangeMessageVisibility", "GetQueueUrl") and short == grants.get("consumes")
            allowed = sends or own
        if not allowed:
            denied.append((function, action, short))
    return denied


def template() -> dict[str, Any]:
    gateway = json.loads(GATEWAY_RESPONSES.read_text())["Resources"]
    queues = queue_resources()
    dead_letters = [name for name in queues if name.endswith("DeadLetterQueue")] + [STREAM_FAILURES]
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Loyalty program: the tables, queues and API Gateway answers Chalice does not create "
        "(written by scripts/infra_template.py from the code; do not edit by hand)",
        "Parameters": {
            "Stage": {
                "Type": "String",
                "AllowedPattern": "^[a-z][a-z0-9-]{1,20}$",
                "Description": "The Chalice stage (dev, prod, ...): names are loyalty-<Stage>-<name>",
            },
            "AlarmEmail": {
                "Type": "String",
                "Default": "",
                "Description": "Where the alarms are mailed (confirm the subscription mail); empty: none",
            },
            "FirebaseProjectId": {
                "Type": "String",
                "Default": "",
                "Description": "The Firebase project the pushes are sent through (empty: pushes fail to the DLQ)",
            },
        },
        "Outputs": {
            "UserPoolId": {"Description": "The user pool the apps sign in to", "Value": {"Ref": "UserPool"}},
            "UserPoolClientId": {"Description": "The apps' client of the pool", "Value": {"Ref": "UserPoolClient"}},
            "AlarmTopicArn": {"Description": "Where the alarms go", "Value": {"Ref": "AlarmTopic"}},
        },
        "Conditions": {
            "IsProduction": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]},
        },
        "Resources": {
            **table_resources(),
            **queues,
            **stream_failure_resources(),
            **snapshot_resources(),
            **secret_resources(),
            **cognito_resources(),
            **alarm_resources(dead_letters),
            **role_resources(),
            **gateway,
        },
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
