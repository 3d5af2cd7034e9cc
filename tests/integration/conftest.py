"""The real local stack (``python -m scripts.serve``) as a subprocess, spoken to over HTTP."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `scripts.token` must import however pytest was started
    sys.path.insert(0, str(ROOT))

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of a process, or None if there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and parens
    return int(fields[1]), fields[0], int(fields[19])


def descendants(pid: int) -> dict[int, int]:
    """Every live descendant of ``pid`` as {pid: start time} (start time guards against pid reuse)."""
    parents: dict[int, list[int]] = {}
    starts: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat is None:
            continue
        ppid, _, start = stat
        parents.setdefault(ppid, []).append(int(entry.name))
        starts[int(entry.name)] = start
    found: dict[int, int] = {}
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found[child] = starts[child]
                todo.append(child)
    return found


def is_alive(pid: int, start: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[2] == start and stat[1] != "Z"


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class LocalStack:
    """One ``scripts.serve`` process at a time on a fixed port and data directory."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        #: The stack's own FCM v1 endpoint and SQS server, on ports of their own (a developer's
        #: `make run` may hold the defaults).
        self.fcm_url = f"http://127.0.0.1:{free_port()}"
        self.sqs_endpoint = f"http://127.0.0.1:{free_port()}"
        self.env = {
            **os.environ,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "DATA_DIR": str(self.data_dir),
            "LOYALTY_FCM_URL": self.fcm_url,
            "LOYALTY_SQS_ENDPOINT": self.sqs_endpoint,
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    def url(self, path: str) -> str:
        return f"{self.base_url}/v1{path}"

    def log_text(self) -> str:
        parts = []
        for path in [*sorted(self.workdir.glob("serve-*.log")), self.data_dir / "dynamodb-local.log"]:
            if path.exists():
                parts.append(f"----- {path.name} -----\n{path.read_text(errors='replace')}")
        return "\n".join(parts)

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "the stack is already running"
        self.starts += 1
        self.log_path = self.workdir / f"serve-{self.starts}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scripts.serve"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so a failed stop can still clean up the whole group
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._abort()
                pytest.fail(
                    f"scripts.serve exited with {self.process.returncode} before it was healthy:\n{self.log_text()}"
                )
            try:
                response = requests.get(self.url("/health"), timeout=1)
            except requests.RequestException as exc:
                last = repr(exc)
            else:
                if response.status_code == 200 and response.json() == {"status": "ok"}:
                    return
                last = f"{response.status_code} {response.text}"
            time.sleep(0.2)
        self._abort()
        pytest.fail(f"the stack was not healthy within {START_TIMEOUT_S:.0f} s (last: {last}):\n{self.log_text()}")

    def stop(self) -> None:
        """SIGTERM; the process must exit cleanly in time and leave no descendant behind."""
        process = self.process
        assert process is not None, "the stack was never started"
        assert process.poll() is None, "the stack is not running"
        children = descendants(process.pid)
        names = {pid: cmdline(pid) for pid in children}
        assert any("DynamoDBLocal" in name for name in names.values()), f"no DynamoDB Local child: {names}"
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._abort()
            pytest.fail(f"scripts.serve did not exit within {STOP_TIMEOUT_S:.0f} s of SIGTERM:\n{self.log_text()}")
        self._close_log()
        deadline = time.monotonic() + 5
        left = {pid: names[pid] for pid, start in children.items() if is_alive(pid, start)}
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = {pid: names[pid] for pid, start in children.items() if is_alive(pid, start)}
        assert not left, f"processes left behind after SIGTERM: {left}"
        assert returncode == 0, f"scripts.serve exited with {returncode}:\n{self.log_text()}"

    def close(self) -> None:
        """Teardown: stop if still running, and never leave anything behind even after a failure."""
        if self.process is not None and self.process.poll() is None:
            try:
                self.stop()
            finally:
                self._abort()
        self._close_log()

    def _abort(self) -> None:
        process = self.process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A running local stack shared by a module's tests; a test may stop and restart it."""
    local = LocalStack(tmp_path_factory.mktemp("local_stack"))
    local.start()
    try:
        yield local
    finally:
        local.close()


@pytest.fixture
def running(stack: LocalStack) -> LocalStack:
    """The module's stack, started again if an earlier test left it stopped."""
    if stack.process is None or stack.process.poll() is not None:
        stack.start()
    return stack
