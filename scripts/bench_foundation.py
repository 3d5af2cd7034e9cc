"""Figures for the foundation: cold import, DynamoDB requests per call, HTTP latency.

    python -m scripts.bench_foundation                          (make bench)
    python -m scripts.bench_foundation --requests 200 --threads 4

1. ``import app`` in N fresh interpreters (timed inside the child, so start-up is excluded),
   plus the whole process's wall time and where the import time goes (``-X importtime``).
2. (The Lambda packages, their sizes and each one's cold import, as AWS runs them: ``make package``.)
3. DynamoDB requests per call of ``POST /v1/me``, ``GET /v1/me`` and ``GET /v1/cards/{code}``,
   in-process on DynamoDB Local, on a warm process (one warm-up call of each kind first).
4. Latency and throughput of ``GET /v1/me`` over HTTP on ``python -m scripts.serve``, from one
   thread and then from several, on kept-alive connections and on a new connection per request.

Everything runs on 127.0.0.1 in temporary directories; Ctrl-C or SIGTERM cleans up children
and files. Progress goes to stdout as it happens, the table of figures comes last.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from unittest import mock
from urllib.parse import quote

from scripts import dynamodb_local, serve

ROOT = dynamodb_local.ROOT
MIB = 1024 * 1024

#: A placeholder endpoint for children that only import the app (nothing listens there).
NO_ENDPOINT = "http://127.0.0.1:9"
IMPORT_CHILD = "import time\nt = time.perf_counter()\nimport app\nprint('bench-import-s', time.perf_counter() - t)\n"

BENCH_SUB = "bench-user"
BENCH_PHONE = "0151 99988877"
CASHIER_SUB = "demo-cashier-mitte"
CASHIER_MERCHANT = "m_kiez"

HTTP_TIMEOUT_S = 10.0
SERVER_START_TIMEOUT_S = 120.0
SERVER_STOP_TIMEOUT_S = 30.0
#: Warm-up requests per client thread before each HTTP run (the first concurrent burst is slow:
#: new server threads, new connections to DynamoDB Local, the JVM warming up).
HTTP_WARMUP_REQUESTS = 20


class BenchError(RuntimeError):
    """A measurement could not be taken; the message says why."""


def progress(message: str) -> None:
    print(message, flush=True)


@dataclass
class Report:
    """The figures gathered so far, as (section, label, value) rows, and notes for the end."""

    title: str = "Foundation figures"
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Top-level packages ``import app`` imported from the venv (phase 1), for phase 2's comparison.
    imported_packages: set[str] = field(default_factory=set)

    def add(self, section: str, label: str, value: str) -> None:
        self.rows.append((section, label, value))

    def render(self) -> str:
        width = max((len(label) for _, label, _ in self.rows), default=10)
        lines = ["", "=" * (width + 60), self.title, "=" * (width + 60)]
        if not self.rows:
            lines.append("  (no figures)")
        section = None
        for sec, label, value in self.rows:
            if sec != section:
                lines.append(f"-- {sec}")
                section = sec
            lines.append(f"  {label:<{width}}  {value}")
        if self.notes:
            lines.append("-- notes")
            lines.extend(f"  * {note}" for note in self.notes)
        return "\n".join(lines)


def local_env(endpoint: str, base: dict[str, str]) -> dict[str, str]:
    """``base`` with the settings ``scripts.serve.configure_environment`` would make (os.environ untouched)."""
    with mock.patch.dict(os.environ, base, clear=True):
        serve.configure_environment(endpoint)
        return dict(os.environ)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


# --- 1. cold import ---------------------------------------------------------------------------


def import_runs(
    runs: int, env: dict[str, str], cwd: Path, python_flags: tuple[str, ...] = ()
) -> tuple[list[float], list[float]]:
    """(in-child import seconds, whole-process seconds) of ``runs`` fresh ``import app``."""
    inner: list[float] = []
    wall: list[float] = []
    for i in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, *python_flags, "-c", IMPORT_CHILD],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        wall.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise BenchError(f"`import app` failed: {done.stderr.strip().splitlines()[-1:]}")
        line = next((x for x in done.stdout.splitlines() if x.startswith("bench-import-s ")), None)
        if line is None:
            raise BenchError(f"the child printed no timing: {done.stdout!r}")
        inner.append(float(line.split()[1]))
        progress(f"  run {i + 1}/{runs}: import {ms(inner[-1])}, whole process {ms(wall[-1])}")
    return inner, wall


def spread(values: list[float]) -> str:
    return f"median {ms(statistics.median(values))}  (min {ms(min(values))}, max {ms(max(values))})"


def measure_import(report: Report, runs: int, env: dict[str, str]) -> None:
    progress(f"[import] `import app` in {runs} fresh interpreters (repo root, this venv)")
    inner, wall = import_runs(runs, env, ROOT)
    section = "cold import of `app` (repo root, this venv)"
    report.add(section, f"import app (in child, n={runs})", spread(inner))
    report.add(section, 'python -c "import app" wall', spread(wall))
    try:
        top, imported = import_breakdown(env)
    except (BenchError, subprocess.SubprocessError, ValueError) as exc:
        progress(f"  (no -X importtime breakdown: {exc})")
        return
    report.imported_packages = imported
    report.add(
        section, "self time by package (1 run)", ", ".join(f"{name} {us / 1000:.0f}" for name, us in top) + " ms"
    )


IMPORTTIME_CHILD = (
    "import sys\nbefore = set(sys.modules)\nimport app\n"
    "print('bench-modules', ' '.join(sorted(set(sys.modules) - before)))\n"
)


def import_breakdown(env: dict[str, str], top: int = 6) -> tuple[list[tuple[str, int]], set[str]]:
    """Microseconds of import self time per top-level package, and every non-stdlib top-level
    package ``import app`` imported (failed optional imports, which -X importtime also lists, left out)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", IMPORTTIME_CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("bench-modules")), None)
    if done.returncode != 0 or line is None:
        raise BenchError("the -X importtime run failed")
    loaded = set(line.split()[1:])
    by_package: Counter[str] = Counter()
    for row in done.stderr.splitlines():
        if not row.startswith("import time:") or "self [us]" in row:
            continue
        self_us, _cumulative, name = row.split(":", 1)[1].split("|")
        if name.strip() in loaded:
            by_package[name.strip().split(".")[0]] += int(self_us)
    tops = {name.split(".")[0] for name in loaded}
    imported = {name for name in tops if name not in sys.stdlib_module_names and not name.startswith("_")}
    return by_package.most_common(top), imported


