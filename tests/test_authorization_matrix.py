"""Every route has an entry in the authorization matrix, and every entry holds.

An entry says, for each role, the status expected on the principal's own record, on a
record of another body (or another worker) of the same town, and on another town's record.
The test walks the app's routes, so a new route without an entry fails here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.db.models import Conversation, Referral, StaffUser
from api.main import create_app
from api.security import issue_token
from tests.conftest import PASSWORD, PASSWORD_HASH
from tests.intake import COMPOUND, ELDERLY, URGENT, consult

ROLES = ("admin", "coordinator", "body_staff", "outreach", "bot", "anonymous")
SCOPES = ("own", "other_body", "other_town")
PUBLIC_DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def walk(routes: list[Any]) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, inside included routers too (FastAPI >= 0.130 keeps
    an included router as one entry whose contexts hold its routes). The staff web pages
    (/staff, cookie sessions, not bearer tokens) have their own check of every route:
    tests/test_staff_pages.py test_every_staff_route_is_guarded."""
    for method, path in _walk(routes):
        if not path.startswith("/staff"):
            yield method, path


def _walk(routes: list[Any]) -> Iterator[tuple[str, str]]:
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                yield from ((m, context.path_format) for m in sorted(context.methods))
        else:
            methods = getattr(route, "methods", None) or ()  # a Mount (static files) has none
            yield from ((m, route.path) for m in sorted(methods) if m != "HEAD")


# --- the world: one of everything, in each town ---------------------------------------------


@dataclass
class Town:
    ids: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    client: TestClient
    db: Session
    auth: dict[str, dict[str, str]]  # atsuma's principals
    users: dict[str, StaffUser]
    towns: dict[str, Town]
    tomiya_coordinator: dict[str, str]
    serial: Iterator[int] = field(default_factory=itertools.count)

    def id(self, kind: str, scope: str) -> str:
        """The record of this kind that the scope names, for atsuma's principals."""
        if scope == "other_town":
            return self.towns["tomiya"].ids[kind]
        suffix = "_other" if scope == "other_body" else ""
        return self.towns["atsuma"].ids[kind + suffix]


def _user(db: Session, role: str, town: str, body: str | None, name: str) -> StaffUser:
    user = StaffUser(
        username=name,
        password_hash=PASSWORD_HASH,
        role=role,
        municipality=town,
        body_id=body,
    )
    db.add(user)
    db.flush()
    return user


def _token(db: Session, role: str, town: str, user: StaffUser | None = None) -> dict[str, str]:
    token, _ = issue_token(db, role=role, municipality=town, user=user, label="matrix")
    return {"Authorization": f"Bearer {token}"}


