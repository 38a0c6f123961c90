"""Fault tests on PostgreSQL, with real processes: two API processes (acknowledging only),
`tsunagu worker` processes, the provider stubs and a Rasa stub. While signed LINE events
(each delivered 1 to 5 times, shuffled) and SMS arrive: a worker is killed with SIGKILL in
the middle of messages, the database restarts, Rasa stops and comes back, LINE and Twilio
fail with 5xx and 429. After recovery: every acknowledged message processed, none lost,
no consultation twice, no answer sent twice (counted by reply token, retry key and
idempotency token at the stubs), and Rasa never saw two messages of one sender at once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx
import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api.db.migrate import upgrade
from api.db.models import Consultation, InboundMessage, OutboundMessage
from api.db.session import engine_for
from api.pgserver import SYSTEM_USER, find_postgres_bin
from tests.botstack import ROOT, TSUNAGU, free_port, wait_for
from tests.channels import (
    PUBLIC_BASE,
    channel_env,
    line_headers,
    line_payload,
    sms_params,
    stub_fault,
    stub_state,
    text_event,
    twilio_signature,
)

USERS, TURNS, SMS_USERS = 12, 4, 4


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    return (
        f"host={parsed.host} port={parsed.port} user={parsed.username} "
        f"dbname={database or parsed.database}"
    )


@pytest.fixture
def fault_db(postgres_server: str) -> Iterator[str]:
    name = f"faults_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_dsn(postgres_server, "postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = str(make_url(postgres_server).set(database=name))
    upgrade(url)
    yield url
    engine_for(url).dispose()


def restart_postgres(url: str) -> None:
    """pg_ctl restart (fast): every connection is cut, the server is down for a moment."""
    with psycopg.connect(_dsn(url)) as conn:
        data = Path(conn.execute("SHOW data_directory").fetchone()[0])
    _, pg_ctl = find_postgres_bin()
    prefix = ["runuser", "-u", SYSTEM_USER, "--"] if os.geteuid() == 0 else []
    cmd = [pg_ctl, "-D", str(data), "-l", str(data.parent / "server.log"), "-m", "fast", "-w",
           "restart"]  # fmt: skip
    subprocess.run(prefix + cmd, cwd=data.parent, check=True, capture_output=True, timeout=60)


class Proc:
    """A process of ours, started and stopped by the test."""

    def __init__(self, cmd: list[str], env: dict[str, str], log: Path, health: str | None):
        self.cmd, self.env, self.log, self.health = cmd, env, log, health
        self.process: subprocess.Popen | None = None

    def start(self) -> Proc:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                self.cmd, cwd=ROOT, env=os.environ | self.env, stdout=out, stderr=subprocess.STDOUT
            )
        if self.health:
            wait_for(self.health, self.process, self.log, seconds=60)
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@contextmanager
def processes() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    with ExitStack() as stack:
        stack.callback(lambda: [p.stop() for p in reversed(started)])
        yield started


def stub(port: int, log: Path) -> Proc:
    url = f"http://127.0.0.1:{port}"
    return Proc([TSUNAGU, "stub", "--port", str(port)], {}, log, f"{url}/health")


def wait_for_line(log: Path, text: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"{log.name}: no {text!r}")


def wait_mid_message(url: str, owner: str, seconds: float = 60) -> None:
    """Until the worker `owner` holds a message it has started on (Rasa is slow)."""
    from api.db.models import Conversation

    deadline = time.monotonic() + seconds
    with Session(engine_for(url)) as db:
        while time.monotonic() < deadline:
            held = db.scalar(
                select(func.count())
                .select_from(InboundMessage)
                .join(Conversation, Conversation.id == InboundMessage.conversation_id)
                .where(
                    InboundMessage.status == "pending",
                    InboundMessage.attempts > 0,
                    Conversation.lease_owner.contains(owner),
                )
            )
            db.rollback()
            if held:
                return
            time.sleep(0.05)
    raise AssertionError("the worker never started on a message")


def wait_until_done(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    with Session(engine_for(url)) as db:
        while time.monotonic() < deadline:
            pending = db.scalar(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.status == "pending")
            )
            unsent = db.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(OutboundMessage.status.in_(("pending", "sending")))
            )
            db.rollback()
            if pending == 0 and unsent == 0:
                return
            time.sleep(0.5)
    raise AssertionError(f"not done after {seconds} s: {pending} pending, {unsent} unsent")


def test_nothing_lost_and_nothing_twice_through_faults(fault_db, tmp_path):
    providers_port, rasa_port = free_port(), free_port()
    providers, rasa = f"http://127.0.0.1:{providers_port}", f"http://127.0.0.1:{rasa_port}"
    env = channel_env(providers=providers, rasa=rasa) | {
        "TSUNAGU_DATABASE_URL": fault_db,
        "TSUNAGU_CHANNEL_WORKER": "false",  # the API processes only acknowledge
        "TSUNAGU_WORKER_LEASE_SECONDS": "6",
        "TSUNAGU_RASA_TIMEOUT_SECONDS": "1.5",
        "TSUNAGU_PROVIDER_TIMEOUT_SECONDS": "1",
    }
    api_ports = [free_port(), free_port()]
    apis = [f"http://127.0.0.1:{p}" for p in api_ports]

    now = int(time.time() * 1000)
    # Three groups of messages: A while a worker is killed and the database restarts,
    # B while Rasa is down, C after Rasa is back. Each LINE event is delivered 1 to 5 times,
    # each SMS 1 to 3 times, shuffled within its group.
    rng = random.Random(5)

    def group(turns: range) -> list[tuple[str, dict]]:
        line = [
            text_event(f"U{u:03d}", f"利用者{u}の{t}回目の相談", timestamp=now + 10 * t + u)
            for u in range(USERS)
            for t in turns
        ]
        sms = [sms_params(f"+8190000{u:04d}", f"SMS利用者{u}の{t}回目") for u in range(SMS_USERS)
               for t in turns]  # fmt: skip
        items = [("line", e) for e in line for _ in range(rng.randint(1, 5))]
        items += [("sms", p) for p in sms for _ in range(rng.randint(1, 3))]
        rng.shuffle(items)
        return items

    groups = [group(range(0, 3)), group(range(3, 5)), group(range(5, 6))]
    every = {
        data["webhookEventId"] if kind == "line" else data["MessageSid"]
        for items in groups
        for kind, data in items
    }
    acknowledged: set[str] = set()
    lock = threading.Lock()

    def deliver(item: tuple[str, dict]) -> None:
        kind, data = item
        api = rng.choice(apis)
        if kind == "line":
            event = dict(data) | {"deliveryContext": {"isRedelivery": rng.random() < 0.5}}
            body, key = line_payload(event), event["webhookEventId"]
            request = ("/channels/line/atsuma/webhook", body, line_headers(body))
        else:
            path = "/channels/twilio/atsuma/sms"
            signature = twilio_signature(PUBLIC_BASE + path, data)
            body, key = urlencode(data).encode(), data["MessageSid"]
            form = "application/x-www-form-urlencoded"
            request = (path, body, {"x-twilio-signature": signature, "content-type": form})
        path, body, headers = request
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # as LINE redelivers a failed webhook
            try:
                r = httpx.post(api + path, content=body, headers=headers, timeout=5)
                if r.status_code == 200:
                    with lock:
                        acknowledged.add(key)
                    return
                assert r.status_code == 503, r.text  # the database restarting: nothing stored
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError("a webhook was never acknowledged")

    rasa_seen: list[dict] = []
    with processes() as started:
        started.append(stub(providers_port, tmp_path / "providers.log").start())
        rasa_stub = stub(rasa_port, tmp_path / "rasa.log").start()
        started.append(rasa_stub)
        for port in api_ports:
            api_env = env | {"TSUNAGU_PORT": str(port)}
            url = f"http://127.0.0.1:{port}/health"
            started.append(
                Proc([TSUNAGU, "serve"], api_env, tmp_path / f"api-{port}.log", url).start()
            )
        workers = [
            Proc([TSUNAGU, "worker", "--threads", "2"], env, tmp_path / f"worker-{i}.log", None)
            for i in range(3)
        ]
        for w in workers[:2]:
            started.append(w.start())
            wait_for_line(w.log, "worker threads and delivery started")

        stub_fault(rasa, "rasa", "slow", delay=0.4)  # so that a kill lands mid-message
        stub_fault(providers, "line_reply", "500", count=4)
        stub_fault(providers, "line_push", "500", count=4)
        stub_fault(providers, "twilio", "500", count=3)
        with ThreadPoolExecutor(4) as pool:
            sending = pool.map(lambda item: (time.sleep(0.05), deliver(item)), groups[0])
            victim = workers[0].process
            assert victim is not None
            wait_mid_message(fault_db, f":{victim.pid}:")
            workers[0].kill()  # SIGKILL while it holds a message: its lease expires
            started.append(workers[2].start())
            time.sleep(1)
            restart_postgres(fault_db)
            list(sending)
            wait_until_done(fault_db, 120)
            rasa_seen += stub_state(rasa)["rasa"]
            assert stub_state(rasa)["rasa_overlaps"] == 0
            rasa_stub.kill()  # Rasa down: fixed answers and consultations
            stub_fault(providers, "line_push", "429", count=3)
            stub_fault(providers, "twilio", "429", count=2)
            list(pool.map(deliver, groups[1]))
            wait_until_done(fault_db, 120)
            rasa_stub.start()  # Rasa back: new messages go to it again
            list(pool.map(deliver, groups[2]))
        wait_until_done(fault_db, 120)
        state = stub_state(providers)
        rasa_state = stub_state(rasa)
        rasa_seen += rasa_state["rasa"]
        assert rasa_state["rasa_overlaps"] == 0

    assert acknowledged == every
    with Session(engine_for(fault_db)) as db:
        inbound = db.scalars(select(InboundMessage)).all()
        # Every acknowledged message stored once and processed: 0 lost.
        assert Counter(m.event_id for m in inbound) == Counter(every)
        assert {m.status for m in inbound} == {"done"}
        assert max(m.attempts for m in inbound) >= 2  # the killed worker's message, retaken
        # The fallback filed one consultation per message, never two.
        filed = [m.consultation_id for m in inbound if m.outcome == "fallback"]
        assert all(filed) and len(set(filed)) == len(filed)
        assert db.scalar(select(func.count()).select_from(Consultation)) == len(filed)
        outcome = {m.event_id: m.outcome for m in inbound}
        for number, items in enumerate(groups):
            expected = "fallback" if number == 1 else "bot"
            assert {outcome[d["webhookEventId"]] for k, d in items if k == "line"} == {expected}
        # Every answer sent exactly once.
        rows = db.scalars(select(OutboundMessage)).all()
        assert {r.status for r in rows} == {"sent"}
        assert len(rows) >= len(inbound)
        line_rows = [r for r in rows if r.channel == "line"]
        by_token = Counter(d["token"] for d in state["line"] if d["via"] == "reply")
        by_key = Counter(d["key"] for d in state["line"] if d["via"] == "push")
        for row in line_rows:
            replied = by_token[row.reply_token] if row.reply_token else 0
            assert replied + by_key[row.key] == len(row.messages), row.id
        assert len(state["line"]) == sum(len(r.messages) for r in line_rows)
        sms_rows = [r for r in rows if r.channel == "sms"]
        sms_keys = Counter(s["key"] for s in state["sms"])
        assert sms_keys == Counter(r.key for r in sms_rows)