# --- 2. Lambda package --------------------------------------------------------------------------


# --- 3. DynamoDB requests per call --------------------------------------------------------------


@dataclass
class ApiCall:
    operation: str
    capacity: float | None
    items: int = 1
    #: Items the call returned (a read's cost grows with them).
    read: int = 0


def items_read(response: Any) -> int:
    if not isinstance(response, dict):
        return 0
    if "Item" in response:
        return 1
    if "Count" in response:
        return int(response["Count"])
    return sum(len(found) for found in (response.get("Responses") or {}).values())


def capacity(response: Any) -> float | None:
    consumed = response.get("ConsumedCapacity") if isinstance(response, dict) else None
    if isinstance(consumed, dict):
        consumed = [consumed]
    if not consumed:
        return None
    return float(sum(c.get("CapacityUnits", 0.0) for c in consumed))


class DynamoCounter:
    """Counts the dynamodb service's botocore API calls while :meth:`measure` is active."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self._active = False

    @contextmanager
    def installed(self) -> Iterator[None]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        counter = self

        def counting(client: Any, operation_name: str, api_params: Any) -> Any:
            if not counter._active or client.meta.service_model.service_name != "dynamodb":
                return original(client, operation_name, api_params)
            items = (len(api_params.get("TransactItems") or ()) or 1) if isinstance(api_params, dict) else 1
            try:
                response = original(client, operation_name, api_params)
            except BaseException:
                counter.calls.append(ApiCall(operation_name, None, items))
                raise
            counter.calls.append(ApiCall(operation_name, capacity(response), items, items_read(response)))
            return response

        BaseClient._make_api_call = counting  # type: ignore[method-assign]
        try:
            yield
        finally:
            BaseClient._make_api_call = original  # type: ignore[method-assign]

    @contextmanager
    def measure(self) -> Iterator[list[ApiCall]]:
        calls: list[ApiCall] = []
        self.calls = calls
        self._active = True
        try:
            yield calls
        finally:
            self._active = False


def ops(calls: list[ApiCall]) -> str:
    if not calls:
        return "none"
    ops = Counter(c.operation for c in calls)
    items = Counter({c.operation: c.items for c in calls if c.items > 1})
    return ", ".join(f"{op} x{n}" + (f" ({items[op]} items)" if op in items else "") for op, n in ops.items())


def _cu(calls: list[ApiCall]) -> str:
    known = [c.capacity for c in calls if c.capacity is not None]
    return f"{sum(known):g} CU (DynamoDB Local's count)" if known else "CU n/a"


@contextmanager
def seeded_with_local_sqs() -> Iterator[None]:
    """The fan-out benchmarks' ground, inside ``measure_requests``: moto's SQS server on a free
    port, the demo data and the queues; the app's log lines kept out of the progress lines."""
    import structlog

    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=open(os.devnull, "w")))  # noqa: SIM115
    from chalicelib import queues
    from scripts import seed, sqs_local

    os.environ["LOYALTY_SQS_ENDPOINT"] = f"http://127.0.0.1:{dynamodb_local.free_port()}"
    server = sqs_local.start_server(os.environ["LOYALTY_SQS_ENDPOINT"])
    try:
        queues.reset_clients()
        seed.seed()
        queues.create_missing()
        yield
    finally:
        server.stop()