def _populate(client: TestClient, db: Session, town: str) -> tuple[Town, dict, dict]:
    houkatsu, jiritsu = (
        f"{town}-houkatsu" if town == "atsuma" else "tomiya-hoken-center",
        (f"{town}-jiritsu"),
    )
    users = {
        "admin": _user(db, "admin", town, None, f"{town}-admin"),
        "coordinator": _user(db, "coordinator", town, None, f"{town}-coordinator"),
        "body_staff": _user(db, "body_staff", town, houkatsu, f"{town}-houkatsu"),
        "outreach": _user(db, "outreach", town, None, f"{town}-outreach-a"),
        "outreach_other": _user(db, "outreach", town, None, f"{town}-outreach-b"),
        "outreach_new": _user(db, "outreach", town, None, f"{town}-outreach-c"),
        "spare": _user(db, "body_staff", town, jiritsu, f"{town}-spare"),
        "spare_other": _user(db, "body_staff", town, jiritsu, f"{town}-spare-2"),
    }
    auth = {role: _token(db, role, town, users[role]) for role in ROLES[:4]}
    auth["outreach_other"] = _token(db, "outreach", town, users["outreach_other"])
    auth["bot"] = _token(db, "bot", town)
    db.commit()

    def intake(text: str, user: str) -> dict:
        return consult(client, auth["bot"], text, municipality=town, user=f"{town}-{user}")

    elderly = intake(ELDERLY, "u1")
    poverty = intake("借金があって家賃を払えません", "u2")
    case_a, case_b = intake(COMPOUND, "u3"), intake(COMPOUND, "u5")
    urgent_a, urgent_b = intake(URGENT, "u4"), intake(URGENT, "u6")
    ids = {
        "referral": elderly["referrals"][0]["id"],
        "referral_other": poverty["referrals"][0]["id"],
        "case": case_a["case_id"],
        "case_other": case_b["case_id"],
        "alert": urgent_a["alert_id"],
        "alert_other": urgent_b["alert_id"],
        "person": elderly["person_id"],
        "person_other": poverty["person_id"],
        "user": users["spare"].id,
        "user_other": users["spare_other"].id,
        "worker": users["outreach_other"].id,
        "worker_other": users["outreach_other"].id,
    }
    coordinator = auth["coordinator"]
    # Worker A is assigned the first person only; worker B both (B's is what gets removed).
    for key, worker in (
        ("person", "outreach"),
        ("person", "outreach_other"),
        ("person_other", "outreach_other"),
    ):
        url = f"/api/v1/persons/{ids[key]}/assignments"
        body = {"staff_user_id": users[worker].id}
        assert client.post(url, headers=coordinator, json=body).status_code == 201
    for key, worker in (("contact", "outreach"), ("contact_other", "outreach_other")):
        log = {
            "unidentified": "70代くらいの男性",
            "contacted_at": "2026-11-20T10:00:00+09:00",
            "method": "visit",
            "outcome": "not_home",
        }
        response = client.post("/api/v1/contacts", headers=auth[worker], json=log)
        assert response.status_code == 201, response.text
        ids[key] = response.json()["id"]
    for key, user in (("handover", "u1"), ("handover_other", "u2")):
        body = {"municipality": town, "channel": "line", "channel_user_id": f"{town}-{user}"}
        response = client.post("/api/v1/handovers", headers=auth["bot"], json=body)
        assert response.status_code == 201, response.text
        ids[key] = response.json()["id"]
    for key in ("conversation", "conversation_other"):
        conversation = Conversation(municipality=town, channel="web", external_id=f"{town}-{key}")
        db.add(conversation)
        db.flush()
        ids[key] = conversation.id
    db.commit()
    for key in ("case", "case_other"):
        consent = _consent_body(town)
        url = f"/api/v1/cases/{ids[key]}/consents"
        response = client.post(url, headers=coordinator, json=consent)
        assert response.status_code == 201, response.text
        ids[key.replace("case", "consent")] = response.json()["id"]
    return Town(ids), auth, users


def _consent_body(town: str) -> dict[str, Any]:
    return {
        "purpose": "multi_agency_meeting",
        "recipients": [f"{town}-tajikan"],
        "shown_text": "かいぎで あなたの ことを はなしても いいですか",
        "captured_via": "in_person",
        "agreed": True,
    }


@pytest.fixture
def world(client: TestClient, db: Session) -> World:
    atsuma, auth, users = _populate(client, db, "atsuma")
    tomiya, tomiya_auth, _ = _populate(client, db, "tomiya")
    towns = {"atsuma": atsuma, "tomiya": tomiya}
    return World(client, db, auth, users, towns, tomiya_auth["coordinator"])


# --- the matrix -------------------------------------------------------------------------------

Call = Callable[[World, str], tuple[str, dict[str, Any]]]  # (url, request kwargs)


@dataclass(frozen=True)
class Entry:
    call: Call
    # role -> "own other_body other_town" statuses; "-" where the scope means nothing
    expect: dict[str, str]
    prepare: Callable[[World], None] | None = None


def statuses(
    admin: str, coordinator: str, body_staff: str, outreach: str, bot: str, anonymous: str
) -> dict[str, str]:
    return dict(zip(ROLES, (admin, coordinator, body_staff, outreach, bot, anonymous), strict=True))


def everyone(status: str) -> dict[str, str]:
    return statuses(*(status,) * 6)


def signed_in(status: str) -> dict[str, str]:
    return statuses(*(status,) * 5, "401 - -")


def only(roles: dict[str, str]) -> dict[str, str]:
    base = statuses("403 - -", "403 - -", "403 - -", "403 - -", "403 - -", "401 - -")
    return base | roles


def plain(url: str, **kwargs: Any) -> Call:
    return lambda world, scope: (url, kwargs)


def on(kind: str, template: str, body: Callable[[World], Any] | None = None) -> Call:
    def call(world: World, scope: str) -> tuple[str, dict[str, Any]]:
        url = template.format(id=world.id(kind, scope), worker=world.id("worker", scope))
        return url, ({"json": body(world)} if body else {})

    return call


def status_of(status: str) -> Callable[[World], None]:
    def prepare(world: World) -> None:
        for scope in SCOPES:
            world.db.get(Referral, world.id("referral", scope)).status = status
        world.db.commit()

    return prepare


