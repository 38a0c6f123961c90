"""Consultations created per second, with p50/p99 latency, on SQLite and PostgreSQL.

Each backend gets a fresh database, a real API server (uvicorn, one process, as
`tsunagu serve` runs it) and the same intakes: corpus texts posted by a bot token from
several client threads over HTTP. PostgreSQL is a temporary local server (api.pgserver).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from api.db.migrate import upgrade
from api.db.session import engine_for
from api.pgserver import temporary_postgres
from api.security import issue_token

SHOWN = "あなたの そうだんを たんとうの まどぐちに つたえても いいですか"


@dataclass(frozen=True, slots=True)
class IntakeBench:
    backend: str
    requests: int
    concurrency: int
    seconds: float
    latencies_ms: list[float]
    failures: int

    @property
    def per_second(self) -> float:
        return (self.requests - self.failures) / self.seconds

    def percentile(self, p: float) -> float:
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(p) - 1]

    def to_dict(self) -> dict[str, float | int | str]:
        return {
            "backend": self.backend,
            "requests": self.requests,
            "concurrency": self.concurrency,
            "failures": self.failures,
            "consultations_per_s": round(self.per_second, 1),
            "p50_ms": round(self.percentile(50), 1),
            "p99_ms": round(self.percentile(99), 1),
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _server(database_url: str) -> Iterator[str]:
    port = _free_port()
    env = os.environ | {"TSUNAGU_DATABASE_URL": database_url, "TSUNAGU_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:app", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"API server did not start: {process.stderr.read()[-2000:]!r}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def _bot_token(database_url: str, municipality: str) -> str:
    with Session(engine_for(database_url)) as db:
        token, _ = issue_token(db, role="bot", municipality=municipality, label="bench")
        db.commit()
    return token


def measure(
    backend: str,
    database_url: str,
    texts: list[str],
    *,
    municipality: str,
    concurrency: int,
    on_done: Callable[[], None] = lambda: None,
) -> IntakeBench:
    upgrade(database_url)
    headers = {"Authorization": f"Bearer {_bot_token(database_url, municipality)}"}
    with _server(database_url) as base, httpx.Client(base_url=base, timeout=60) as http:

        def post(i: int) -> tuple[float, bool]:
            body = {
                "municipality": municipality,
                "channel": "line",
                "channel_user_id": f"bench-{i % 500}",
                "text": texts[i % len(texts)],
                "consent": {"share_with_bodies": True, "shown_text": SHOWN, "captured_via": "line"},
            }
            started = time.perf_counter()
            response = http.post("/api/v1/consultations", json=body, headers=headers)
            on_done()
            return (time.perf_counter() - started) * 1000, response.status_code == 201

        post(0)  # warm-up: rules loaded, connections open
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            results = list(pool.map(post, range(1, len(texts) + 1)))
        seconds = time.perf_counter() - started
    return IntakeBench(
        backend=backend,
        requests=len(results),
        concurrency=concurrency,
        seconds=seconds,
        latencies_ms=[ms for ms, _ in results],
        failures=sum(not ok for _, ok in results),
    )


def run_both(
    texts: list[str], *, municipality: str, concurrency: int, on_done: Callable[[], None]
) -> list[IntakeBench]:
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = measure(
            "sqlite",
            f"sqlite:///{Path(tmp) / 'bench.db'}",
            texts,
            municipality=municipality,
            concurrency=concurrency,
            on_done=on_done,
        )
    with temporary_postgres() as url:
        postgres = measure(
            "postgresql",
            url,
            texts,
            municipality=municipality,
            concurrency=concurrency,
            on_done=on_done,
        )
    return [sqlite, postgres]
