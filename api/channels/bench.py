"""`tsunagu bench channels`: N signed LINE webhooks at concurrency C against a running server,
with the acknowledgement latency (p50/p99) and throughput, the bot fast and the bot stalled.

Without --url it runs everything itself: the provider and Rasa stubs (api/channels/stubs.py)
and one API process (`tsunagu serve`, its worker on) on a fresh database (SQLite, or a
temporary PostgreSQL), each a real process. The stalled bot answers after 30 s (longer
than the worker waits), so the worker falls back; acknowledgements must not notice.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from api.pgserver import temporary_postgres

SECRET = "bench-line-secret"
TEXTS = ["母が認知症で心配です", "家賃が払えません", "子どもが学校に行きません", "こんにちは"]


@dataclass(frozen=True)
class Run:
    label: str
    requests: int
    concurrency: int
    seconds: float
    latencies_ms: list[float]
    failures: int

    def to_dict(self) -> dict[str, float | int | str]:
        q = statistics.quantiles(self.latencies_ms, n=100, method="inclusive")
        return {
            "bot": self.label,
            "requests": self.requests,
            "concurrency": self.concurrency,
            "failures": self.failures,
            "acks_per_s": round((self.requests - self.failures) / self.seconds, 1),
            "p50_ms": round(q[49], 1),
            "p99_ms": round(q[98], 1),
        }


def signed(secret: str, n: int) -> tuple[bytes, dict[str, str]]:
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": f"Ubench{n % 50:04d}"},
        "webhookEventId": uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": False},
        "replyToken": uuid.uuid4().hex,
        "message": {"id": str(n), "type": "text", "text": TEXTS[n % len(TEXTS)]},
    }
    body = json.dumps({"destination": "Ubench", "events": [event]}, ensure_ascii=False).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return body, {"content-type": "application/json", "x-line-signature": signature.decode()}


async def _send(url: str, secret: str, requests: int, concurrency: int) -> tuple[list, int, float]:
    latencies: list[float] = []
    failures = 0
    queue = iter(range(requests))

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal failures
        for n in queue:
            body, headers = signed(secret, n)
            start = time.perf_counter()
            try:
                r = await http.post(url, content=body, headers=headers)
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - start) * 1000)
            failures += not ok

    async with httpx.AsyncClient(timeout=30) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        return latencies, failures, time.perf_counter() - start


def measure(label: str, url: str, secret: str, requests: int, concurrency: int) -> Run:
    latencies, failures, seconds = asyncio.run(_send(url, secret, requests, concurrency))
    return Run(label, requests, concurrency, seconds, latencies, failures)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process ended")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


@contextmanager
def _process(cmd: list[str], env: dict[str, str], health: str, log: Path) -> Iterator[None]:
    with log.open("w") as out:
        process = subprocess.Popen(cmd, env=os.environ | env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(health, process)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def _database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "postgresql":
        with temporary_postgres() as url:
            yield url
    else:
        yield f"sqlite:///{workdir / 'bench.db'}"


def run_local(backend: str, requests: int, concurrency: int) -> list[Run]:
    """Stubs + one API process as `make run` starts it (its worker a child process); the
    bot fast, then stalled."""
    tsunagu = str(Path(sys.executable).with_name("tsunagu"))
    with (
        tempfile.TemporaryDirectory(prefix="tsunagu-bench-") as tmp,
        _database(backend, Path(tmp)) as database,
    ):
        workdir = Path(tmp)
        stub_port, api_port = _free_port(), _free_port()
        stub = f"http://127.0.0.1:{stub_port}"
        env = {
            "TSUNAGU_DATABASE_URL": database,
            "TSUNAGU_PORT": str(api_port),
            "TSUNAGU_LINE_CHANNEL_SECRET_ATSUMA": SECRET,
            "TSUNAGU_LINE_CHANNEL_TOKEN_ATSUMA": "bench-token",
            "TSUNAGU_LINE_API_BASE": stub,
            "TSUNAGU_RASA_URL": stub,
            "TSUNAGU_RASA_TIMEOUT_SECONDS": "5",
        }
        api = f"http://127.0.0.1:{api_port}"
        with (
            _process([tsunagu, "stub", "--port", str(stub_port)], {}, f"{stub}/health",
                     workdir / "stub.log"),
            _process([tsunagu, "serve"], env | {"TSUNAGU_CHANNEL_WORKER": "true"},
                     f"{api}/health", workdir / "api.log"),
        ):  # fmt: skip
            url = f"{api}/channels/line/atsuma/webhook"
            measure("warm-up", url, SECRET, 20, 2)
            fast = measure("fast", url, SECRET, requests, concurrency)
            body = {"target": "rasa", "mode": "slow", "delay": 30, "count": -1}
            httpx.post(f"{stub}/_stub/fault", json=body).raise_for_status()
            stalled = measure("stalled", url, SECRET, requests, concurrency)
            return [fast, stalled]