def _save_plans(world: World) -> None:
    for scope in SCOPES:
        auth = world.auth["coordinator"] if scope != "other_town" else world.tomiya_coordinator
        url = f"/api/v1/cases/{world.id('case', scope)}/plan"
        assert world.client.put(url, headers=auth, json=PLAN).status_code == 200


def _new_user(world: World) -> dict[str, Any]:
    n = next(world.serial)
    return {"username": f"new-{n}", "password": PASSWORD, "role": "coordinator"}


def _contact(world: World, scope: str) -> tuple[str, dict[str, Any]]:
    body = {
        "contacted_at": "2026-11-20T10:00:00+09:00",
        "method": "phone",
        "outcome": "met",
        "notes": "元気そうだった",
        "client_ref": f"matrix-{next(world.serial)}",
    }
    if scope == "other_town":
        body["person_id"] = world.id("person", "other_town")
    else:
        body["unidentified"] = "公園にいた高齢の女性"
    return "/api/v1/contacts", {"json": body}


def _handover(world: World, scope: str) -> tuple[str, dict[str, Any]]:
    town = "tomiya" if scope == "other_town" else "atsuma"
    body = {"municipality": town, "channel": "web", "channel_user_id": f"m-{next(world.serial)}"}
    return "/api/v1/handovers", {"json": body}


MEETING = {
    "kind": "support_meeting",
    "held_on": "2026-11-20",
    "attendees": [{"body_id": "atsuma-houkatsu", "name": "担当", "confidentiality_bound": True}],
    "decisions": "見守りを続ける",
}
PLAN = {"goals": ["母の介護認定"], "review_dates": ["2027-01-15"], "tasks": []}
REFERRAL = "/api/v1/referrals/{id}"
CASE = "/api/v1/cases/{id}"
COORDINATOR_ONLY = only({"coordinator": "{ok} {ok} 404"})


def coordinator(ok: str) -> dict[str, str]:
    return only({"coordinator": f"{ok} {ok} 404"})


