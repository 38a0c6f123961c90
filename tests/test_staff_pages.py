"""The staff pages over plain HTTP: login, CSRF, expiry, logout, role landing, the pages'
actions through the services, and the audit events page views write. Fictional people."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from api.db.models import ApiToken, AuditEvent, Case, ContactLog, LoginAttempt, Referral, utcnow
from api.staff.session import COOKIE
from tests.intake import COMPOUND, ELDERLY, consult
from tests.rows import count, events, fields
from tests.staff import HOUKATSU, KODOMO, TAJIKAN, account, csrf_of, log_in, page_csrf

# --- every route guarded -----------------------------------------------------------------------

# The only /staff routes anyone may call without a session.
PUBLIC = {
    ("GET", "/staff/login"),
    ("POST", "/staff/login"),  # CSRF: the login form's double-submit cookie
    ("GET", "/staff/"),  # redirects: to the login form, or to the role's start page
    ("GET", "/staff/outreach-sw.js"),
}


def _staff_routes():
    from api.main import create_app

    for route in create_app().routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for context in contexts() if contexts else [route]:
            path = getattr(context, "path_format", "")
            dependant = getattr(context, "dependant", None)
            if path.startswith("/staff") and dependant is not None:
                for method in sorted(context.methods):
                    yield method, path, dependant


def _guards(dependant) -> set[str]:
    found = set()
    for sub in dependant.dependencies:
        name = getattr(sub.call, "__qualname__", "")
        if name in ("page.<locals>.dependency", "action.<locals>.dependency", "action_any"):
            found.add(name.split(".")[0])
        found |= _guards(sub)
    return found


def test_every_staff_route_is_guarded():
    """A page needs a session whose role holds a permission of api/access.py; a POST needs
    the CSRF check too. (The API's routes have tests/test_authorization_matrix.py.)"""
    routes = list(_staff_routes())
    assert len(routes) > 15
    for method, path, dependant in routes:
        if (method, path) in PUBLIC:
            continue
        guards = _guards(dependant)
        expected = {"action", "action_any"} if method == "POST" else {"page"}
        assert guards & expected, f"{method} {path} has no session guard"


# --- login, landing, logout, expiry -----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "body", "landing"),
    [
        ("body_staff", HOUKATSU, "/staff/referrals"),
        ("coordinator", None, "/staff/cases"),
        ("outreach", None, "/staff/outreach"),
        ("admin", None, "/staff/figures"),
    ],
)
def test_each_role_lands_on_its_start_page(client, db, role, body, landing):
    account(db, "sato", role, body)
    response = log_in(client, "sato")
    assert response.status_code == 303
    assert response.headers["location"] == landing
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/staff" in cookie
    page = client.get(landing)
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/staff/", follow_redirects=False).headers["location"] == landing
    assert events(db, "sign_in", "staff_user") == 1


def test_the_secure_flag_follows_the_setting(client, db, monkeypatch):
    from api.settings import get_settings

    account(db, "sato", "coordinator")
    monkeypatch.setenv("TSUNAGU_STAFF_COOKIE_SECURE", "true")
    get_settings.cache_clear()
    assert "Secure" in log_in(client, "sato").headers["set-cookie"]


def test_a_wrong_password_is_refused_and_throttled(client, db):
    account(db, "sato", "coordinator")
    for _ in range(5):
        response = log_in(client, "sato", "wrong password!!")
        assert response.status_code == 401
        assert "ユーザー名またはパスワードが違います" in response.text
        assert COOKIE not in response.headers.get("set-cookie", "")
    assert count(db, LoginAttempt) == 5
    blocked = log_in(client, "sato")  # the right password, but too many failures
    assert blocked.status_code == 429


