"""Push notifications: the sender interface the delivery pipeline uses, and what a send answers.

A :class:`Push` is one message to one device. A :class:`Sender` sends a batch of at most
:data:`MAX_BATCH` and answers one outcome per push, in order: :class:`Delivered`, :class:`DeadToken`
(the token is gone: remove it from the member's devices), :class:`Retry` (a transient failure:
429, 5xx, a timeout; ``retry_after_s`` when the server said how long to wait) or :class:`Rejected`
(this message can never be delivered to this token: retrying would not help). The Firebase sender
(``push/firebase.py``) is the one used on AWS and on the local stack; tests may use a fake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

#: FCM's limit of messages per batch call (``send_each``).
MAX_BATCH = 500
#: FCM's limit on a message's payload (notification and data), in bytes.
MAX_PAYLOAD_BYTES = 4096
PLATFORMS = ("android", "ios", "web")


@dataclass(frozen=True)
class Push:
    token: str
    platform: str
    title: str
    body: str | None = None
    #: String values only (FCM's rule): the inbox ``message_id``, ``kind``, ``offer_id``.
    data: Mapping[str, str] = field(default_factory=dict)
    #: Collapses repeats of one message on the device (the inbox message id).
    collapse_key: str | None = None


@dataclass(frozen=True)
class Delivered:
    token: str
    #: FCM's name for the message (``projects/<p>/messages/<id>``).
    name: str


@dataclass(frozen=True)
class DeadToken:
    token: str
    #: FCM's error code: ``UNREGISTERED``, or ``INVALID_ARGUMENT`` naming the token.
    reason: str


@dataclass(frozen=True)
class Retry:
    token: str
    reason: str
    retry_after_s: float | None = None


@dataclass(frozen=True)
class Rejected:
    token: str
    reason: str


Outcome = Delivered | DeadToken | Retry | Rejected


class Sender(Protocol):
    def send(self, pushes: Sequence[Push]) -> list[Outcome]:
        """One outcome per push, in order; ``pushes`` holds 1 to :data:`MAX_BATCH` items."""
        ...
