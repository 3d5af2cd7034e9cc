"""Time and ids, the two parts of the outside world every use case touches, behind one getter
per process that tests can swap (``replaced``): every route, job and handler asks here, so an
HTTP-level test can move time (a birthday, an expiry, a lapse) without patching a module."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.clock import Clock, system_clock


class IdSource(Protocol):
    def __call__(self, prefix: str, hex_chars: int) -> str:
        """A new id: ``prefix``, an underscore and ``hex_chars`` hexadecimal characters."""
        ...


def random_ids(prefix: str, hex_chars: int) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:hex_chars]}"


@dataclasses.dataclass(frozen=True)
class Ports:
    clock: Clock = system_clock
    ids: IdSource = random_ids


_current = Ports()


def now() -> datetime:
    """The time of the current request or job: what views and handlers pass as ``clock``."""
    return _current.clock()


def new_id(prefix: str, hex_chars: int) -> str:
    return _current.ids(prefix, hex_chars)


@contextmanager
def replaced(**changes: Any) -> Iterator[Ports]:
    """Within: the process's ports with ``changes`` (``clock=``, ``ids=``); the previous after."""
    global _current
    previous = _current
    _current = dataclasses.replace(previous, **changes)
    try:
        yield _current
    finally:
        _current = previous
