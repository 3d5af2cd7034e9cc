"""The whole local stack in one foreground process: DynamoDB Local, tables, demo data and the API.

    PORT=8000 DATA_DIR=.data python -m scripts.serve      (make run)

SIGTERM, SIGINT (Ctrl-C) or SIGHUP stops everything it started, and so does its parent's death or,
under ``make run``, any of these signals sent to make alone; the data stays in DATA_DIR for the
next run. The demo data is written once per data directory (see ``scripts.seed``).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from scripts import dynamodb_local

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
#: How often a ``make`` parent is looked at (see ``watch_make``).
PARENT_CHECK_S = 0.2


#: Where the local SQS server listens unless LOYALTY_SQS_ENDPOINT says otherwise.
LOCAL_SQS_ENDPOINT = "http://127.0.0.1:9324"


def configure_environment(endpoint: str, data_dir: Path | None = None) -> None:
    """The settings the app reads, pointing it at the local DynamoDB (set before importing it)
    and keeping the members' snapshot in ``data_dir`` beside the tables."""
    os.environ["LOYALTY_STAGE"] = "local"
    os.environ["LOYALTY_DYNAMODB_ENDPOINT"] = endpoint
    if data_dir is not None:
        os.environ.setdefault("LOYALTY_SNAPSHOT_DIR", str(data_dir / "snapshot"))
    os.environ.setdefault("LOYALTY_SQS_ENDPOINT", LOCAL_SQS_ENDPOINT)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    # Nobody reads CloudWatch's metric lines here (chalicelib/metrics.py).
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


def _local_port(url: str) -> int | None:
    """The port of a URL on this machine (None: somewhere else, which the stack does not start)."""
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    return parts.port or 80


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        # As the servers bind (SO_REUSEADDR): a port our previous run left in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_local_fcm() -> Any:
    """The FCM v1 endpoint pushes go to, unless LOYALTY_FCM_URL points elsewhere."""
    from chalicelib.config import LOCAL_FCM_URL
    from scripts import fcm_local

    url = os.environ.setdefault("LOYALTY_FCM_URL", LOCAL_FCM_URL)
    port = _local_port(url)
    if port is None:
        return None
    if not _port_free(port):
        sys.exit(f"make run: port {port} for the local FCM endpoint (LOYALTY_FCM_URL={url}) is taken; set another")
    server, _ = fcm_local.start("127.0.0.1", port)
    return server


def start_local_sqs() -> Any:
    """moto's SQS server on LOYALTY_SQS_ENDPOINT's port."""
    from scripts import sqs_local

    url = os.environ["LOYALTY_SQS_ENDPOINT"]
    port = _local_port(url)
    if port is None:
        return None
    if not _port_free(port):
        sys.exit(f"make run: port {port} for the local SQS server (LOYALTY_SQS_ENDPOINT={url}) is taken; set another")
    return sqs_local.start_server(url)


def _status_field(pid: int, name: str) -> str | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key == name:
                return value.strip()
    except OSError:
        return None
    return None


def _caught_signals(pid: int) -> int | None:
    mask = _status_field(pid, "SigCgt")
    return int(mask, 16) if mask is not None else None


def watch_make(stopping: threading.Event, every_s: float = PARENT_CHECK_S) -> threading.Thread | None:
    """Stop when a ``make`` parent is on its way out.

    GNU make passes SIGTERM on to its recipe, but on SIGINT, SIGHUP or SIGQUIT sent to make alone
    (not to the terminal's whole process group) it only resets that signal to its default action
    and waits, for ever, for the recipe to end. So a make parent that no longer catches a signal
    it caught when we started has been told to stop: we stop as if we had been signalled, make
    then ends too. Parents other than make are left alone; their death still reaches us through
    ``PR_SET_PDEATHSIG``.
    """
    parent = os.getppid()
    if _status_field(parent, "Name") not in ("make", "gmake"):
        return None
    watched = sum(1 << (s - 1) for s in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGTERM))
    caught_at_start = (_caught_signals(parent) or 0) & watched

    def loop() -> None:
        while not stopping.wait(every_s):
            caught = _caught_signals(parent)
            if os.getppid() != parent or caught is None or caught_at_start & ~caught:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    thread = threading.Thread(target=loop, name="watch-make", daemon=True)
    thread.start()
    return thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--data-dir", default=os.environ.get("DATA_DIR", ".data"))
    parser.add_argument("--no-seed", action="store_true", help="do not write the demo data")
    args = parser.parse_args()

    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        if not stopping.is_set():  # a second signal must not interrupt the clean-up
            stopping.set()
            raise KeyboardInterrupt

    # Before anything is started, so no signal can leave a child behind.
    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    dynamodb_local.die_with_parent()
    watch_make(stopping)

    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    dynamo = None
    fcm = sqs = None
    try:
        try:
            dynamo, endpoint = dynamodb_local.start(data_dir)
        except dynamodb_local.LocalStackError as exc:
            sys.exit(f"make run: {exc}")
        configure_environment(endpoint, data_dir)
        fcm = start_local_fcm()
        sqs = start_local_sqs()
        from app import app
        from scripts import dev_server, seed

        if args.no_seed:
            from chalicelib.store import tables

            tables.create_missing_tables()
        else:
            for key, value in seed.seed().items():
                print(f"seed {key}: {value}", flush=True)
        from chalicelib import queues
        from chalicelib.store import snapshot

        for dataset in (snapshot.MEMBERS, snapshot.PURCHASES):
            built = snapshot.rebuild_if_missing(snapshot.current(), dataset)
            if built is not None:
                print(f"snapshot's {dataset.name} built from the table: {built} rows", flush=True)
        import app as handlers
        from chalicelib.store import streams
        from chalicelib.store.ledger import LedgerEntryModel, PurchaseModel
        from chalicelib.store.members import MemberModel
        from chalicelib.store.wallet import InboxModel
        from scripts import local_scheduler, sqs_local

        local_scheduler.start(stopping)
        # The tables' streams and the queues feed the same handlers' work as Lambda's event
        # sources on AWS: the ledger's into the counters and the rhythm, the members' and the
        # purchases' into the snapshot and the reports, the inbox's (the outbox) onto the push queue.
        queues.create_missing()
        streams.follow(LedgerEntryModel, handlers.ledger_records, stopping)
        streams.follow(MemberModel, handlers.member_records, stopping)
        streams.follow(PurchaseModel, handlers.purchase_records, stopping)
        streams.follow(InboxModel, handlers.inbox_records, stopping)
        sqs_local.follow(queues.PUSH, handlers.push_messages, stopping)
        sqs_local.follow(queues.CONTACTS, handlers.contact_members, stopping)
        sqs_local.follow(queues.WEBHOOKS, handlers.deliver_webhooks, stopping)
        server = dev_server.create(app, args.host, args.port)
        print(
            f"API on http://{args.host}:{args.port}/v1 (DynamoDB Local on {endpoint}, SQS on "
            f"{os.environ['LOYALTY_SQS_ENDPOINT']}, FCM {'local on ' if fcm else 'at '}"
            f"{os.environ.get('LOYALTY_FCM_URL', '')}, data in {data_dir})",
            flush=True,
        )
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        stopping.set()
        if sqs is not None:
            sqs.stop()
        if fcm is not None:
            fcm.shutdown()
        if dynamo is not None:
            dynamodb_local.stop(dynamo)


if __name__ == "__main__":
    main()
