"""The whole bot for integration tests: the API (uvicorn, SQLite file), the action server and
the Rasa server, each a real process on a free port, started and stopped by the tests.

The model is trained once per test session into var/models (Rasa's cache in .rasa/ makes a
retrain after a data change quick); RASA_TELEMETRY_ENABLED is off.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
TSUNAGU = ROOT / ".venv" / "bin" / "tsunagu"
MODEL = ROOT / "var" / "models" / "tsunagu.tar.gz"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
RASA_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


def run_in_rasa_env(script: str, stdin: str = "") -> dict:
    """Runs a Python script in .venv-rasa; returns the JSON of its last line of output."""
    if not RASA_PYTHON.exists():
        pytest.skip(".venv-rasa is absent (make bot-env builds it)")
    proc = subprocess.run(
        [str(RASA_PYTHON), "-c", script], input=stdin, capture_output=True, text=True,
        cwd=ROOT, env=os.environ | RASA_ENV | {"TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_model() -> Path:
    """Trains domain.yml + data/ + config.yml into var/models/tsunagu.tar.gz."""
    subprocess.run(
        [RASA, "train", "--domain", "domain.yml", "--data", "data", "--config", "config.yml",
         "--out", "var/models", "--fixed-model-name", "tsunagu"],
        cwd=ROOT, env=os.environ | RASA_ENV, check=True, capture_output=True,
    )  # fmt: skip
    return MODEL


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process ended:\n{log.read_text()[-3000:]}")
        with suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer in {seconds} s:\n{log.read_text()[-3000:]}")


@contextmanager
def running(cmd: list, url: str, env: dict, log: Path) -> Iterator[subprocess.Popen]:
    with log.open("w") as out:
        process = subprocess.Popen(
            cmd, cwd=ROOT, env=os.environ | env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for(url, process, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class BotStack:
    rasa_url: str
    api_url: str
    database_url: str
    outbox: Path
    workdir: Path

    def say(self, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        """One resident message through Rasa's REST channel; the bot's answers."""
        body = {"sender": sender, "message": text, "metadata": metadata or {}}
        r = httpx.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
        r.raise_for_status()
        return r.json()


def api_env(database_url: str) -> dict[str, str]:
    return {"TSUNAGU_DATABASE_URL": database_url}


@contextmanager
def bot_stack(workdir: Path, *, api_reachable: bool = True) -> Iterator[BotStack]:
    """API + action server + Rasa server for the tomiya web chat; the API is left out (its
    port stays closed) when ``api_reachable`` is false."""
    database_url = f"sqlite:///{workdir / 'tsunagu.db'}"
    env = api_env(database_url)
    subprocess.run([TSUNAGU, "db", "upgrade"], env=os.environ | env, check=True,
                   capture_output=True)  # fmt: skip
    token = subprocess.run(
        [TSUNAGU, "tokens", "create", "-m", "tomiya", "--label", "bot test"],
        env=os.environ | env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    api_port, action_port, rasa_port = free_port(), free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n')
    credentials = workdir / "credentials.yml"
    credentials.write_text("rest:\n")
    outbox = workdir / "outbox"
    action_env = RASA_ENV | {
        "TSUNAGU_API_URL": api_url,
        "TSUNAGU_BOT_TOKEN": token,
        "TSUNAGU_MUNICIPALITY": "tomiya",
        "TSUNAGU_BOT_OUTBOX": str(outbox),
    }
    rasa_cmd = [RASA, "run", "--model", str(MODEL), "--endpoints", str(endpoints),
                "--credentials", str(credentials), "--port", str(rasa_port),
                "--interface", "127.0.0.1", "--enable-api"]  # fmt: skip
    actions_cmd = [RASA, "run", "actions", "--actions", "actions", "--port", str(action_port)]
    api_cmd = [TSUNAGU, "serve"]
    api_env_full = env | {"TSUNAGU_PORT": str(api_port)}
    with (
        running(api_cmd, f"{api_url}/health", api_env_full, workdir / "api.log")
        if api_reachable
        else nullcontext(),
        running(actions_cmd, f"http://127.0.0.1:{action_port}/health", action_env,
                workdir / "actions.log"),
        running(rasa_cmd, f"http://127.0.0.1:{rasa_port}/status", RASA_ENV | action_env,
                workdir / "rasa.log"),
    ):  # fmt: skip
        yield BotStack(f"http://127.0.0.1:{rasa_port}", api_url, database_url, outbox, workdir)
