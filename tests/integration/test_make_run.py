"""``make run`` stops everything it started whichever stop signal reaches make's own process
(as a process manager or ``kill <pid>`` sends it), not only a signal to the whole group."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .conftest import ROOT, START_TIMEOUT_S, cmdline, descendants, free_port, is_alive

#: make waits for the server, which stops DynamoDB Local (up to 10 s) before it exits.
STOP_TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory for every start, so only the first one writes the demo data."""
    return tmp_path_factory.mktemp("make_run")


@contextlib.contextmanager
def make_run(data_dir: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    port = free_port()
    make_path = shutil.which("make")
    assert make_path is not None, "make is needed"
    with open(log, "ab") as out:
        make = subprocess.Popen(  # noqa: S603 - our own arguments
            [make_path, "--no-print-directory", "run", f"PORT={port}", f"DATA_DIR={data_dir}"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a group of its own: the test signals make alone, never the group
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert make.poll() is None, f"make run exited with {make.returncode}:\n{log.read_text()}"
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            pytest.fail(f"make run was not healthy within {START_TIMEOUT_S:.0f} s:\n{log.read_text()}")
        yield make
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(make.pid, signal.SIGKILL)
        make.wait()


def ignored_here(signum: signal.Signals) -> bool:
    """Is ``signum`` ignored by this process, so every make it starts inherits that? ``nohup``
    ignores SIGHUP, a shell's background job (``cmd &``) SIGINT: make then never sees them."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) & (1 << (signum - 1)))
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_signal_to_make_alone_stops_everything_make_run_started(
    signum: signal.Signals, data_dir: Path, tmp_path: Path
) -> None:
    if ignored_here(signum):
        pytest.skip(f"{signum.name} is ignored in this process (nohup, or a background job): make inherits that")
    log = tmp_path / "make-run.log"
    with make_run(data_dir, log) as make:
        started = descendants(make.pid)
        names = {pid: cmdline(pid) for pid in started}
        assert any("scripts.serve" in name for name in names.values()), names
        assert any("DynamoDBLocal" in name for name in names.values()), names

        os.kill(make.pid, signum)

        deadline = time.monotonic() + STOP_TIMEOUT_S
        left = dict(names)
        while time.monotonic() < deadline:
            left = {pid: names[pid] for pid, start in started.items() if is_alive(pid, start)}
            if not left and make.poll() is not None:
                break
            time.sleep(0.1)
        assert not left, f"left running {STOP_TIMEOUT_S:.0f} s after {signum.name} to make:\n{left}\n{log.read_text()}"
        assert make.poll() is not None, f"make still running after {signum.name}:\n{log.read_text()}"
        assert "stopping" in log.read_text(), "the server did not stop cleanly"
