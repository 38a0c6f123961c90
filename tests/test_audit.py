"""The audit log: reads and writes are recorded, the chain verifies, tampering shows,
and a request whose audit write fails stores nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from typer.testing import CliRunner

import api.audit
from api.audit import verify
from api.cli import app as cli
from api.db.models import AuditEvent, Consultation, Person, Referral
from tests.intake import consult, intake

AUDIT = "/api/v1/audit"


def events(db, **where):
    rows = db.scalars(select(AuditEvent).filter_by(**where).order_by(AuditEvent.seq)).all()
    db.commit()  # end the read: SQLite holds its write lock until then
    return rows


def test_writes_and_reads_are_recorded(client, db, bot, staff):
    created = consult(client, bot("atsuma"))
    referral_id = created["referrals"][0]["id"]
    [write] = events(db, object_type="consultation")
    assert (write.action, write.object_id, write.municipality) == (
        "create",
        created["consultation_id"],
        "atsuma",
    )
    assert write.actor.startswith("token:") and write.role == "bot"
    assert write.request_id

    body = created["referrals"][0]["body_id"]
    response = client.get(
        f"/api/v1/referrals/{referral_id}", headers=staff("body_staff", body=body)
    )
    assert response.status_code == 200
    reads = [e for e in events(db, object_type="referral") if e.action == "read"]
    assert [(e.object_id, e.role, e.basis) for e in reads] == [
        (referral_id, "body_staff", "consent")
    ]
    assert reads[0].request_id == response.headers["X-Request-ID"]


def test_the_chain_verifies(client, db, bot, staff):
    for i in range(3):
        consult(client, bot("atsuma"), user=f"U{i}")
    client.get("/api/v1/referrals", headers=staff("coordinator"))
    report = verify(db)
    total = db.scalar(select(func.count()).select_from(AuditEvent))
    db.commit()
    assert report.ok
    assert report.events == total >= 9


@pytest.mark.parametrize(
    ("tamper", "broken_at"),
    [
        (update(AuditEvent).where(AuditEvent.seq == 2).values(object_id="someone-else"), 2),
        (
            update(AuditEvent)
            .where(AuditEvent.seq == 2)
            .values(at=datetime(2020, 1, 1, tzinfo=UTC)),
            2,
        ),
        # A deleted event breaks the link of the one after it.
        (delete(AuditEvent).where(AuditEvent.seq == 2), 3),
    ],
    ids=["object", "time", "deleted"],
)
def test_tampering_is_detected(client, db, bot, tamper, broken_at):
    for i in range(2):
        consult(client, bot("atsuma"), user=f"U{i}")
    runner = CliRunner()
    intact = runner.invoke(cli, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "intact" in intact.stdout
    total = db.scalar(select(func.count()).select_from(AuditEvent))
    assert f"{total} events" in intact.stdout

    db.execute(tamper)
    db.commit()
    report = verify(db)
    db.commit()
    assert (report.ok, report.broken_at) == (False, broken_at)
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1
    assert f"seq {broken_at} " in broken.stderr


def test_a_failed_audit_write_fails_the_request_and_stores_nothing(
    database_url, db, bot, monkeypatch
):
    auth = bot("atsuma")
    real_record = api.audit.record

    def failing(*args, **kwargs):
        # The event reaches the session, then the audit store fails: all must roll back.
        real_record(*args, **kwargs)
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(api.audit, "record", failing)
    from api.main import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        response = client.post("/api/v1/consultations", headers=auth, json=intake())
    assert response.status_code == 500
    for model in (Consultation, Referral, Person, AuditEvent):
        assert db.scalar(select(func.count()).select_from(model)) == 0, model.__name__
    db.commit()


# --- GET /api/v1/audit ---------------------------------------------------------------------


def test_admin_reads_the_own_towns_events_and_that_read_is_audited(client, db, bot, staff):
    mine = consult(client, bot("atsuma"))
    theirs = consult(client, bot("tomiya"), municipality="tomiya")
    admin = staff("admin")
    response = client.get(AUDIT, headers=admin)
    assert response.status_code == 200, response.text
    page = response.json()
    assert {e["municipality"] for e in page["events"]} == {"atsuma"}
    ids = {e["object_id"] for e in page["events"]}
    assert mine["consultation_id"] in ids and theirs["consultation_id"] not in ids
    seqs = [e["seq"] for e in page["events"]]
    assert seqs == sorted(seqs)
    assert page["next_after"] is None

    [read] = events(db, object_type="audit_log")
    assert (read.action, read.role, read.municipality) == ("read", "admin", "atsuma")
    again = client.get(AUDIT, headers=admin, params={"object_type": "audit_log"}).json()
    assert [e["seq"] for e in again["events"]] == [read.seq]


def test_filters_and_pages(client, db, bot, staff):
    auth = bot("atsuma")
    made = [consult(client, auth, user=f"U{i}") for i in range(3)]
    admin = staff("admin")

    by_type = client.get(AUDIT, headers=admin, params={"object_type": "consultation"}).json()
    assert [e["object_id"] for e in by_type["events"]] == [m["consultation_id"] for m in made]
    one = made[1]["consultation_id"]
    by_id = client.get(AUDIT, headers=admin, params={"object_id": one}).json()["events"]
    assert [(e["action"], e["object_id"]) for e in by_id] == [("create", one)]
    actor = by_id[0]["actor"]
    by_actor = client.get(AUDIT, headers=admin, params={"actor": actor}).json()["events"]
    assert len(by_actor) == 6  # a consultation and a referral each time
    assert {e["actor"] for e in by_actor} == {actor}

    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert client.get(AUDIT, headers=admin, params={"since": future}).json()["events"] == []
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    since = client.get(AUDIT, headers=admin, params={"since": past, "object_type": "referral"})
    assert len(since.json()["events"]) == 3
    naive = client.get(AUDIT, headers=admin, params={"since": "2024-01-01T00:00:00"})
    assert naive.status_code == 422

    # Paging by seq: two at a time over the consultation events, until next_after is null.
    seen, after = [], 0
    while True:
        params = {"object_type": "consultation", "limit": 2, "after": after}
        page = client.get(AUDIT, headers=admin, params=params).json()
        seen += [e["object_id"] for e in page["events"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert seen == [m["consultation_id"] for m in made]


def test_events_carry_their_hashes(client, db, bot, staff):
    consult(client, bot("atsuma"))
    page = client.get(AUDIT, headers=staff("admin")).json()["events"]
    for earlier, later in zip(page, page[1:], strict=False):
        if later["seq"] == earlier["seq"] + 1:
            assert later["prev_hash"] == earlier["hash"]


@pytest.mark.parametrize("role", ["coordinator", "body_staff", "outreach"])
def test_only_admins_read_the_log(client, staff, role):
    body = "atsuma-houkatsu" if role == "body_staff" else None
    assert client.get(AUDIT, headers=staff(role, body=body)).status_code == 403


def test_bot_cannot_read_the_log(client, bot):
    assert client.get(AUDIT, headers=bot("atsuma")).status_code == 403


def test_account_changes_are_audited(client, db, staff):
    admin = staff("admin")
    created = client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "tanaka", "password": "a long enough passphrase", "role": "outreach"},
    ).json()
    client.patch(f"/api/v1/users/{created['id']}", headers=admin, json={"role": "coordinator"})
    client.delete(f"/api/v1/users/{created['id']}", headers=admin)
    trail = events(db, object_type="staff_user", object_id=created["id"])
    assert [(e.action, e.role) for e in trail] == [
        ("create", "admin"),
        ("update", "admin"),
        ("deactivate", "admin"),
    ]
    assert trail[1].basis == "role"
    assert verify(db).ok
    db.commit()