def test_the_login_form_needs_its_csrf_token(client, db):
    account(db, "sato", "coordinator")
    client.get("/staff/login")
    response = client.post(
        "/staff/login",
        data={"username": "sato", "password": "correct horse battery staple", "csrf_token": "x"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert COOKIE not in response.headers.get("set-cookie", "")


def test_a_next_page_is_followed_only_within_the_staff_pages(client, db):
    account(db, "sato", "coordinator")
    assert log_in(client, "sato", next="/staff/figures").headers["location"] == "/staff/figures"
    client.cookies.clear()
    away = log_in(client, "sato", next="//evil.example/staff/")
    assert away.headers["location"] == "/staff/cases"


def test_pages_without_a_session_go_to_the_login_form(client, db):
    response = client.get("/staff/cases", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login")
    json_post = client.post("/staff/outreach/logs", json={})
    assert json_post.status_code == 401  # the offline queue must not read a redirect as done


def test_a_post_without_the_csrf_token_is_refused(client, db, bot):
    account(db, "ito", "body_staff", HOUKATSU)
    referral_id = consult(client, bot(), ELDERLY)["referrals"][0]["id"]
    log_in(client, "ito")
    token = page_csrf(client, f"/staff/referrals/{referral_id}")
    path = f"/staff/referrals/{referral_id}/receive"
    assert client.post(path, follow_redirects=False).status_code == 403
    assert client.post(path, data={"csrf_token": "not it"}).status_code == 403
    assert client.post(path, headers={"X-CSRF-Token": "not it"}).status_code == 403
    assert fields(db, Referral, referral_id, "status") == ("sent",)
    done = client.post(path, data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert fields(db, Referral, referral_id, "status") == ("received",)


def test_logout_ends_the_session_on_the_server(client, db):
    account(db, "sato", "coordinator")
    log_in(client, "sato")
    stolen = client.cookies.get(COOKIE)
    token = page_csrf(client, "/staff/cases")
    response = client.post("/staff/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"
    assert f'{COOKIE}=""' in response.headers["set-cookie"]
    # The old cookie, replayed, no longer opens anything: the token is revoked.
    client.cookies.set(COOKIE, stolen, path="/staff")
    again = client.get("/staff/cases", follow_redirects=False)
    assert again.status_code == 303 and "expired=1" in again.headers["location"]
    assert events(db, "sign_out", "api_token") == 1


def test_an_idle_session_expires_and_an_active_one_slides(client, db):
    account(db, "sato", "coordinator")
    log_in(client, "sato")
    record = db.scalar(select(ApiToken).where(ApiToken.label == "staff-web"))
    assert record.expires_at <= utcnow() + timedelta(minutes=30)
    # Activity moves the end on (idle timeout, not a fixed one).
    record.expires_at = utcnow() + timedelta(minutes=1)
    db.commit()
    assert client.get("/staff/cases").status_code == 200
    (expires_at,) = fields(db, ApiToken, record.id, "expires_at")
    assert expires_at > utcnow() + timedelta(minutes=29)
    # A page view within the minute writes nothing: the end it would set is barely later.
    assert client.get("/staff/cases").status_code == 200
    assert fields(db, ApiToken, record.id, "expires_at") == (expires_at,)
    # Idle past the end: the next page asks to log in again, saying why.
    record = db.get(ApiToken, record.id)
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    response = client.get("/staff/cases", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login?expired=1&next=/staff/cases"
    assert "操作がなかったため" in client.get(response.headers["location"]).text


def test_a_session_never_outlives_the_token_lifetime(client, db, monkeypatch):
    from api.settings import get_settings

    monkeypatch.setenv("TSUNAGU_TOKEN_MINUTES", "10")
    get_settings.cache_clear()
    account(db, "sato", "coordinator")
    log_in(client, "sato")
    record = db.scalar(select(ApiToken).where(ApiToken.label == "staff-web"))
    assert record.expires_at <= record.created_at + timedelta(minutes=10)
    db.rollback()
    client.get("/staff/cases")
    (expires_at,) = fields(db, ApiToken, record.id, "expires_at")
    assert expires_at <= record.created_at + timedelta(minutes=10)


def test_an_api_token_in_the_cookie_is_not_a_session(client, db, staff):
    header = staff("coordinator")
    client.cookies.set(COOKIE, header["Authorization"].split()[1], path="/staff")
    assert client.get("/staff/cases", follow_redirects=False).status_code == 303


def test_a_page_of_another_role_is_403(client, db):
    account(db, "ota", "outreach")
    log_in(client, "ota")
    for path in ("/staff/cases", "/staff/referrals", "/staff/figures"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "このページは開けません" in response.text


# --- referrals ------------------------------------------------------------------------------


def test_a_body_receives_accepts_and_completes_a_referral(client, db, bot):
    account(db, "ito", "body_staff", HOUKATSU)
    referral_id = consult(client, bot(), ELDERLY)["referrals"][0]["id"]
    log_in(client, "ito")
    inbox = client.get("/staff/referrals")
    assert f"/staff/referrals/{referral_id}" in inbox.text
    assert events(db, "read", "referral", referral_id) == 1  # the inbox lists it
    page = client.get(f"/staff/referrals/{referral_id}")
    assert "物忘れ" in page.text and "<mark" in page.text  # consent covers this body
    assert "本人同意" in page.text
    token = csrf_of(page.text)
    base = f"/staff/referrals/{referral_id}"
    for action, data in (
        ("receive", {}),
        ("accept", {}),
        ("complete", {"outcome": "ongoing_support", "reason": "介護保険の申請を支援"}),
    ):
        response = client.post(f"{base}/{action}", data={"csrf_token": token, **data})
        assert response.status_code == 200, action
    assert "完了にしました" in response.text
    assert fields(db, Referral, referral_id, "status", "outcome") == (
        "completed",
        "ongoing_support",
    )


def test_a_refused_transition_is_shown_not_applied(client, db, bot):
    account(db, "ito", "body_staff", HOUKATSU)
    referral_id = consult(client, bot(), ELDERLY)["referrals"][0]["id"]
    log_in(client, "ito")
    token = page_csrf(client, f"/staff/referrals/{referral_id}")
    response = client.post(f"/staff/referrals/{referral_id}/accept", data={"csrf_token": token})
    assert "この状態ではその操作はできません" in response.text
    client.post(f"/staff/referrals/{referral_id}/receive", data={"csrf_token": token})
    response = client.post(f"/staff/referrals/{referral_id}/reject", data={"csrf_token": token})
    assert "理由を入力してください" in response.text


def test_a_coordinator_withdraws_a_referral_with_a_reason(client, db, bot):
    user_id = account(db, "sato", "coordinator").id
    account(db, "ito", "body_staff", HOUKATSU)
    referral_id = consult(client, bot(), ELDERLY)["referrals"][0]["id"]
    base = f"/staff/referrals/{referral_id}"
    log_in(client, "ito")  # the body handles, but may not withdraw
    page = client.get(base)
    assert "取り下げる" not in page.text and "確認した" in page.text
    refused = client.post(
        f"{base}/withdraw", data={"csrf_token": csrf_of(page.text), "reason": "x"}
    )
    assert refused.status_code == 403

    log_in(client, "sato")
    page = client.get(base)
    assert "取り下げる" in page.text and "受理する" not in page.text  # only the coordinator's
    token = csrf_of(page.text)
    no_reason = client.post(f"{base}/withdraw", data={"csrf_token": token})
    assert "理由を入力してください" in no_reason.text
    assert fields(db, Referral, referral_id, "status") == ("sent",)
    for handled in ("receive", "accept"):  # a body's actions stay the body's
        assert client.post(f"{base}/{handled}", data={"csrf_token": token}).status_code == 403
    reason = "本人と話し、先に子ども家庭センターにつなぐことにした"
    done = client.post(f"{base}/withdraw", data={"csrf_token": token, "reason": reason})
    assert "取り下げました" in done.text and reason in done.text
    assert "取り下げる" not in done.text  # nothing more to withdraw
    assert fields(db, Referral, referral_id, "status", "withdrawal_reason") == (
        "withdrawn",
        reason,
    )
    made = (AuditEvent.actor == user_id, AuditEvent.object_id == referral_id)
    assert count(db, AuditEvent, AuditEvent.action == "withdraw", *made) == 1


def test_another_bodys_referral_is_404_and_audited_as_denied(client, db, bot):
    account(db, "kato", "body_staff", KODOMO)
    referral_id = consult(client, bot(), ELDERLY)["referrals"][0]["id"]
    log_in(client, "kato")
    assert referral_id not in client.get("/staff/referrals").text
    response = client.get(f"/staff/referrals/{referral_id}")
    assert response.status_code == 404
    assert "見つかりません" in response.text and "物忘れ" not in response.text
    assert events(db, "denied", "referral", referral_id) == 1
    assert events(db, "read", "referral", referral_id) == 0
    token = page_csrf(client, "/staff/referrals")
    post = client.post(f"/staff/referrals/{referral_id}/receive", data={"csrf_token": token})
    assert post.status_code == 404
    assert fields(db, Referral, referral_id, "status") == ("sent",)


def test_without_consent_the_body_sees_metadata_only(client, db, bot):
    account(db, "ito", "body_staff", HOUKATSU)
    referral_id = consult(client, bot(), ELDERLY, consent=False)["referrals"][0]["id"]
    log_in(client, "ito")
    page = client.get(f"/staff/referrals/{referral_id}")
    assert "物忘れ" not in page.text and "表示できません" in page.text
    where = (AuditEvent.action == "read", AuditEvent.object_id == referral_id)
    assert count(db, AuditEvent, *where, AuditEvent.basis == "metadata") == 1


# --- cases ----------------------------------------------------------------------------------


def test_a_coordinator_works_a_case_from_queue_to_closing(client, db, bot):
    user_id = account(db, "sato", "coordinator").id
    case_id = consult(client, bot(), COMPOUND)["case_id"]
    log_in(client, "sato")
    queue = client.get("/staff/cases")
    assert f"/staff/cases/{case_id}" in queue.text and "8050" in queue.text
    page = client.get(f"/staff/cases/{case_id}")
    assert page.status_code == 200
    assert "<mark" in page.text and "認知症" in page.text  # the evidence, highlighted
    assert events(db, "read", "case", case_id) == 2  # the queue and the page
    # The page's read is the API's: who, and on what basis (the intake's consent covers
    # the coordinator body, to which a compound case is routed).
    page_read = (
        AuditEvent.action == "read",
        AuditEvent.object_id == case_id,
        AuditEvent.actor == user_id,
        AuditEvent.basis == "consent",
    )
    assert count(db, AuditEvent, *page_read) == 1
    token = csrf_of(page.text)
    base = f"/staff/cases/{case_id}"

    # A 支援会議 with a member not bound to confidentiality is refused by the service.
    unbound = {
        "csrf_token": token,
        "kind": "support_meeting",
        "held_on": "2026-05-01",
        "att-0-body": HOUKATSU,
    }
    response = client.post(f"{base}/meetings", data=unbound)
    assert "守秘義務がある人でなければなりません" in response.text
    # A 重層的支援会議 needs the person's consent for the meeting (the intake's is for referral).
    multi = {**unbound, "kind": "multi_agency_meeting", "att-0-bound": "yes"}
    assert "同意" in client.post(f"{base}/meetings", data=multi).text
    bound = {**unbound, "att-0-bound": "yes", "decisions": "包括が母の介護保険申請を支援"}
    assert "会議を記録しました" in client.post(f"{base}/meetings", data=bound).text

    plan = {
        "csrf_token": token,
        "goals": "母の介護サービス利用\n息子の社会参加",
        "lead_body_id": HOUKATSU,
        "review_dates": ["2026-08-01", ""],
        "task_rows": "2",
        "task-0-body": HOUKATSU,
        "task-0-description": "要介護認定の申請",
        "task-0-due": "2026-06-01",
        "task-1-body": TAJIKAN,
        "task-1-description": "",
    }
    assert "支援プランを保存しました" in client.post(f"{base}/plan", data=plan).text
    status = {"csrf_token": token, "status": "monitoring"}
    assert "状態を変更しました" in client.post(f"{base}/status", data=status).text
    note = {"csrf_token": token, "note": "月1回の訪問で様子を確認"}
    assert "モニタリングを記録しました" in client.post(f"{base}/monitoring", data=note).text
    closing = {"csrf_token": token, "reason": "支援がつながり安定した"}
    assert "終結しました" in client.post(f"{base}/close", data=closing).text
    assert fields(db, Case, case_id, "status", "closure_reason") == (
        "closed",
        "支援がつながり安定した",
    )
    assert events(db, "save", "support_plan") == 1
    assert events(db, "create", "meeting") == 1


def test_another_towns_case_is_404(client, db, bot):
    account(db, "sato", "coordinator", municipality="tomiya")
    case_id = consult(client, bot(), COMPOUND)["case_id"]
    log_in(client, "sato")
    assert client.get(f"/staff/cases/{case_id}").status_code == 404


# --- outreach and figures -------------------------------------------------------------------


def test_an_entry_sent_twice_by_the_queue_is_stored_once(client, db):
    account(db, "ota", "outreach")
    log_in(client, "ota")
    token = page_csrf(client, "/staff/outreach")
    entry = {
        "client_ref": "3f1c-0001",
        "unidentified": "70代くらいの男性",
        "contacted_at": "2026-05-01T10:00:00+09:00",
        "place": "旭町の公園",
        "method": "visit",
        "outcome": "met",
        "notes": "冬の灯油が心配と話していた",
        "next_step": "来週もう一度",
    }
    headers = {"X-CSRF-Token": token}
    first = client.post("/staff/outreach/logs", json=entry, headers=headers)
    again = client.post("/staff/outreach/logs", json=entry, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "replayed": True}
    assert count(db, ContactLog) == 1
    assert client.post("/staff/outreach/logs", json=entry).status_code == 403  # no token
    page = client.get("/staff/outreach")
    assert "旭町の公園" in page.text
    assert events(db, "read", "contact_log", first.json()["id"]) >= 1


def test_the_plain_form_stores_an_entry_without_script(client, db):
    account(db, "ota", "outreach")
    log_in(client, "ota")
    page = client.get("/staff/outreach")
    token = csrf_of(page.text)
    data = {
        "csrf_token": token,
        "client_ref": "form-0001",
        "unidentified": "若い女性",
        "contacted_at": "2026-05-01T10:00",
        "method": "phone",
        "outcome": "no_answer",
    }
    assert "記録を保存しました" in client.post("/staff/outreach/form", data=data).text
    client.post("/staff/outreach/form", data=data)  # a double submit
    assert count(db, ContactLog) == 1
    both = {**data, "client_ref": "form-0002", "unidentified": ""}
    assert "対象者を選ぶか" in client.post("/staff/outreach/form", data=both).text


def test_figures_as_table_charts_and_csv(client, db, bot):
    account(db, "sato", "coordinator")
    consult(client, bot(), COMPOUND)
    log_in(client, "sato")
    page = client.get("/staff/figures")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 4 and "8050問題" in page.text
    assert "http://" not in page.text.replace("http://www.w3.org/2000/svg", "")
    csv = client.get("/staff/figures.csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert csv.content.startswith(b"\xef\xbb\xbf")
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "年度,区分,項目,値"
    assert any(line.endswith(",相談,相談件数,1") for line in text.splitlines())
    assert events(db, "read", "stats") == 2


def test_static_files_are_served_from_the_app(client):
    css = client.get("/staff/static/staff.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert client.get("/staff/static/outreach.js").status_code == 200


def test_the_api_keeps_its_json_errors(client):
    response = client.get("/api/v1/cases")
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"


def test_the_field_log_names_only_the_workers_assigned_people(client, db, bot, staff):
    worker_id = account(db, "ota", "outreach").id
    account(db, "sato", "coordinator")
    person_id = consult(client, bot(), ELDERLY, contact={"method": "phone", "name": "厚真 一郎"})[
        "person_id"
    ]
    other = consult(
        client, bot(), ELDERLY, user="U-2", contact={"method": "phone", "name": "別 人"}
    )
    assigned = client.post(
        f"/api/v1/persons/{person_id}/assignments",
        headers=staff("coordinator"),
        json={"staff_user_id": worker_id},
    )
    assert assigned.status_code == 201, assigned.text
    log_in(client, "ota")
    page = client.get("/staff/outreach")
    assert "厚真 一郎" in page.text and "別 人" not in page.text
    assert events(db, "read", "person", person_id) == 1
    assert events(db, "read", "person", other["person_id"]) == 0
    token = csrf_of(page.text)
    entry = {
        "person_id": person_id,
        "contacted_at": "2026-05-01T10:00:00+09:00",
        "method": "visit",
        "outcome": "met",
        "client_ref": "known-0001",
    }
    sent = client.post("/staff/outreach/logs", json=entry, headers={"X-CSRF-Token": token})
    assert sent.status_code == 201
    # A coordinator's field log form lists nobody (no basis to name the town's people).
    client.cookies.clear()
    log_in(client, "sato")
    assert "厚真 一郎" not in client.get("/staff/outreach").text
