"""The staff pages in a real browser: Debian's Chromium driven by Playwright, against a real
`tsunagu serve` process on a SQLite file (and the body's referral test on PostgreSQL too).

Screenshots of every page land in var/test-artifacts/screenshots/. Every page visited is
checked for lang="ja" and a label on every field; all logins use the keyboard (Tab, Enter).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db.migrate import upgrade
from api.db.models import Alert, Case, ContactLog, Referral
from api.db.session import engine_for
from api.security import issue_token
from api.services.directory import sync_bodies
from tests.botstack import TSUNAGU, free_port, running
from tests.intake import COMPOUND, ELDERLY, URGENT, intake
from tests.staff import HOUKATSU, KODOMO, TAJIKAN, account

playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium: run scripts/install-system-deps", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "var" / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"  # tests/conftest.py's, hashed there


# --- the server under test --------------------------------------------------------------------


class LiveServer:
    def __init__(self, url: str, database_url: str) -> None:
        self.url = url
        self.database_url = database_url

    def db(self) -> Session:
        return Session(engine_for(self.database_url), expire_on_commit=False)

    def count(self, model, *where) -> int:
        with self.db() as db:
            return db.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def status(self, model, object_id: str) -> str:
        with self.db() as db:
            return db.get(model, object_id).status

    def user(self, role: str, body: str | None = None) -> str:
        username = f"{role}-{uuid.uuid4().hex[:8]}"
        with self.db() as db:
            account(db, username, role, body)
        return username

    def consult(self, text: str) -> dict:
        """A consultation through the API, as the bot sends it."""
        with self.db() as db:
            token, _ = issue_token(db, role="bot", municipality="atsuma", label="browser test")
            db.commit()
        response = httpx.post(
            f"{self.url}/api/v1/consultations",
            json=intake(text, user=f"U-{uuid.uuid4().hex[:10]}"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return response.json()


def _serve(database_url: str, log: Path) -> Iterator[LiveServer]:
    upgrade(database_url)
    with Session(engine_for(database_url)) as db:
        sync_bodies(db)
        db.commit()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"TSUNAGU_DATABASE_URL": database_url, "TSUNAGU_PORT": str(port)}
    with running([str(TSUNAGU), "serve"], f"{url}/health", env, log):
        yield LiveServer(url, database_url)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("live")
    yield from _serve(f"sqlite:///{base / 'tsunagu.db'}", base / "server.log")


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory, postgres_server: str) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("live-pg")
    yield from _serve(postgres_server, base / "server.log")


# --- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser) -> Iterator[Callable[..., object]]:
    contexts = []

    def make(**options):
        context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def accessible(page) -> None:
    """lang="ja", and every visible field has a label (a <label for>, wrapping, or aria)."""
    assert page.get_attribute("html", "lang") == "ja"
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden')
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.name || el.id || el.outerHTML)"""
    )
    assert unlabelled == [], f"fields without a label on {page.url}: {unlabelled}"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page, server: LiveServer, username: str, landing: str) -> None:
    """By keyboard only: type the name, Tab to the password, Enter to submit."""
    page.goto(f"{server.url}/staff/login")
    accessible(page)
    page.focus("#username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}{landing}")
    accessible(page)


# --- the tests ------------------------------------------------------------------------------------


def test_login_page(server, new_page):
    page = new_page()
    page.goto(f"{server.url}/staff/")
    page.wait_for_url(f"{server.url}/staff/login")
    accessible(page)
    shot(page, "login")


def test_a_coordinator_works_a_compound_case_to_closing(server, new_page):
    case_id = server.consult(COMPOUND)["case_id"]
    assert case_id
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, server, server.user("coordinator"), "/staff/cases")
    shot(page, "coordinator-queue")
    page.click(f"a[href='/staff/cases/{case_id}']")
    page.wait_for_url(f"{server.url}/staff/cases/{case_id}")
    accessible(page)
    assert page.locator("mark").count() >= 2  # the words that made it compound
    assert "8050問題" in page.inner_text("main")
    shot(page, "coordinator-case")

    # 支援会議: every attendee bound to confidentiality.
    page.check("#kind-support")
    page.fill("#held_on", "2026-05-01")
    page.select_option("#att-0-body", HOUKATSU)
    page.check("#att-0-bound")
    page.select_option("#att-1-body", TAJIKAN)
    page.check("#att-1-bound")
    page.fill("#decisions", "包括が母の要介護認定を支援し、推進員が息子と面談する")
    page.click("#meeting-form button[type=submit]")
    page.wait_for_selector("text=会議を記録しました")

    page.fill("#goals", "母が介護サービスを使える\n息子が参加支援につながる")
    page.select_option("#lead_body_id", HOUKATSU)
    page.fill("#review-1", "2026-08-01")
    page.select_option("#task-0-body", HOUKATSU)
    page.fill("#task-0-description", "要介護認定の申請")
    page.fill("#task-0-due", "2026-06-01")
    page.select_option("#task-1-body", TAJIKAN)
    page.fill("#task-1-description", "息子との面談")
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("text=支援プランを保存しました")
    assert page.inner_text("#case-status") == "プラン作成中"
    shot(page, "coordinator-case-planned")

    page.fill("#close-reason", "支援がつながり、生活が安定した")
    page.click("#close-form button[type=submit]")
    page.wait_for_selector("text=終結しました")
    assert page.inner_text("#case-status") == "終結"
    assert server.status(Case, case_id) == "closed"
    shot(page, "coordinator-case-closed")


