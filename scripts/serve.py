"""The whole local stack in one foreground process: DynamoDB Local, tables, demo data and the API.

    PORT=8000 DATA_DIR=.data python -m scripts.serve      (make run)

Ctrl-C or SIGTERM stops everything it started; the data stays in DATA_DIR for the next run.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from scripts import dynamodb_local


def configure_environment(endpoint: str) -> None:
    """The settings the app reads, pointing it at the local DynamoDB (set before importing it)."""
    os.environ["LOYALTY_STAGE"] = "local"
    os.environ["LOYALTY_DYNAMODB_ENDPOINT"] = endpoint
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--data-dir", default=os.environ.get("DATA_DIR", ".data"))
    parser.add_argument("--no-seed", action="store_true", help="do not write the demo data")
    args = parser.parse_args()

    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        dynamo, endpoint = dynamodb_local.start(data_dir)
    except dynamodb_local.LocalStackError as exc:
        sys.exit(f"make run: {exc}")
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        configure_environment(endpoint)
        from chalice.config import Config
        from chalice.local import ChaliceRequestHandler, ThreadedHTTPServer

        from scripts.local_gateway import local_server

        # The dev server writes headers and body separately: without TCP_NODELAY, Nagle and the
        # client's delayed ACK add ~40 ms to every kept-alive request. And a deeper listen queue
        # than socketserver's 5, so a burst of tills is queued rather than refused.
        ChaliceRequestHandler.disable_nagle_algorithm = True
        ThreadedHTTPServer.request_queue_size = 128

        from app import app
        from scripts import seed

        if args.no_seed:
            from chalicelib.store import tables

            tables.create_missing_tables()
        else:
            for key, value in seed.seed().items():
                print(f"seed {key}: {value}", flush=True)
        from chalicelib.domain.clock import system_clock
        from chalicelib.services import reports
        from chalicelib.store import streams
        from chalicelib.store.ledger import LedgerEntryModel
        from scripts import local_scheduler

        local_scheduler.start(stopping)
        streams.follow(
            LedgerEntryModel,
            lambda records: reports.on_ledger_records(
                ((r["eventName"], r["dynamodb"].get("NewImage")) for r in records), clock=system_clock
            ),
            stopping,
        )
        server = local_server(app, Config.create(chalice_stage="dev", app_name="loyalty"), args.host, args.port)
        print(
            f"API on http://{args.host}:{args.port}/v1 (DynamoDB Local on {endpoint}, data in {data_dir})", flush=True
        )
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        stopping.set()
        dynamodb_local.stop(dynamo)


if __name__ == "__main__":
    main()
