"""The web chat page in real Chromium (Playwright on Debian's chromium): a resident types,
sees the bot's answer and taps a button; the page is Japanese and usable by keyboard.
The API is a real uvicorn process with its worker on; Rasa is the stub (api/channels/stubs.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.db.migrate import upgrade
from tests.botstack import TSUNAGU, free_port, running
from tests.channels import stub_server, stub_state

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")


@pytest.fixture
def chat(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(the API's base URL, the stub's URL)"""
    database = f"sqlite:///{tmp_path / 'chat.db'}"
    upgrade(database)
    with stub_server(tmp_path / "stub.log") as stub:
        port = free_port()
        env = {
            "TSUNAGU_DATABASE_URL": database,
            "TSUNAGU_PORT": str(port),
            "TSUNAGU_RASA_URL": stub,
            "TSUNAGU_WORKER_POLL_SECONDS": "0.2",
        }
        base = f"http://127.0.0.1:{port}"
        with running([str(TSUNAGU), "serve"], f"{base}/health", env, tmp_path / "api.log"):
            yield base, stub


def test_a_resident_types_reads_the_answer_and_taps_a_button(chat) -> None:
    base, stub = chat
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 390, "height": 800}, locale="ja-JP")
        page.goto(f"{base}/chat?town=atsuma")
        assert page.locator("html").get_attribute("lang") == "ja"
        box = page.get_by_label("メッセージ")
        box.fill("ボタンで答えたいです")
        page.keyboard.press("Control+Enter")  # the keyboard alone sends
        page.get_by_text("bot:ボタンで答えたいです").wait_for(timeout=20_000)
        page.get_by_role("button", name="はい").click()
        page.get_by_text("bot:/affirm").wait_for(timeout=20_000)
        browser.close()
    said = [c["message"] for c in stub_state(stub)["rasa"]]
    assert said == ["ボタンで答えたいです", "/affirm"]
