"""FCM's payload limit, measured before a message is sent."""

from __future__ import annotations

import json

from chalicelib.push import MAX_PAYLOAD_BYTES, Push


def payload_bytes(push: Push) -> int:
    """The message's payload as FCM counts it against its 4 KB limit: the notification (title,
    body) and the data, as the JSON the device receives."""
    notification = {"title": push.title, **({"body": push.body} if push.body else {})}
    return len(json.dumps({"notification": notification, "data": dict(push.data)}, ensure_ascii=False).encode())


def fits(push: Push) -> bool:
    return payload_bytes(push) <= MAX_PAYLOAD_BYTES