MATRIX: dict[tuple[str, str], Entry] = {
    ("GET", "/health"): Entry(plain("/health"), everyone("200 - -")),
    **{("GET", p): Entry(plain(p), everyone("200 - -")) for p in PUBLIC_DOCS},
    # Triage alone stores nothing and reads nothing: open, like a calculator.
    ("POST", "/api/v1/triage"): Entry(
        plain("/api/v1/triage", json={"text": ELDERLY, "municipality": "atsuma"}),
        everyone("200 - -"),
    ),
    ("POST", "/api/v1/auth/token"): Entry(
        plain("/api/v1/auth/token", data={"username": "atsuma-admin", "password": PASSWORD}),
        everyone("200 - -"),
    ),
    ("POST", "/api/v1/auth/logout"): Entry(plain("/api/v1/auth/logout"), signed_in("204 - -")),
    ("POST", "/api/v1/consultations"): Entry(
        lambda world, scope: (
            "/api/v1/consultations",
            {"json": _consultation(world, scope)},
        ),
        statuses("403 - -", "201 - 403", "201 - 403", "201 - 403", "201 - 403", "401 - -"),
    ),
    ("GET", "/api/v1/referrals"): Entry(
        plain("/api/v1/referrals"),
        statuses("200 - -", "200 - -", "200 - -", "403 - -", "403 - -", "401 - -"),
    ),
    ("GET", "/api/v1/referrals/{referral_id}"): Entry(
        on("referral", REFERRAL),
        only({"admin": "200 200 404", "coordinator": "200 200 404", "body_staff": "200 404 404"}),
    ),
    ("POST", "/api/v1/referrals/{referral_id}/receive"): Entry(
        on("referral", REFERRAL + "/receive"), only({"body_staff": "200 404 404"})
    ),
    ("POST", "/api/v1/referrals/{referral_id}/accept"): Entry(
        on("referral", REFERRAL + "/accept"),
        only({"body_staff": "200 404 404"}),
        prepare=status_of("received"),
    ),
    ("POST", "/api/v1/referrals/{referral_id}/reject"): Entry(
        on("referral", REFERRAL + "/reject", lambda w: {"reason": "対象外"}),
        only({"body_staff": "200 404 404"}),
        prepare=status_of("received"),
    ),
    ("POST", "/api/v1/referrals/{referral_id}/complete"): Entry(
        on("referral", REFERRAL + "/complete", lambda w: {"outcome": "resolved", "reason": "済"}),
        only({"body_staff": "200 404 404"}),
        prepare=status_of("accepted"),
    ),
    ("POST", "/api/v1/referrals/{referral_id}/withdraw"): Entry(
        on("referral", REFERRAL + "/withdraw", lambda w: {"reason": "本人の希望"}),
        coordinator("200"),
    ),
    ("POST", "/api/v1/contacts"): Entry(
        _contact, only({"coordinator": "201 - 422", "outreach": "201 - 422"})
    ),
    ("GET", "/api/v1/contacts"): Entry(
        plain("/api/v1/contacts"), only({"coordinator": "200 - -", "outreach": "200 - -"})
    ),
    ("GET", "/api/v1/contacts/{contact_id}"): Entry(
        on("contact", "/api/v1/contacts/{id}"),
        only({"coordinator": "200 200 404", "outreach": "200 404 404"}),
    ),
    ("GET", "/api/v1/persons"): Entry(
        plain("/api/v1/persons"), only({"coordinator": "200 - -", "outreach": "200 - -"})
    ),
    ("GET", "/api/v1/persons/{person_id}"): Entry(
        on("person", "/api/v1/persons/{id}"),
        only({"coordinator": "200 200 404", "outreach": "200 404 404"}),
    ),
    ("POST", "/api/v1/persons/{person_id}/assignments"): Entry(
        lambda world, scope: (
            f"/api/v1/persons/{world.id('person', scope)}/assignments",
            {"json": {"staff_user_id": world.users["outreach_new"].id}},
        ),
        coordinator("201"),
    ),
    ("DELETE", "/api/v1/persons/{person_id}/assignments/{staff_user_id}"): Entry(
        on("person", "/api/v1/persons/{id}/assignments/{worker}"), coordinator("204")
    ),
    ("GET", "/api/v1/cases"): Entry(
        plain("/api/v1/cases"), only({"admin": "200 - -", "coordinator": "200 - -"})
    ),
    ("GET", "/api/v1/cases/{case_id}"): Entry(
        on("case", CASE), only({"admin": "200 200 404", "coordinator": "200 200 404"})
    ),
    ("POST", "/api/v1/cases/{case_id}/status"): Entry(
        on("case", CASE + "/status", lambda w: {"status": "planning"}), coordinator("200")
    ),
    ("POST", "/api/v1/cases/{case_id}/close"): Entry(
        on("case", CASE + "/close", lambda w: {"reason": "転居"}), coordinator("200")
    ),
    ("POST", "/api/v1/cases/{case_id}/consents"): Entry(
        on("case", CASE + "/consents", lambda w: _consent_body("atsuma")), coordinator("201")
    ),
    ("POST", "/api/v1/cases/{case_id}/meetings"): Entry(
        on("case", CASE + "/meetings", lambda w: MEETING), coordinator("201")
    ),
    ("GET", "/api/v1/cases/{case_id}/meetings"): Entry(
        on("case", CASE + "/meetings"),
        only({"admin": "200 200 404", "coordinator": "200 200 404"}),
    ),
    ("PUT", "/api/v1/cases/{case_id}/plan"): Entry(
        on("case", CASE + "/plan", lambda w: PLAN), coordinator("200")
    ),
    ("GET", "/api/v1/cases/{case_id}/plan"): Entry(
        on("case", CASE + "/plan"),
        only({"admin": "200 200 404", "coordinator": "200 200 404"}),
        prepare=_save_plans,
    ),
    ("POST", "/api/v1/cases/{case_id}/monitoring"): Entry(
        on("case", CASE + "/monitoring", lambda w: {"note": "月1回の訪問を継続"}),
        coordinator("201"),
    ),
    ("POST", "/api/v1/consents/{consent_id}/revoke"): Entry(
        on("consent", "/api/v1/consents/{id}/revoke"), coordinator("200")
    ),
    ("GET", "/api/v1/alerts"): Entry(plain("/api/v1/alerts"), only({"coordinator": "200 - -"})),
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): Entry(
        on("alert", "/api/v1/alerts/{id}/acknowledge"), coordinator("200")
    ),
    ("POST", "/api/v1/handovers"): Entry(_handover, only({"bot": "201 - 403"})),
    ("GET", "/api/v1/handovers"): Entry(
        plain("/api/v1/handovers"), only({"coordinator": "200 - -"})
    ),
    ("POST", "/api/v1/handovers/{handover_id}/answer"): Entry(
        on("handover", "/api/v1/handovers/{id}/answer"), coordinator("200")
    ),
    ("GET", "/api/v1/users"): Entry(plain("/api/v1/users"), only({"admin": "200 - -"})),
    ("POST", "/api/v1/users"): Entry(
        lambda world, scope: ("/api/v1/users", {"json": _new_user(world)}),
        only({"admin": "201 - -"}),
    ),
    ("PATCH", "/api/v1/users/{user_id}"): Entry(
        on("user", "/api/v1/users/{id}", lambda w: {"display_name": "窓口担当"}),
        only({"admin": "200 200 404"}),
    ),
    ("DELETE", "/api/v1/users/{user_id}"): Entry(
        on("user", "/api/v1/users/{id}"), only({"admin": "204 204 404"})
    ),
    ("GET", "/api/v1/conversations"): Entry(
        plain("/api/v1/conversations"), only({"coordinator": "200 - -"})
    ),
    ("GET", "/api/v1/conversations/{conversation_id}/messages"): Entry(
        on("conversation", "/api/v1/conversations/{id}/messages"), coordinator("200")
    ),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): Entry(
        on("conversation", "/api/v1/conversations/{id}/messages", lambda w: {"text": "担当です"}),
        coordinator("201"),
    ),
    # Channels answer to their providers' signatures or a chat session, never to staff tokens;
    # a town without channel secrets (as here) has LINE and SMS off.
    ("POST", "/channels/line/{municipality}/webhook"): Entry(
        plain("/channels/line/atsuma/webhook", content=b"{}"), everyone("404 - -")
    ),
    ("POST", "/channels/twilio/{municipality}/sms"): Entry(
        plain("/channels/twilio/atsuma/sms", data={"Body": "x"}), everyone("404 - -")
    ),
    ("POST", "/channels/web/{municipality}/sessions"): Entry(
        plain("/channels/web/atsuma/sessions"), everyone("201 - -")
    ),
    ("POST", "/channels/web/{municipality}/messages"): Entry(
        plain("/channels/web/atsuma/messages", json={"text": "こんにちは"}), everyone("401 - -")
    ),
    ("GET", "/channels/web/{municipality}/stream"): Entry(
        plain("/channels/web/atsuma/stream", params={"token": "unknown"}), everyone("401 - -")
    ),
    ("GET", "/chat"): Entry(plain("/chat"), everyone("200 - -")),
    ("GET", "/api/v1/bodies"): Entry(plain("/api/v1/bodies"), signed_in("200 - -")),
    ("GET", "/api/v1/audit"): Entry(plain("/api/v1/audit"), only({"admin": "200 - -"})),
    ("GET", "/api/v1/stats"): Entry(
        lambda world, scope: (
            "/api/v1/stats",
            {"params": {"municipality": "tomiya" if scope == "other_town" else "atsuma"}},
        ),
        only({"admin": "200 - 403", "coordinator": "200 - 403"}),
    ),
}


