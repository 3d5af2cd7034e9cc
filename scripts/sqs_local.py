"""The local stack's SQS: moto's server speaking the SQS API, and a poller per queue that hands
received batches to the same ``@app.on_sqs_message`` handlers Lambda calls (the event source
mapping's stand-in: partial-batch failures honoured, the redrive policy moving a message to its
dead-letter queue after ``queues.MAX_RECEIVES`` receives). moto keeps nothing on disk: what a queue
carried is recorded in DynamoDB (the inbox, the idempotency records), so a restart loses no work
that matters; a message in flight at the stop is sent again by the next job run or replay."""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import urlsplit

from chalicelib import queues

#: Long polling: a poller waits this long for a message before asking again.
WAIT_S = 1


def start_server(endpoint: str) -> Any:
    """moto's SQS-speaking server on ``endpoint``'s host and port (a clear error if taken)."""
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request line, even with verbose off: the pollers ask every second.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    url = urlsplit(endpoint)
    server = ThreadedMotoServer(ip_address=url.hostname or "127.0.0.1", port=url.port or 9324, verbose=False)
    server.start()
    return server


def follow(short: str, handler: queues.EventHandler, stopping: threading.Event) -> threading.Thread:
    """Poll ``short``'s queue until ``stopping`` is set, handing each batch to ``handler``."""

    def loop() -> None:
        while not stopping.is_set():
            try:
                queues.poll_once(short, handler, wait_s=WAIT_S)
            except Exception as exc:  # noqa: BLE001 - a failed poll is retried; the message comes back
                # The type only: a message may quote a member's data.
                print(f"queue {short}: {type(exc).__name__}", flush=True)
                stopping.wait(1)

    thread = threading.Thread(target=loop, name=f"sqs-{short}", daemon=True)
    thread.start()
    return thread
