"""Runs the worker and the outbox delivery as threads: inside each API process (the FastAPI
lifespan, unless TSUNAGU_CHANNEL_WORKER=false) and in `tsunagu worker`."""

from __future__ import annotations

import logging
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
    # The worker threads are CPU-bound (triage in pure Python); a shorter GIL switch interval
    # (default 5 ms) lets this process's webhooks acknowledge between their slices.
    sys.setswitchinterval(0.001)
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