def _consultation(world: World, scope: str) -> dict[str, Any]:
    from tests.intake import intake

    town = "tomiya" if scope == "other_town" else "atsuma"
    return intake(ELDERLY, municipality=town, user=f"matrix-{next(world.serial)}")


def test_every_route_has_an_entry():
    routes = set(walk(create_app().routes))
    assert routes - MATRIX.keys() == set(), "routes without an authorization entry"
    assert MATRIX.keys() - routes == set(), "entries for routes that no longer exist"


@pytest.mark.parametrize("route", sorted(MATRIX), ids=" ".join)
def test_the_matrix_holds(world: World, route: tuple[str, str]):
    method, _ = route
    entry = MATRIX[route]
    if entry.prepare:
        entry.prepare(world)
    checks = [
        (role, scope, status)
        for role, line in entry.expect.items()
        for scope, status in zip(SCOPES, line.split(), strict=True)
        if status != "-"
    ]
    # Refusals change nothing, so they go first; the one success per scope goes last.
    checks.sort(key=lambda check: not check[2].startswith("4"))
    failures = []
    for role, scope, expected in checks:
        url, kwargs = entry.call(world, scope)
        headers = world.auth.get(role, {})
        response = world.client.request(method, url, headers=headers, **kwargs)
        if response.status_code != int(expected):
            failures.append(f"{role}/{scope}: {response.status_code} (expected {expected})")
    assert not failures, f"{method} {route[1]}: " + "; ".join(failures)
