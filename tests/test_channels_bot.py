"""End to end on the real bot: a signed LINE webhook to the API, `tsunagu worker` to the real
Rasa server (with the real action server and API), the answer back at the LINE stub as a
reply, and the buttons of the bot's question as quick replies that post back their payload."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from api.channels import texts
from api.db.models import InboundMessage
from tests.botstack import ROOT, TSUNAGU, bot_stack, train_model
from tests.channels import (
    LINE_SECRET,
    LINE_TOKEN,
    channel_env,
    line_headers,
    line_payload,
    stub_server,
    stub_state,
    text_event,
)


@pytest.fixture(scope="module")
def stubs(tmp_path_factory) -> Iterator[str]:
    with stub_server(Path(tmp_path_factory.mktemp("stubs")) / "stub.log") as url:
        yield url


def test_line_to_the_real_bot_and_back(stubs: str, tmp_path: Path, monkeypatch) -> None:
    import httpx

    train_model()
    env = channel_env(providers=stubs) | {
        "TSUNAGU_LINE_CHANNEL_SECRET_TOMIYA": LINE_SECRET,  # the bot stack serves tomiya
        "TSUNAGU_LINE_CHANNEL_TOKEN_TOMIYA": LINE_TOKEN,
        "TSUNAGU_CHANNEL_WORKER": "false",  # the API acknowledges; `tsunagu worker` works
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with bot_stack(tmp_path) as stack:
        worker_env = os.environ | {
            "TSUNAGU_DATABASE_URL": stack.database_url,
            "TSUNAGU_RASA_URL": stack.rasa_url,
            "TSUNAGU_RASA_TIMEOUT_SECONDS": "60",  # the first answer of a fresh Rasa is slow
        }
        with (tmp_path / "worker.log").open("w") as log:
            worker = subprocess.Popen([TSUNAGU, "worker"], cwd=ROOT, env=worker_env,
                                      stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            url = f"{stack.api_url}/channels/line/tomiya/webhook"
            body = line_payload(text_event("Ureal", "母が認知症で、介護のことで困っています"))
            assert httpx.post(url, content=body, headers=line_headers(body)).status_code == 200
            sent = _wait_for_line(stubs, 1)
            assert sent[0]["via"] == "reply"
            answer = sent[0]["message"]["text"]
            assert answer and answer != texts.RECEIVED
            with Session(create_engine(stack.database_url)) as db:
                message = db.scalar(select(InboundMessage))
                assert (message.status, message.outcome) == ("done", "bot")
            # The bot asks on; where it offers buttons, LINE shows them as quick replies.
            items = [
                item
                for d in sent
                for item in (d["message"].get("quickReply") or {}).get("items", [])
            ]
            for item in items:
                assert item["action"]["type"] == "postback" and item["action"]["data"]
        finally:
            worker.terminate()
            worker.wait(timeout=30)


def _wait_for_line(stubs: str, count: int, seconds: float = 180) -> list[dict]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sent = stub_state(stubs)["line"]
        if len(sent) >= count:
            time.sleep(2)  # the rest of the same answer
            return stub_state(stubs)["line"]
        time.sleep(0.5)
    raise AssertionError("no answer reached the LINE stub")