def _accept_and_complete(server: LiveServer, new_page, name: str) -> None:
    referral_id = server.consult(ELDERLY)["referrals"][0]["id"]
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, server, server.user("body_staff", HOUKATSU), "/staff/referrals")
    shot(page, f"{name}-inbox")
    page.click(f"a[href='/staff/referrals/{referral_id}']")
    accessible(page)
    assert "物忘れ" in page.inner_text("main")  # the person's consent covers this body
    shot(page, f"{name}-referral")
    page.click("text=確認した")
    page.wait_for_selector("text=確認しました。")
    page.click("text=受理する")
    page.wait_for_selector("text=受理しました。")
    accessible(page)
    page.select_option("#outcome", "ongoing_support")
    page.fill("#complete-reason", "介護保険の申請を支援中")
    page.click("text=完了にする")
    page.wait_for_selector("text=完了にしました。")
    assert page.inner_text("#status").startswith("完了")
    assert server.status(Referral, referral_id) == "completed"
    shot(page, f"{name}-referral-completed")


def test_a_body_accepts_and_completes_a_referral(server, new_page):
    _accept_and_complete(server, new_page, "body")


def test_a_body_accepts_and_completes_a_referral_on_postgresql(pg_server, new_page):
    _accept_and_complete(pg_server, new_page, "body-pg")


def test_a_body_cannot_open_another_bodys_referral(server, new_page):
    referral_id = server.consult(ELDERLY)["referrals"][0]["id"]  # to the 地域包括
    page = new_page()
    log_in(page, server, server.user("body_staff", KODOMO), "/staff/referrals")
    assert referral_id not in page.content()
    response = page.goto(f"{server.url}/staff/referrals/{referral_id}")
    assert response.status == 404
    assert "見つかりません" in page.inner_text("main")
    assert "物忘れ" not in page.content()
    shot(page, "body-other-referral-404")


def test_an_outreach_log_saved_offline_is_stored_once(server, new_page):
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(page, server, server.user("outreach"), "/staff/outreach")
    shot(page, "outreach-form")
    place = f"旭町の公園 {uuid.uuid4().hex[:6]}"
    # Once the service worker runs, a visit keeps a copy: the form opens with no signal.
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.context.set_offline(True)
    offline = page.reload()
    assert offline is not None and offline.from_service_worker
    accessible(page)
    page.fill("#unidentified", "70代くらいの男性、一人で座っていた")
    page.fill("#place", place)
    page.select_option("#method", "visit")
    page.select_option("#outcome", "met")
    page.fill("#notes", "冬の灯油が心配と話していた")
    page.fill("#next_step", "来週もう一度声をかける")
    page.click("#contact-form button[type=submit]")
    page.wait_for_selector("#queue-status:has-text('送信待ち 1 件')")
    assert server.count(ContactLog, ContactLog.place == place) == 0
    shot(page, "outreach-offline-queued")

    page.context.set_offline(False)
    page.wait_for_selector(f"#recent:has-text('{place}')", timeout=20_000)
    accessible(page)
    assert page.evaluate("Object.keys(localStorage).map(k => localStorage.getItem(k))") == ["[]"]
    time.sleep(6)  # past the queue's next retry: nothing is sent again
    assert server.count(ContactLog, ContactLog.place == place) == 1
    shot(page, "outreach-sent")


def test_the_duty_coordinator_acknowledges_an_urgent_alert(server, new_page):
    alert_id = server.consult(URGENT)["alert_id"]
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, server, server.user("coordinator"), "/staff/cases")
    page.click("nav >> text=緊急アラート")
    page.wait_for_url(f"{server.url}/staff/alerts")
    accessible(page)
    row = page.locator(f"#alert-{alert_id}")
    assert "希死念慮・自傷" in row.inner_text() and "未確認" in row.inner_text()
    shot(page, "coordinator-alerts")
    row.locator("text=確認した").click()
    page.wait_for_selector("text=確認済みにしました。")
    assert "確認済み（" in page.locator(f"#alert-{alert_id}").inner_text()
    with server.db() as db:
        assert db.get(Alert, alert_id).acknowledged_at is not None
    shot(page, "coordinator-alerts-acknowledged")


def test_the_figures_page(server, new_page):
    server.consult(COMPOUND)
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, server, server.user("coordinator"), "/staff/cases")
    page.goto(f"{server.url}/staff/figures")
    accessible(page)
    assert page.locator("svg.chart").count() >= 4
    shot(page, "figures")
    with page.expect_download() as download:
        page.click("text=CSVでダウンロード")
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and "相談件数".encode() in content
