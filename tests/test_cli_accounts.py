"""The tsunagu command for the database, accounts and tokens (CliRunner, both backends)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from api.cli import app
from api.db.models import ApiToken, AuditEvent, StaffUser, utcnow
from api.db.session import engine_for
from api.security import check_password
from api.settings import get_settings

PASSWORD = "a long enough passphrase"
LOGIN = "/api/v1/auth/token"


@pytest.fixture
def runner():
    return CliRunner()


def add(runner, username="ito", role="coordinator", municipality="atsuma", body=None, stdin=None):
    args = ["users", "add", "--username", username, "--role", role, "-m", municipality]
    args += ["--body", body] if body else []
    return runner.invoke(app, [*args, "--password-stdin"], input=stdin or PASSWORD + "\n")


def said(out) -> str:
    """Standard error as one line: Rich wraps long messages at the terminal width."""
    return " ".join(out.stderr.split())


def stored(db, username):
    user = db.scalar(select(StaffUser).where(StaffUser.username == username))
    db.commit()  # end the read: SQLite holds its write lock until then
    return user


def sign_in(client, username="ito", password=PASSWORD):
    response = client.post(LOGIN, data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# --- db upgrade and the schema check -------------------------------------------------------


@pytest.fixture
def fresh_sqlite(tmp_path, monkeypatch):
    """A database URL pointing at a file that does not exist yet."""
    path = tmp_path / "fresh.db"
    monkeypatch.setenv("TSUNAGU_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_only_db_upgrade_migrates(runner, fresh_sqlite):
    refused = add(runner)
    assert refused.exit_code == 2
    assert "run tsunagu db upgrade" in said(refused)
    assert not fresh_sqlite.exists()  # nothing created on the way

    sqlite3.connect(fresh_sqlite).close()  # an empty file: no schema
    for command in (["audit", "verify"], ["tokens", "create", "-m", "atsuma"]):
        empty = runner.invoke(app, command)
        assert empty.exit_code == 2
        assert "no schema" in said(empty) and "run tsunagu db upgrade" in said(empty)
        assert empty.stdout == ""
    assert inspect(engine_for(f"sqlite:///{fresh_sqlite}")).get_table_names() == []

    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "revision" in upgraded.stdout
    assert add(runner).exit_code == 0


def test_db_upgrade_is_idempotent_and_syncs_bodies(runner, database_url):
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert runner.invoke(app, ["db", "upgrade"]).stdout == first.stdout
    assert "active bodies" in first.stdout


# --- users ---------------------------------------------------------------------------------


def test_users_add_hashes_the_password_and_audits(runner, db, client):
    out = add(runner, body=None)
    assert out.exit_code == 0, out.output
    assert "ito" in out.stdout and PASSWORD not in out.output
    user = stored(db, "ito")
    assert (user.role, user.municipality, user.body_id, user.active) == (
        "coordinator",
        "atsuma",
        None,
        True,
    )
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/api/v1/stats", headers=sign_in(client)).status_code == 200
    trail = db.scalars(select(AuditEvent).where(AuditEvent.object_id == user.id)).all()
    db.commit()
    assert [e.action for e in trail] == ["create", "sign_in"]
    event = trail[0]
    assert event.actor.startswith("cli:") and event.object_type == "staff_user"
    assert (event.role, event.municipality) == ("admin", "atsuma")


def test_only_one_trailing_newline_is_stripped(runner, db):
    assert add(runner, stdin=PASSWORD + "\n\n").exit_code == 0
    user = stored(db, "ito")
    assert check_password(user, PASSWORD + "\n")
    assert not check_password(user, PASSWORD)
    assert add(runner, username="abe", stdin=PASSWORD + "\r\n").exit_code == 0
    assert check_password(stored(db, "abe"), PASSWORD)


def test_password_prompt_when_not_from_stdin(runner, db):
    args = ["users", "add", "-u", "ito", "--role", "admin", "-m", "atsuma"]
    out = runner.invoke(app, args, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert out.exit_code == 0, out.output
    assert check_password(stored(db, "ito"), PASSWORD)


def test_body_staff_need_a_body_of_their_town(runner, db):
    missing = add(runner, role="body_staff")
    assert missing.exit_code == 2 and "--body" in said(missing)
    elsewhere = add(runner, role="body_staff", body="tomiya-kodomo")
    assert elsewhere.exit_code == 2
    assert "tomiya" in said(elsewhere) and "atsuma" in said(elsewhere)
    assert stored(db, "ito") is None
    good = add(runner, role="body_staff", body="atsuma-houkatsu")
    assert good.exit_code == 0, good.output
    assert stored(db, "ito").body_id == "atsuma-houkatsu"


@pytest.mark.parametrize(
    ("kwargs", "stdin", "message"),
    [
        ({"role": "superuser"}, None, "Unknown role"),
        ({"municipality": "nowhere"}, None, "Unknown municipality"),
        ({}, "elevenchars\n", "12 characters"),
        ({}, "\n", "12 characters"),
    ],
)
def test_bad_users_are_refused(runner, db, kwargs, stdin, message):
    out = add(runner, stdin=stdin, **kwargs)
    assert out.exit_code == 2
    assert message in said(out)
    assert stored(db, "ito") is None


def test_duplicate_username_is_a_clear_error(runner, db):
    assert add(runner).exit_code == 0
    again = add(runner, role="admin")
    assert again.exit_code == 2
    assert "taken" in said(again)
    assert stored(db, "ito").role == "coordinator"


def test_users_remove_deactivates_and_revokes(runner, db, client):
    assert add(runner).exit_code == 0
    auth = sign_in(client)
    out = runner.invoke(app, ["users", "remove", "--username", "ito"])
    assert out.exit_code == 0, out.output
    assert "1 token" in out.stdout
    assert client.get("/api/v1/stats", headers=auth).status_code == 401
    bad = client.post(LOGIN, data={"username": "ito", "password": PASSWORD})
    assert bad.status_code == 401
    user = stored(db, "ito")
    assert user.active is False
    tokens = db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    db.commit()
    assert tokens and all(t.revoked_at is not None for t in tokens)
    missing = runner.invoke(app, ["users", "remove", "--username", "nobody"])
    assert missing.exit_code == 2 and "No user" in said(missing)


def test_set_role_ends_the_old_roles_tokens(runner, db, client):
    assert add(runner, role="body_staff", body="atsuma-houkatsu").exit_code == 0
    auth = sign_in(client)
    assert client.get("/api/v1/referrals", headers=auth).status_code == 200
    out = runner.invoke(app, ["users", "set-role", "-u", "ito", "--role", "coordinator"])
    assert out.exit_code == 0, out.output
    assert "body_staff -> coordinator" in out.stdout
    assert client.get("/api/v1/referrals", headers=auth).status_code == 401
    user = stored(db, "ito")
    assert (user.role, user.body_id) == ("coordinator", None)
    # Signing in again gives a token of the new role.
    assert client.get("/api/v1/stats", headers=sign_in(client)).status_code == 200
    events = db.scalars(select(AuditEvent).where(AuditEvent.object_id == user.id)).all()
    db.commit()
    assert ("update", "role,body") in [(e.action, e.basis) for e in events]


def test_set_role_to_body_staff_needs_a_body(runner, db):
    assert add(runner).exit_code == 0
    refused = runner.invoke(app, ["users", "set-role", "-u", "ito", "--role", "body_staff"])
    assert refused.exit_code == 2 and "--body" in said(refused)
    args = ["users", "set-role", "-u", "ito", "--role", "body_staff", "--body", "atsuma-shogai"]
    assert runner.invoke(app, args).exit_code == 0
    assert stored(db, "ito").body_id == "atsuma-shogai"


# --- tokens --------------------------------------------------------------------------------


def create_token(runner, *extra):
    out = runner.invoke(app, ["tokens", "create", "--role", "bot", "-m", "atsuma", *extra])
    assert out.exit_code == 0, out.output
    return out


def test_tokens_create_prints_only_the_token(runner, db, client):
    out = create_token(runner, "--label", "line-bot", "--days", "2")
    token = out.stdout.removesuffix("\n")
    assert out.stdout == token + "\n" and token and " " not in token
    assert "line-bot" in said(out) and token not in said(out)
    record = db.scalar(select(ApiToken).where(ApiToken.label == "line-bot"))
    db.commit()
    assert (record.role, record.municipality, record.user_id) == ("bot", "atsuma", None)
    assert (
        timedelta(days=2) - timedelta(minutes=5) < record.expires_at - utcnow() <= timedelta(days=2)
    )
    assert record.token_hash != token  # only the digest is stored
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/bodies", headers=auth).status_code == 200
    assert client.get("/api/v1/users", headers=auth).status_code == 403


def test_tokens_revoke_by_label_and_by_id(runner, db, client):
    first = create_token(runner, "--label", "line-bot").stdout.strip()
    second = create_token(runner, "--label", "sms-bot").stdout.strip()
    revoked = runner.invoke(app, ["tokens", "revoke", "--label", "line-bot"])
    assert revoked.exit_code == 0, revoked.output
    assert (
        client.get("/api/v1/bodies", headers={"Authorization": f"Bearer {first}"}).status_code
        == 401
    )
    assert (
        client.get("/api/v1/bodies", headers={"Authorization": f"Bearer {second}"}).status_code
        == 200
    )
    record = db.scalar(select(ApiToken).where(ApiToken.label == "sms-bot"))
    db.commit()
    assert runner.invoke(app, ["tokens", "revoke", "--id", record.id]).exit_code == 0
    assert (
        client.get("/api/v1/bodies", headers={"Authorization": f"Bearer {second}"}).status_code
        == 401
    )
    again = runner.invoke(app, ["tokens", "revoke", "--label", "line-bot"])
    assert again.exit_code == 2 and "No live token" in said(again)
    assert runner.invoke(app, ["tokens", "revoke"]).exit_code == 2


@pytest.mark.parametrize(
    "args",
    [["--role", "admin", "-m", "atsuma"], ["-m", "nowhere"], ["-m", "atsuma", "--days", "0"]],
)
def test_bad_token_requests_print_no_token(runner, db, args):
    out = runner.invoke(app, ["tokens", "create", *args])
    assert out.exit_code == 2
    assert out.stdout == ""
    assert db.scalar(select(ApiToken)) is None
    db.commit()


def test_token_events_are_audited(runner, db):
    create_token(runner, "--label", "line-bot")
    runner.invoke(app, ["tokens", "revoke", "--label", "line-bot"])
    trail = db.scalars(select(AuditEvent).where(AuditEvent.object_type == "api_token")).all()
    db.commit()
    assert [(e.action, e.municipality) for e in trail] == [
        ("create", "atsuma"),
        ("revoke", "atsuma"),
    ]
    assert all(e.actor.startswith("cli:") for e in trail)


# --- audit verify ----------------------------------------------------------------------------


def test_audit_verify_counts_the_events(runner, db):
    assert add(runner).exit_code == 0
    create_token(runner)
    out = runner.invoke(app, ["audit", "verify"])
    assert out.exit_code == 0, out.output
    assert "intact: 2 events" in out.stdout
