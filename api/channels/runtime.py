"""Runs the worker and the outbox delivery: as threads in `tsunagu worker` (start), which each
API process also runs as its own child process (spawn; the FastAPI lifespan, unless
TSUNAGU_CHANNEL_WORKER=false)."""

from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

from api.channels.delivery import Deliverer
from api.channels.worker import Worker
from api.settings import Settings, get_settings
from routing_rules import municipality_ids, triage

log = logging.getLogger(__name__)


def start(settings: Settings | None = None, threads: int | None = None) -> Callable[[], None]:
    """Starts the loops; returns the function that stops them (and waits for them)."""
    settings = settings or get_settings()
    triage("準備", next(iter(sorted(municipality_ids()))))  # load the rules and dictionary now
    stop = threading.Event()
    loops: list[Worker | Deliverer] = [
        Worker(settings) for _ in range(threads or settings.worker_threads)
    ]
    loops.append(Deliverer(settings, settings.delivery_backoff_seconds))
    running = [
        threading.Thread(target=loop.run, args=(stop,), name=f"channels-{i}", daemon=True)
        for i, loop in enumerate(loops)
    ]
    for thread in running:
        thread.start()
    log.info("channels: %d worker threads and delivery started", len(loops) - 1)

    def halt() -> None:
        stop.set()
        for thread in running:
            thread.join(timeout=settings.rasa_timeout_seconds + 5)
        for loop in loops:
            loop.close()

    return halt


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM when the thread that started it dies, even by SIGKILL,
    # so a killed API process leaves no worker behind.
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def spawn(settings: Settings | None = None) -> Callable[[], None]:
    """Runs `tsunagu worker` as a child of this API process, started again if it ends; returns
    the function that stops it. In its own process the worker's CPU-bound triage never holds
    this process's interpreter while webhooks wait for their acknowledgement."""
    settings = settings or get_settings()
    lock = threading.Lock()
    stopping = threading.Event()
    current: list[subprocess.Popen[bytes]] = []

    def supervise() -> None:
        while True:
            with lock:
                if stopping.is_set():
                    return
                process = subprocess.Popen(
                    [sys.executable, "-m", "api.cli", "worker"],
                    preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                )
                current[:] = [process]
            code = process.wait()
            if stopping.is_set():
                return
            log.warning("channels: the worker process ended (exit %s); starting it again", code)
            if stopping.wait(2):
                return

    supervisor = threading.Thread(target=supervise, name="channels-supervisor", daemon=True)
    supervisor.start()

    def halt() -> None:
        with lock:
            stopping.set()
        for process in current:
            process.terminate()
            try:
                process.wait(timeout=settings.rasa_timeout_seconds + 10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        supervisor.join(timeout=5)

    return halt
