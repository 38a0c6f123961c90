"""Outreach contact logs, assignments and the people a worker may see (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.access import Principal
from api.db.models import Alert, AuditEvent, ContactLog, StaffUser
from api.security import lookup_token
from api.services import contacts as service
from api.services.contacts import ContactIn
from tests.intake import COMPOUND, ELDERLY, SHOWN, URGENT
from tests.intake import consult as shared_consult
from tests.rows import count, events

CONTACTS = "/api/v1/contacts"
PERSONS = "/api/v1/persons"
CALM = "母の物忘れが前よりひどくなっている様子。介護の相談をしたいとのこと"


# --- helpers --------------------------------------------------------------------------------


def consult(client, auth, text: str = ELDERLY, user: str = "U1", **extra: Any) -> str:
    """A consultation through the API; returns the person id."""
    return shared_consult(client, auth, text, user=user, **extra)["person_id"]


def entry(**fields: Any) -> dict[str, Any]:
    body = {
        "unidentified": "駅前のベンチにいた60代くらいの男性",
        "contacted_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "place": "駅前",
        "method": "visit",
        "outcome": "met",
        "notes": CALM,
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def user_id(db: Session, auth: dict[str, str]) -> str:
    found = lookup_token(db, auth["Authorization"].removeprefix("Bearer "))
    assert found is not None and found[1] is not None
    staff_user_id = found[1].id
    db.rollback()  # end the read: SQLite writers wait for an open transaction
    return staff_user_id


def log(client, auth, **fields: Any) -> dict[str, Any]:
    response = client.post(CONTACTS, headers=auth, json=entry(**fields))
    assert response.status_code == 201, response.text
    return response.json()


def assign(client, coordinator, person_id: str, worker_id: str):
    return client.post(
        f"{PERSONS}/{person_id}/assignments",
        headers=coordinator,
        json={"staff_user_id": worker_id},
    )


# --- creating logs --------------------------------------------------------------------------


def test_a_contact_with_a_known_person_is_triaged(client, bot, staff, db):
    person_id = consult(client, bot())
    worker = staff("outreach")
    body = entry(person_id=person_id, unidentified=None, method="phone", outcome="met")
    response = client.post(CONTACTS, headers=worker, json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["person_id"] == person_id
    assert created["unidentified"] is None
    assert created["staff_user_id"] == user_id(db, worker)
    assert created["method"] == "phone" and created["outcome"] == "met"
    assert "elderly" in created["triage"]["domains"]
    assert created["triage"]["route"] and created["urgent"] is False
    assert created["alert_id"] is None and created["replayed"] is False
    assert count(db, ContactLog, ContactLog.person_id == person_id) == 1
    assert count(db, Alert) == 0
    assert events(db, "create", "contact_log", created["id"]) == 1


def test_a_contact_with_an_unidentified_person_without_notes(client, staff, db):
    created = log(client, staff("outreach"), notes=None, outcome="refused")
    assert created["person_id"] is None
    assert created["unidentified"].startswith("駅前")
    assert created["triage"] is None and created["urgent"] is False
    assert created["outcome"] == "refused"


def test_a_coordinator_may_log_a_contact_too(client, staff):
    assert log(client, staff("coordinator"), method="letter", outcome="letter_sent")["id"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"person_id": "PERSON"}, "person_or_unidentified"),  # both given
        ({"unidentified": None}, "person_or_unidentified"),  # neither
        ({"unidentified": "   "}, "person_or_unidentified"),  # blank is absent
        ({"unidentified": None, "person_id": "no-such-person"}, "unknown_person"),
        ({"unidentified": None, "person_id": "TOMIYA"}, "unknown_person"),
        ({"contacted_at": "2025-01-01T10:00:00"}, "invalid_request"),  # naive
        ({"contacted_at": "FUTURE"}, "contacted_at_future"),
        ({"method": "email"}, "invalid_request"),
        ({"outcome": "great"}, "invalid_request"),
        ({"notes": "a\x00b"}, "invalid_request"),
        ({"client_ref": ""}, "invalid_request"),
    ],
)
def test_bad_entries_are_422(client, bot, staff, db, change, code):
    person_id = consult(client, bot())
    other_town = consult(client, bot("tomiya"), municipality="tomiya")
    values = {"PERSON": person_id, "TOMIYA": other_town}
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    change = {
        k: future if v == "FUTURE" else values.get(v, v) if isinstance(v, str) else v
        for k, v in change.items()
    }
    body = entry()
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    response = client.post(CONTACTS, headers=staff("outreach"), json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert "駅前" not in response.text  # the entry's words are not echoed
    assert count(db, ContactLog) == 0


def test_a_clock_a_little_ahead_is_accepted(client, staff):
    ahead = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    assert log(client, staff("outreach"), contacted_at=ahead)["id"]


# --- offline entries ------------------------------------------------------------------------


def test_an_offline_entry_sent_twice_is_stored_once(client, staff, db):
    worker = staff("outreach")
    body = entry(client_ref="phone-7f3a-0001", contacted_at="2025-06-01T09:30:00+09:00")
    first = client.post(CONTACTS, headers=worker, json=body)
    again = client.post(CONTACTS, headers=worker, json=body)
    assert first.status_code == 201 and again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["replayed"] is True
    assert count(db, ContactLog) == 1
    changed = client.post(CONTACTS, headers=worker, json={**body, "notes": "別の内容"})
    assert changed.status_code == 409
    assert changed.json()["code"] == "client_ref_conflict"
    moved = client.post(CONTACTS, headers=worker, json={**body, "outcome": "not_home"})
    assert moved.status_code == 409
    assert count(db, ContactLog) == 1
    # A client_ref is the worker's own: another worker's entry with it is another log.
    other = client.post(CONTACTS, headers=staff("outreach"), json=body)
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert count(db, ContactLog) == 2


def test_a_concurrent_duplicate_gets_the_stored_log(client, staff, db, monkeypatch):
    worker = staff("outreach")
    body = entry(client_ref="race-1")
    stored = client.post(CONTACTS, headers=worker, json=body).json()
    real_replay = service._replay
    calls = []

    def late_replay(*args):  # the first look finds nothing: the other request commits later
        calls.append(1)
        return None if len(calls) == 1 else real_replay(*args)

    monkeypatch.setattr(service, "_replay", late_replay)
    principal = Principal(
        id=user_id(db, worker), role="outreach", municipality="atsuma", username=None, body_id=None
    )
    found, created = service.submit(db, principal, ContactIn.model_validate(body))
    assert created is False and found.id == stored["id"]
    assert len(calls) == 2
    assert count(db, ContactLog) == 1


# --- urgent notes ---------------------------------------------------------------------------


def test_an_urgent_note_raises_an_alert(client, bot, staff, db):
    person_id = consult(client, bot(), COMPOUND)  # the person has an open case
    created = log(client, staff("outreach"), person_id=person_id, unidentified=None, notes=URGENT)
    assert created["urgent"] is True and created["triage"]["urgent"] is True
    assert created["alert_id"]
    alert = db.get(Alert, created["alert_id"])
    assert alert is not None
    assert (alert.contact_log_id, alert.municipality) == (created["id"], "atsuma")
    assert alert.reasons and alert.case_id is not None
    assert alert.acknowledged_at is None
    db.rollback()
    assert events(db, "create", "alert", created["alert_id"]) == 1
    coordinator = staff("coordinator")
    shown = client.get(f"{CONTACTS}/{created['id']}", headers=coordinator)
    assert shown.json()["alert_id"] == created["alert_id"]
    queue = client.get("/api/v1/alerts", headers=coordinator).json()  # the duty queue
    assert {a["contact_log_id"] for a in queue if a["id"] == created["alert_id"]} == {created["id"]}


def test_an_urgent_note_on_an_unidentified_person_raises_an_alert(client, staff, db):
    created = log(client, staff("outreach"), notes=URGENT)
    assert created["alert_id"]
    assert count(db, Alert, Alert.contact_log_id == created["id"], Alert.case_id.is_(None)) == 1


# --- who sees which logs --------------------------------------------------------------------


def test_workers_see_only_their_own_logs_newest_first(client, staff, db):
    alice, bob = staff("outreach"), staff("outreach")
    old = log(client, alice, contacted_at="2025-05-01T10:00:00+09:00")
    new = log(client, alice, contacted_at="2025-05-02T10:00:00+09:00")
    bobs = log(client, bob)
    listed = client.get(CONTACTS, headers=alice)
    assert [c["id"] for c in listed.json()] == [new["id"], old["id"]]
    assert client.get(f"{CONTACTS}/{bobs['id']}", headers=alice).status_code == 404
    assert client.get(f"{CONTACTS}/{old['id']}", headers=alice).status_code == 200
    assert [c["id"] for c in client.get(CONTACTS, headers=bob).json()] == [bobs["id"]]


def test_a_coordinator_sees_the_towns_logs_and_no_other_town_does(client, bot, staff):
    person_id = consult(client, bot())
    alice, bob, coordinator = staff("outreach"), staff("outreach"), staff("coordinator")
    a = log(client, alice, person_id=person_id, unidentified=None)
    b = log(client, bob)
    listed = {c["id"] for c in client.get(CONTACTS, headers=coordinator).json()}
    assert listed == {a["id"], b["id"]}
    by_person = client.get(CONTACTS, headers=coordinator, params={"person_id": person_id})
    assert [c["id"] for c in by_person.json()] == [a["id"]]
    assert client.get(f"{CONTACTS}/{b['id']}", headers=coordinator).status_code == 200
    elsewhere = staff("coordinator", "tomiya")
    assert client.get(CONTACTS, headers=elsewhere).json() == []
    assert client.get(f"{CONTACTS}/{a['id']}", headers=elsewhere).status_code == 404
    far_worker = staff("outreach", "tomiya")
    assert client.get(f"{CONTACTS}/{a['id']}", headers=far_worker).status_code == 404


def test_reads_are_audited_one_event_per_log(client, staff, db):
    worker = staff("outreach")
    ids = [log(client, worker)["id"], log(client, worker)["id"]]
    assert client.get(CONTACTS, headers=worker).status_code == 200
    for contact_id in ids:
        assert events(db, "read", "contact_log", contact_id) == 1
    client.get(f"{CONTACTS}/{ids[0]}", headers=worker)
    assert events(db, "read", "contact_log", ids[0]) == 2


@pytest.mark.parametrize("who", ["body_staff", "admin", "bot"])
def test_other_roles_are_refused(client, bot, staff, db, who):
    person_id = consult(client, bot())
    worker = staff("outreach")
    contact_id = log(client, worker)["id"]
    auth = (
        bot()
        if who == "bot"
        else staff(who, body="atsuma-houkatsu" if who == "body_staff" else None)
    )
    before = count(db, AuditEvent)
    calls = [
        ("POST", CONTACTS, entry()),
        ("GET", CONTACTS, None),
        ("GET", f"{CONTACTS}/{contact_id}", None),
        ("GET", PERSONS, None),
        ("GET", f"{PERSONS}/{person_id}", None),
        ("POST", f"{PERSONS}/{person_id}/assignments", {"staff_user_id": user_id(db, worker)}),
        ("DELETE", f"{PERSONS}/{person_id}/assignments/{user_id(db, worker)}", None),
    ]
    for method, url, body in calls:
        response = client.request(method, url, headers=auth, json=body)
        assert response.status_code == 403, (method, url, response.text)
    assert count(db, AuditEvent) == before


def test_no_token_is_401(client):
    assert client.get(CONTACTS).status_code == 401
    assert client.get(PERSONS).status_code == 401


# --- people and assignments -----------------------------------------------------------------


def test_a_worker_sees_only_the_people_assigned_to_them(client, bot, staff, db):
    person_id = consult(
        client,
        bot(),
        contact={"method": "phone", "name": "山田花子", "phone": "090-0000-0000"},
        household=[{"relation": "本人", "age": 52}, {"relation": "父", "age": 84}],
    )
    worker, colleague, coordinator = staff("outreach"), staff("outreach"), staff("coordinator")
    theirs = log(client, worker, person_id=person_id, unidentified=None)
    log(client, colleague, person_id=person_id, unidentified=None)
    assert client.get(f"{PERSONS}/{person_id}", headers=worker).status_code == 404
    assert client.get(PERSONS, headers=worker).json() == []

    response = assign(client, coordinator, person_id, user_id(db, worker))
    assert response.status_code == 201, response.text
    assert assign(client, coordinator, person_id, user_id(db, worker)).status_code == 200
    shown = client.get(f"{PERSONS}/{person_id}", headers=worker)
    assert shown.status_code == 200, shown.text
    person = shown.json()
    assert (person["name"], person["phone"]) == ("山田花子", "090-0000-0000")
    assert person["disclosure"] == "assignment"
    assert [m["relation"] for m in person["household"]] == ["本人", "父"]
    assert person["assigned_to"] is None  # coordinators' business
    assert [c["id"] for c in person["recent_contacts"]] == [theirs["id"]]  # own logs only
    assert [p["id"] for p in client.get(PERSONS, headers=worker).json()] == [person_id]
    assert client.get(f"{PERSONS}/{person_id}", headers=colleague).status_code == 404
    assert events(db, "read", "person", person_id) == 2
    assert events(db, "create", "assignment") == 1

    removed = client.delete(
        f"{PERSONS}/{person_id}/assignments/{user_id(db, worker)}", headers=coordinator
    )
    assert removed.status_code == 204
    assert client.get(f"{PERSONS}/{person_id}", headers=worker).status_code == 404
    again = client.delete(
        f"{PERSONS}/{person_id}/assignments/{user_id(db, worker)}", headers=coordinator
    )
    assert again.status_code == 404
    assert events(db, "delete", "assignment") == 1


def test_the_coordinator_sees_names_only_on_a_recorded_basis(client, bot, staff, db):
    named = {"method": "phone", "name": "佐藤一郎", "phone": "080-1111-2222"}
    compound = consult(client, bot(), COMPOUND, user="U-c", contact=named)  # consent: 多機関協働
    simple = consult(client, bot(), ELDERLY, user="U-s", contact=named)  # consent: 包括 only
    coordinator = staff("coordinator")
    listed = {p["id"]: p for p in client.get(PERSONS, headers=coordinator).json()}
    assert set(listed) == {compound, simple}
    assert listed[compound]["disclosure"] == "consent"
    assert listed[compound]["name"] == "佐藤一郎"
    assert listed[simple]["disclosure"] is None
    assert listed[simple]["name"] is None and listed[simple]["phone"] is None
    assert listed[simple]["household"] is None
    assert listed[simple]["assigned_to"] == []
    assert events(db, "read", "person", simple) == 1
    assert client.get(f"{PERSONS}/{simple}", headers=coordinator).status_code == 200
    elsewhere = staff("coordinator", "tomiya")
    assert client.get(PERSONS, headers=elsewhere).json() == []
    assert client.get(f"{PERSONS}/{simple}", headers=elsewhere).status_code == 404


def test_the_coordinators_list_is_paginated(client, bot, staff):
    ids = {consult(client, bot(), user=f"U{i}") for i in range(3)}
    coordinator = staff("coordinator")
    first = client.get(PERSONS, headers=coordinator, params={"limit": 2}).json()
    rest = client.get(PERSONS, headers=coordinator, params={"limit": 2, "offset": 2}).json()
    assert len(first) == 2 and len(rest) == 1
    assert {p["id"] for p in first + rest} == ids


def test_only_active_outreach_workers_of_the_town_are_assigned(client, bot, staff, db):
    person_id = consult(client, bot())
    coordinator = staff("coordinator")
    body_staff = user_id(db, staff("body_staff", body="atsuma-houkatsu"))
    far_worker = user_id(db, staff("outreach", "tomiya"))
    retired = user_id(db, staff("outreach"))
    db.get(StaffUser, retired).active = False
    db.commit()
    for staff_user_id in (body_staff, far_worker, retired, "no-such-user"):
        response = assign(client, coordinator, person_id, staff_user_id)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "not_an_outreach_worker"
    worker = user_id(db, staff("outreach"))
    elsewhere = staff("coordinator", "tomiya")
    assert assign(client, elsewhere, person_id, worker).status_code == 404
    assert assign(client, staff("outreach"), person_id, worker).status_code == 403
    assert count(db, AuditEvent, AuditEvent.object_type == "assignment") == 0


def test_ids_no_record_can_have_are_not_found(client, staff):
    """NUL or a lone surrogate in an id: PostgreSQL refuses such a parameter; answer 404."""
    coordinator = staff("coordinator")
    for url in (f"{CONTACTS}/%00", f"{PERSONS}/%00", f"{CONTACTS}/%ED%A0%80"):
        assert client.get(url, headers=coordinator).status_code == 404, url
    assert client.get(CONTACTS, headers=coordinator, params={"person_id": "\x00"}).json() == []
    assert client.delete(f"{PERSONS}/x/assignments/%00", headers=coordinator).status_code == 404


def test_a_support_meeting_lets_the_coordinator_see_who_it_is(client, bot, staff, db):
    from datetime import date

    from api.db.models import Case, Meeting, MeetingAttendee

    body = {
        "municipality": "atsuma",
        "channel": "line",
        "channel_user_id": "U-no-consent",
        "text": COMPOUND,
        "contact": {"method": "phone", "name": "鈴木次郎"},
        "consent": {"share_with_bodies": False, "shown_text": SHOWN, "captured_via": "line"},
    }
    created = client.post("/api/v1/consultations", headers=bot(), json=body).json()
    coordinator = staff("coordinator")
    url = f"{PERSONS}/{created['person_id']}"
    assert client.get(url, headers=coordinator).json()["name"] is None
    case = db.get(Case, created["case_id"])
    assert case is not None
    meeting = Meeting(
        case_id=case.id, kind="support_meeting", legal_basis="art106_6", held_on=date.today()
    )
    meeting.attendees = [
        MeetingAttendee(body_id="atsuma-tajikan", name="多機関協働", confidentiality_bound=True)
    ]
    db.add(meeting)
    db.commit()
    shown = client.get(url, headers=coordinator).json()
    assert (shown["disclosure"], shown["name"]) == ("support_meeting", "鈴木次郎")
