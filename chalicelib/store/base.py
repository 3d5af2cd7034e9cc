"""Connection settings shared by every model, and the transaction helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.config import Settings, settings
from chalicelib.errors import Unavailable


class BaseMeta:
    """Every model's connection settings: placeholders until the first use binds them (``bind``),
    so importing the store reads no environment and opens nothing."""

    region: str | None = None
    host: str | None = None
    billing_mode = "PAY_PER_REQUEST"
    connect_timeout_seconds: float | None = None
    read_timeout_seconds: float | None = None
    max_retry_attempts = 3
    #: Connections per process: the push consumer works on many messages at once.
    max_pool_connections = 64


@lru_cache(maxsize=1)
def bind() -> Settings:
    """Point every model at the DynamoDB the settings name (once per process, on first use)."""
    bound = settings()
    BaseMeta.region = bound.aws_region
    BaseMeta.host = bound.dynamodb_endpoint
    BaseMeta.connect_timeout_seconds = bound.dynamodb_connect_timeout_s
    BaseMeta.read_timeout_seconds = bound.dynamodb_read_timeout_s
    return bound


class _TableName:
    """A model's ``Meta.table_name``, named from the settings when PynamoDB first asks for it
    (it does before it connects: so the first request binds the store)."""

    def __init__(self, short: str) -> None:
        self.short = short

    def __get__(self, instance: object, owner: type | None = None) -> str:
        return bind().table_name(self.short)


def table_name(short: str) -> str:
    # Typed as what a reader of ``Meta.table_name`` gets: the descriptor answers with the name.
    return _TableName(short)  # type: ignore[return-value]


@lru_cache(maxsize=1)
def connection() -> Connection:
    """One low-level connection per warm Lambda, for transactions."""
    bind()
    return Connection(
        region=BaseMeta.region,
        host=BaseMeta.host,
        connect_timeout_seconds=BaseMeta.connect_timeout_seconds,
        read_timeout_seconds=BaseMeta.read_timeout_seconds,
        max_retry_attempts=BaseMeta.max_retry_attempts,
    )


@contextmanager
def transaction() -> Iterator[TransactWrite]:
    with TransactWrite(connection=connection()) as tx:
        yield tx


class OwnedWrite:
    """A transaction that knows whose each item is, so a cancelled one can say whose condition
    failed. DynamoDB gives one cancellation reason per item in the order pynamodb sends them
    (condition checks, deletes, puts, then updates), not in the order they were added."""

    def __init__(self, tx: TransactWrite) -> None:
        self._tx = tx
        self._checks: list[object] = []
        self._puts: list[object] = []
        self._updates: list[object] = []

    def condition_check(
        self, model_cls: type[Model], hash_key: str, condition: Condition, *, owner: object = None
    ) -> None:
        self._tx.condition_check(model_cls, hash_key, condition=condition)
        self._checks.append(owner)

    def save(self, model: Model, condition: Condition | None = None, *, owner: object = None) -> None:
        self._tx.save(model, condition=condition)
        self._puts.append(owner)

    def update(
        self, model: Model, actions: list[Action], condition: Condition | None = None, *, owner: object = None
    ) -> None:
        self._tx.update(model, actions=actions, condition=condition)
        self._updates.append(owner)

    def failed_owners(self, error: TransactWriteError) -> list[object]:
        """The owners of the items whose condition failed (None for an item nobody owns)."""
        owners = [*self._checks, *self._puts, *self._updates]
        return [owners[i] for i in failed_items(error) if i < len(owners)]


@contextmanager
def owned_transaction() -> Iterator[OwnedWrite]:
    with transaction() as tx:
        yield OwnedWrite(tx)


def failed_items(error: TransactWriteError) -> list[int]:
    """Indexes of the transaction's items whose condition failed, in the order pynamodb sends them
    (condition checks, deletes, puts, updates: see ``OwnedWrite``)."""
    return [
        i
        for i, reason in enumerate(error.cancellation_reasons)
        if reason is not None and reason.code == "ConditionalCheckFailed"
    ]


def condition_failed(error: PynamoDBException) -> bool:
    """True when a single-item write was refused by its condition."""
    return error.cause_response_code == "ConditionalCheckFailedException"


def as_unavailable(error: Exception) -> Unavailable | None:
    """Our 503 for an error that means DynamoDB could not be reached or is throttling us."""
    if isinstance(error, PynamoDBException):
        code = error.cause_response_code
        if code in _RETRYABLE_CODES or code is None:
            return Unavailable("the database did not answer; try again", code="store_unavailable")
    return None


_RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
