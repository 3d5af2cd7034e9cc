"""Every AWS call the functional suite makes, put down to the Lambda function that makes it on AWS,
and held against the functions' hand-written permissions (``infra/permissions.json``).

A call belongs to the innermost entry point on its stack: a stream trigger's, a consumer's or a
job's service function (the ones ``app.py``'s handlers call), else the API's when it comes from a
route. Calls made by the tests themselves (seeding, reading back) and by the local stand-ins of
Lambda's event source mappings (receiving from a queue, reading a stream) belong to no function:
the template grants the mappings' own actions by rule. At the end of the session, any call a
function made that its permissions do not allow fails the run, with the line to add.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.client
import pytest

from chalicelib import schedule
from scripts import infra_template

CALLS_DIR = "LOYALTY_AWS_CALLS_DIR"

#: (module, function) of the services ``app.py``'s handlers call -> the Lambda function.
ENTRIES = {
    ("chalicelib.services.reports", "on_ledger_records"): "count_ledger_entries",
    ("chalicelib.services.prediction", "on_ledger_records"): "count_ledger_entries",
    ("chalicelib.services.attribution", "on_ledger_records"): "count_ledger_entries",
    ("chalicelib.services.referrals", "on_ledger_records"): "count_ledger_entries",
    ("chalicelib.services.member_snapshot", "on_member_records"): "snapshot_members",
    ("chalicelib.services.webhooks", "on_member_records"): "snapshot_members",
    ("chalicelib.services.reports", "on_purchase_records"): "count_sales",
    ("chalicelib.services.member_snapshot", "on_purchase_records"): "count_sales",
    ("chalicelib.services.webhooks", "on_purchase_records"): "count_sales",
    ("chalicelib.services.push", "on_inbox_records"): "queue_pushes",
    ("chalicelib.services.push", "deliver"): "push_messages",
    ("chalicelib.jobs.fanout", "on_contacts"): "contact_members",
    ("chalicelib.services.webhooks", "on_delivery"): "deliver_webhooks",
}
#: Frames that run a job by name (its ``name`` local says which).
JOB_RUNNERS = {("chalicelib.jobs", "run"), ("chalicelib.jobs", "run_on_request")}


def job_function(name: str) -> str:
    """The scheduled function that runs job ``name`` on AWS (app.py's schedules)."""
    if name in schedule.DAILY_AT_UTC:
        return f"{name}_daily"
    if name in schedule.WEEKLY_AT_UTC:
        return f"{name}_weekly"
    if name in schedule.EVERY_MINUTES:
        return f"{name}_due"
    return "moments_hourly"


@functools.cache
def _functions() -> frozenset[str]:
    return frozenset(infra_template.permissions())


def function_of_stack() -> str | None:
    frame = sys._getframe(2)
    api = False
    functions = _functions()
    while frame is not None:
        key = (frame.f_globals.get("__name__", ""), frame.f_code.co_name)
        if key in ENTRIES:
            return ENTRIES[key]
        if key in JOB_RUNNERS:
            return job_function(str(frame.f_locals.get("name")))
        if key[0] == "app" and key[1] in functions:  # one of app.py's handlers, called as Lambda would
            return key[1]
        if key[0].startswith("chalicelib.api.") and key != ("chalicelib.api.middleware", "invocation"):
            api = True
        frame = frame.f_back  # type: ignore[assignment]
    return "api_handler" if api else None


def resources_of(service: str, operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(IAM action, resource short name) pairs a call needs."""
    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):
            kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
            kinds |= {"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
            for item in params.get("TransactItems", []):
                for kind, action in kinds.items():
                    if kind in item:
                        yield f"dynamodb:{action}", item[kind]["TableName"]
        elif operation in ("BatchGetItem", "BatchWriteItem"):
            for table in params.get("RequestItems", {}):
                yield f"dynamodb:{operation}", table
        elif "TableName" in params:
            yield f"dynamodb:{operation}", params["TableName"]
    elif service == "s3" and str(params.get("Key", params.get("Prefix", ""))).startswith("snapshot/"):
        # (A pull's GetObjects run on its download threads, whose stacks name no function: its
        # ListObjectsV2 stands for them, as "read" allows both.)
        yield f"s3:{'ListBucket' if operation == 'ListObjectsV2' else operation}", "snapshot"
    elif service == "sqs":
        queue = params.get("QueueName") or str(params.get("QueueUrl", "")).rsplit("/", 1)[-1]
        action = "SendMessage" if operation == "SendMessageBatch" else operation
        yield f"sqs:{action}", queue


_original = botocore.client.BaseClient._make_api_call


def _recording(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
    directory = os.environ.get(CALLS_DIR)
    if directory:
        function = function_of_stack()
        service = self.meta.service_model.service_name
        if function is not None:
            lines = [
                json.dumps([function, action, resource])
                for action, resource in resources_of(service, operation_name, api_params)
            ]
            if lines:
                with open(Path(directory) / f"{os.getpid()}.jsonl", "a") as out:
                    out.write("\n".join(lines) + "\n")
    return _original(self, operation_name, api_params)


def pytest_configure(config: pytest.Config) -> None:
    botocore.client.BaseClient._make_api_call = _recording  # type: ignore[method-assign]
    if not hasattr(config, "workerinput") and CALLS_DIR not in os.environ:  # the controller, before its workers
        os.environ[CALLS_DIR] = tempfile.mkdtemp(prefix="aws-calls-")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput") or not os.environ.get(CALLS_DIR):
        return
    calls = set()
    for path in Path(os.environ[CALLS_DIR]).glob("*.jsonl"):
        calls |= {tuple(json.loads(line)) for line in path.read_text().splitlines() if line}
    if not calls:
        return
    denied = infra_template.not_allowed(calls)  # type: ignore[arg-type]
    observed = Path(os.environ[CALLS_DIR]) / "observed.json"
    observed.write_text(json.dumps(sorted(calls), indent=0))
    if denied and session.exitstatus == 0:
        lines = "\n".join(f"  {function}: {action} on {resource}" for function, action, resource in denied)
        print(f"\ninfra/permissions.json does not allow calls the functions make ({observed}):\n{lines}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
