"""Reading a table's stream without Lambda: the local stack's (and the tests') stand-in for the
DynamoDB-stream trigger that Chalice wires on AWS. Same records, same handler."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import boto3
from pynamodb.models import Model

from chalicelib.store.base import BaseMeta, bind

Handler = Callable[[list[dict[str, Any]]], None]


@lru_cache(maxsize=1)
def _client() -> Any:
    # The classic endpoint, named: botocore's endpoint rules otherwise pick one that moto's
    # stream backend does not answer (the local stack always names DynamoDB Local's).
    bind()
    endpoint = BaseMeta.host or f"https://streams.dynamodb.{BaseMeta.region}.amazonaws.com"
    return boto3.client("dynamodbstreams", region_name=BaseMeta.region, endpoint_url=endpoint)


class StreamReader:
    """Follows every shard of a table's latest stream from its start, remembering where it is."""

    def __init__(self, model: type[Model]) -> None:
        self._model = model
        self._iterators: dict[str, str | None] = {}
        self._last_sequence: dict[str, str] = {}

    def poll(self, handler: Handler) -> int:
        """Hand every record that arrived since the last poll to ``handler``; returns how many."""
        arn = self._model.describe_table().get("LatestStreamArn")
        if arn is None:
            return 0
        shards = _client().describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        return sum(self._poll_shard(arn, shard["ShardId"], handler) for shard in shards)

    def _poll_shard(self, arn: str, shard_id: str, handler: Handler) -> int:
        client = _client()
        handled = 0
        iterator = self._iterators.get(shard_id) or self._fresh_iterator(arn, shard_id)
        while iterator:
            try:
                page = client.get_records(ShardIterator=iterator, Limit=1000)
            except (client.exceptions.ExpiredIteratorException, client.exceptions.TrimmedDataAccessException):
                # Iterators expire (15 minutes) and DynamoDB Local sometimes refuses one it gave
                # out: start again just after the last record handled.
                iterator = self._fresh_iterator(arn, shard_id)
                page = client.get_records(ShardIterator=iterator, Limit=1000)
            records = page.get("Records", [])
            if records:
                handler(records)
                handled += len(records)
                self._last_sequence[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            iterator = page.get("NextShardIterator")
            if not records:
                break
        self._iterators[shard_id] = iterator
        return handled

    def _fresh_iterator(self, arn: str, shard_id: str) -> str:
        last = self._last_sequence.get(shard_id)
        where: dict[str, str] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
            if last
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        return str(_client().get_shard_iterator(StreamArn=arn, ShardId=shard_id, **where)["ShardIterator"])


def follow(model: type[Model], handler: Handler, stopping: threading.Event, every_s: float = 1.0) -> threading.Thread:
    """Poll the stream in a thread until ``stopping`` is set."""
    reader = StreamReader(model)

    def loop() -> None:
        while not stopping.wait(every_s):
            try:
                reader.poll(handler)
            except Exception as exc:  # noqa: BLE001 - a failed poll is retried on the next tick
                # The type only: a message may quote an item (a member's data).
                print(f"stream poll failed: {type(exc).__name__}", flush=True)

    thread = threading.Thread(target=loop, name=f"stream-{model.Meta.table_name}", daemon=True)
    thread.start()
    return thread