def measure_requests(report: Report, samples: int, measure: Callable[[Report, int, str], None] | None = None) -> None:
    """Run ``measure(report, samples, endpoint)`` in this process against a fresh DynamoDB Local,
    with the app's environment pointing at it (set before the app is first imported)."""
    if any(name == "app" or name.startswith("chalicelib") for name in sys.modules):
        raise BenchError("the app was imported before its environment was set")
    with tempfile.TemporaryDirectory(prefix="bench-dynamo-") as tmp:
        progress("[requests] starting DynamoDB Local ...")
        dynamo, endpoint = dynamodb_local.start(Path(tmp))
        try:
            serve.configure_environment(endpoint)
            (measure or _measure_requests)(report, samples, endpoint)
        finally:
            dynamodb_local.stop(dynamo)


def _measure_requests(report: Report, samples: int, endpoint: str) -> None:
    import structlog
    from chalice.test import Client

    from app import app
    from scripts import seed
    from scripts.token import mint

    # The access log would print a JSON line per call among the progress lines.
    devnull = open(os.devnull, "w")  # noqa: SIM115 - closed below
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=devnull))
    try:
        progress(f"  DynamoDB Local on {endpoint}; creating tables and seeding ...")
        for key, value in seed.seed().items():
            progress(f"  seed {key}: {value}")
        counter = DynamoCounter()
        cashier = {"Authorization": f"Bearer {mint(CASHIER_SUB, ['cashier'], merchant_id=CASHIER_MERCHANT)}"}

        def customer(sub: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {mint(sub, ['customer'])}", "Content-Type": "application/json"}

        def join_body(phone: str) -> str:
            return json.dumps(
                {"name": "Bench User", "phone": phone, "birthday": "1990-01-01", "marketing_consent": True}
            )

        with counter.installed(), Client(app, project_dir=str(ROOT)) as client:
            http = client.http

            def checked(label: str, call: Callable[[], Any], status: int) -> tuple[Any, list[ApiCall], float]:
                with counter.measure() as calls:
                    began = time.perf_counter()
                    response = call()
                    took = time.perf_counter() - began
                if response.status_code != status:
                    raise BenchError(f"{label}: {response.status_code} {response.body[:300]!r}")
                return response, calls, took

            def kind(label: str, calls: list[Callable[[], Any]], status: int) -> None:
                """One warm-up call (reported apart), then the measured ones."""
                _, warmup, _ = checked(label, calls[0], status)
                results = [checked(label, call, status) for call in calls[1:]]
                measured = [r[1] for r in results]
                counts = [len(m) for m in measured]
                shapes = Counter(ops(m) for m in measured)
                extremes = f" (min {min(counts)}, max {max(counts)})" if min(counts) != max(counts) else ""
                shape = shapes.most_common(1)[0][0] + (" (varies)" if len(shapes) > 1 else "")
                first = "same" if ops(warmup) == shape else ops(warmup)
                value = (
                    f"{statistics.mean(counts):g} req/call{extremes}: {shape} | {_cu(measured[0])}"
                    f" | {ms(statistics.median(r[2] for r in results))} in-process | warm-up call: {first}"
                )
                report.add("DynamoDB requests per call (warm process, in-process on DynamoDB Local)", label, value)
                tx_items = sum(c.items for c in measured[0] if c.operation == "TransactWriteItems")
                if tx_items:
                    report.notes.append(
                        f"{label}: DynamoDB Local counts a transaction as 2 CU per table; on AWS its {tx_items} items"
                        f" cost at least {2 * tx_items} WCU (2 per item per KB)"
                    )
                progress(f"  {label}: {value}")

            # POST /v1/me: a warm-up join and `samples` measured ones, each a new member.
            joins: list[Callable[[], Any]] = []
            members = [("bench-warmup", "0151 99988800"), (BENCH_SUB, BENCH_PHONE)]
            members += [(f"{BENCH_SUB}-{i}", f"0151 999889{i:02d}") for i in range(1, samples)]
            for sub, phone in members:
                joins.append(
                    lambda sub=sub, phone=phone: http.post("/v1/me", headers=customer(sub), body=join_body(phone))
                )
            progress(f"  measuring {samples} calls of each kind after one warm-up ...")
            kind("POST /v1/me (join)", joins, 201)

            me = customer(BENCH_SUB)
            kind("GET /v1/me", [lambda: http.get("/v1/me", headers=me)] * (samples + 1), 200)

            card = json.loads(http.get("/v1/me/card", headers=me).body)
            by_number = "/v1/cards/" + quote(card["card_number"], safe="")
            kind("GET /v1/cards/{card number}", [lambda: http.get(by_number, headers=cashier)] * (samples + 1), 200)
            # A fresh QR payload per call, as a till would scan (each valid for minutes).
            qr_paths = []
            for _ in range(samples + 1):
                qr = json.loads(http.get("/v1/me/card", headers=me).body)["qr_payload"]
                qr_paths.append("/v1/cards/" + quote(qr, safe=""))
            kind(
                "GET /v1/cards/{QR payload}",
                [lambda path=path: http.get(path, headers=cashier) for path in qr_paths],
                200,
            )
            by_phone = "/v1/cards/" + quote(BENCH_PHONE, safe="")
            kind("GET /v1/cards/{phone} (extra)", [lambda: http.get(by_phone, headers=cashier)] * (samples + 1), 200)
    finally:
        structlog.configure(logger_factory=structlog.PrintLoggerFactory())
        devnull.close()


# --- 4. HTTP latency ----------------------------------------------------------------------------


@dataclass
class LoadResult:
    latencies: list[float]
    wall_s: float
    errors: Counter[str]


def run_load(url: str, headers: dict[str, str], total: int, threads: int, *, reconnect: bool = False) -> LoadResult:
    """``total`` GETs of ``url`` split over ``threads`` threads, each with its own session.

    ``reconnect`` closes the session's connection after every response (untimed), so each request
    pays for a new TCP connection instead of reusing a kept-alive one.
    """
    import requests

    shares = [total // threads + (1 if i < total % threads else 0) for i in range(threads)]
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def worker(count: int) -> None:
        mine: list[float] = []
        bad: Counter[str] = Counter()
        with requests.Session() as session:
            session.headers.update(headers)
            try:
                start.wait()
            except threading.BrokenBarrierError:
                return
            for _ in range(count):
                if stop.is_set():
                    break
                began = time.perf_counter()
                try:
                    response = session.get(url, timeout=HTTP_TIMEOUT_S)
                except requests.RequestException as exc:
                    bad[type(exc).__name__] += 1
                    continue
                mine.append(time.perf_counter() - began)
                if response.status_code != 200:
                    bad[str(response.status_code)] += 1
                if reconnect:
                    session.close()
        with lock:
            latencies.extend(mine)
            errors.update(bad)

    workers = [threading.Thread(target=worker, args=(n,), daemon=True) for n in shares]
    for w in workers:
        w.start()
    try:
        start.wait()
        began = time.perf_counter()
        for w in workers:
            w.join()
        wall = time.perf_counter() - began
    except BaseException:
        stop.set()
        start.abort()
        raise
    return LoadResult(sorted(latencies), wall, errors)


class Server:
    """``python -m scripts.serve`` as a child in its own session, dying with us if we are killed."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.port = dynamodb_local.free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "serve.log"
        data_dir = workdir / "data"
        self._env = {
            **env,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATA_DIR": str(data_dir),
            "PYTHONUNBUFFERED": "1",
        }
        self._args = [
            sys.executable,
            "-m",
            "scripts.serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(data_dir),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def handler_seconds(self, offset: int, method: str, route: str) -> list[float]:
        """The access log's durations of ``method route`` written after ``offset``, in seconds."""
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        found = []
        for line in text.splitlines():
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == "request" and entry.get("method") == method and entry.get("route") == route:
                found.append(float(entry["duration_ms"]) / 1000)
        return found

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self._args,
                cwd=ROOT,
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches only us; we stop it with SIGTERM
                preexec_fn=dynamodb_local.die_with_parent,
            )

    def wait_healthy(self) -> float:
        import requests

        assert self.process is not None
        started = time.perf_counter()
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"scripts.serve exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                response = requests.get(f"{self.base_url}/v1/health", timeout=1)
            except requests.RequestException as exc:
                last = type(exc).__name__
            else:
                if response.status_code == 200:
                    return time.perf_counter() - started
                last = f"{response.status_code} {response.text[:200]}"
            time.sleep(0.2)
        raise BenchError(f"scripts.serve was not healthy within {SERVER_START_TIMEOUT_S:.0f} s ({last})")

    def stop_and_report(self, report: Report) -> None:
        """Stop it, noting in the report if it did not exit cleanly on SIGTERM."""
        progress("  stopping scripts.serve (SIGTERM) ...")
        code = self.stop()
        if code not in (0, None):
            report.notes.append(f"http: scripts.serve exited with {code} after SIGTERM")
            progress(f"  scripts.serve exited with {code}:\n{self.log_tail()}")

    def stop(self) -> int | None:
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=SERVER_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                progress(f"  scripts.serve ignored SIGTERM for {SERVER_STOP_TIMEOUT_S:.0f} s; killing its group")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        return process.returncode


def measure_http(report: Report, total: int, threads: int, base_env: dict[str, str]) -> None:
    import requests

    from chalicelib.config import from_environ
    from scripts.token import mint

    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        server = Server(Path(tmp), base_env)
        progress(f"[http] starting python -m scripts.serve on 127.0.0.1:{server.port} ...")
        server.start()
        try:
            progress(f"  healthy after {server.wait_healthy():.1f} s")
            # The token the server will accept: its settings are ours plus configure_environment's.
            secret = from_environ(local_env(NO_ENDPOINT, base_env)).dev_jwt_secret
            headers = {"Authorization": f"Bearer {mint(BENCH_SUB, ['customer'], secret=secret)}"}
            body = {"name": "Bench User", "phone": BENCH_PHONE, "birthday": "1990-01-01", "marketing_consent": True}
            joined = requests.post(f"{server.base_url}/v1/me", json=body, headers=headers, timeout=HTTP_TIMEOUT_S)
            if joined.status_code != 201:
                raise BenchError(f"join failed: {joined.status_code} {joined.text[:300]}")
            url = f"{server.base_url}/v1/me"
            section = (
                f"GET /v1/me over HTTP (scripts.serve; {total} requests, after {HTTP_WARMUP_REQUESTS} per thread"
                " to warm up)"
            )
            # Keep-alive sessions are what real clients do; a new connection per request sidesteps the
            # dev server's Nagle / delayed-ACK stall on kept-alive connections (see the notes).
            for mode, reconnect in (("keep-alive", False), ("new connection", True)):
                for n_threads in dict.fromkeys((1, threads)):
                    label = f"{n_threads} thread{'s' if n_threads > 1 else ''}, {mode}"
                    progress(f"  {total} requests, {label} ...")
                    run_load(url, headers, HTTP_WARMUP_REQUESTS * n_threads, n_threads, reconnect=reconnect)
                    offset = server.log_size()
                    result = run_load(url, headers, total, n_threads, reconnect=reconnect)
                    lat = result.latencies
                    if not lat:
                        raise BenchError(f"no request succeeded: {dict(result.errors)}")
                    value = (
                        f"p50 {ms(percentile(lat, 50))}  p95 {ms(percentile(lat, 95))}  p99 {ms(percentile(lat, 99))}"
                        f"  {len(lat) / result.wall_s:.0f} req/s"
                    )
                    handler = sorted(server.handler_seconds(offset, "GET", "/v1/me"))
                    if handler:
                        value += f"  | in the app p50 {ms(percentile(handler, 50))} p95 {ms(percentile(handler, 95))}"
                    if result.errors:
                        value += f"  ERRORS {dict(result.errors)}"
                        report.notes.append(f"http: {label} saw errors {dict(result.errors)}")
                    progress(f"    {value}")
                    report.add(section, label, value)
            report.notes.append(
                "http: 'in the app' is the access log's duration_ms (middleware to response), the rest of the"
                " latency is the Chalice dev server and the client; 2 cores are shared by client, server and Java"
            )
        finally:
            server.stop_and_report(report)


# --- main ---------------------------------------------------------------------------------------


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=positive, default=7, help="fresh interpreters for the import time (7)")
    parser.add_argument(
        "--samples", type=positive, default=5, help="measured calls per kind for the request counts (5)"
    )
    parser.add_argument("--requests", type=positive, default=500, help="GET /v1/me requests per HTTP run (500)")
    parser.add_argument("--threads", type=positive, default=8, help="threads of the second HTTP run (8)")
    parser.add_argument("--skip-import", action="store_true", help="do not measure the import time")
    parser.add_argument("--skip-counts", action="store_true", help="do not count DynamoDB requests")
    parser.add_argument("--skip-http", action="store_true", help="do not measure HTTP latency")
    args = parser.parse_args()

    def interrupted(signum: int, frame: FrameType | None) -> None:
        # Once: a second Ctrl-C must not cut the clean-up short (its waits are all bounded).
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupted)
    base_env = dict(os.environ)
    report = Report()
    phases: list[tuple[str, bool, Callable[[], None]]] = [
        ("import", args.skip_import, lambda: measure_import(report, args.runs, local_env(NO_ENDPOINT, base_env))),
        ("requests", args.skip_counts, lambda: measure_requests(report, args.samples)),
        ("http", args.skip_http, lambda: measure_http(report, args.requests, args.threads, base_env)),
    ]
    run_phases(report, phases)


def run_phases(report: Report, phases: list[tuple[str, bool, Callable[[], None]]]) -> None:
    """Run each phase not skipped, report a failed one and go on, print the table; exit 1 if any
    failed, 130 on Ctrl-C (after printing what was measured)."""
    started = time.perf_counter()
    failed = False
    try:
        for name, skipped, run in phases:
            if skipped:
                progress(f"[{name}] skipped")
                continue
            phase_started = time.perf_counter()
            try:
                run()
            except (BenchError, dynamodb_local.LocalStackError, OSError, subprocess.SubprocessError) as exc:
                failed = True
                progress(f"[{name}] FAILED: {exc}")
                report.add(name, "FAILED", str(exc).splitlines()[0])
            progress(f"[{name}] done in {time.perf_counter() - phase_started:.1f} s")
    except KeyboardInterrupt:
        progress("interrupted; children and temporary files are cleaned up")
        print(report.render(), flush=True)
        sys.exit(130)
    report.notes.append(f"the whole run took {time.perf_counter() - started:.0f} s")
    print(report.render(), flush=True)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
