"""An API process runs the channel worker as its own child process (api/channels/runtime.py):
started with the API, started again when it dies, gone when the API ends, even by SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from api.db.migrate import upgrade
from tests.botstack import TSUNAGU, free_port, running

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def workers_of(parent: int) -> list[int]:
    """The `python -m api.cli worker` children of a process, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        if ppid == parent and b"api.cli" in cmdline and b"worker" in cmdline:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def until(check: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def api(tmp_path: Path) -> Iterator[subprocess.Popen]:
    database = f"sqlite:///{tmp_path / 'api.db'}"
    upgrade(database)
    port = free_port()
    env = {
        "TSUNAGU_DATABASE_URL": database,
        "TSUNAGU_PORT": str(port),
        "TSUNAGU_CHANNEL_WORKER": "true",  # the default, whatever the tests' environment says
    }
    url = f"http://127.0.0.1:{port}/health"
    with running([str(TSUNAGU), "serve"], url, env, tmp_path / "api.log") as process:
        yield process


def test_the_worker_is_a_child_restarted_when_it_dies_and_stopped_with_the_api(api) -> None:
    assert until(lambda: len(workers_of(api.pid)) == 1)
    (first,) = workers_of(api.pid)

    os.kill(first, signal.SIGKILL)
    assert until(lambda: any(pid != first for pid in workers_of(api.pid)))
    (second,) = workers_of(api.pid)

    api.terminate()
    api.wait(timeout=60)
    assert until(lambda: not alive(second), seconds=10)


def test_a_killed_api_leaves_no_worker_behind(api) -> None:
    assert until(lambda: len(workers_of(api.pid)) == 1)
    (worker,) = workers_of(api.pid)
    api.kill()
    api.wait(timeout=10)
    assert until(lambda: not alive(worker), seconds=10)
