"""A resident asks to talk to a person (人と話したい): the request, the answer deadline, the
coordinator's queue and its answer, least privilege."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.access import Principal
from api.db.models import AuditEvent, Consultation, HandoverRequest, Person, utcnow
from api.db.session import engine_for
from api.services.deadlines import JST, in_office_hours, person_answer_by
from api.services.handovers import HandoverIn, request_handover
from tests.intake import consult

URL = "/api/v1/handovers"


def ask(user: str = "U-ho-1", municipality: str = "atsuma", channel: str = "line") -> dict:
    return {"municipality": municipality, "channel": channel, "channel_user_id": user}


def count(db: Session, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def actions(db: Session, handover_id: str) -> list[str]:
    db.expire_all()
    return list(
        db.scalars(
            select(AuditEvent.action)
            .where(
                AuditEvent.object_type == "handover_request", AuditEvent.object_id == handover_id
            )
            .order_by(AuditEvent.seq)
        )
    )


@pytest.fixture
def coord(staff):
    return staff("coordinator")


# --- by when a person answers ---------------------------------------------------------------


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)


@pytest.mark.parametrize(
    ("now", "answer_by"),
    [
        (jst(2026, 11, 24, 10, 0), jst(2026, 11, 24, 11, 0)),  # Tuesday, in office hours
        (jst(2026, 11, 24, 8, 30), jst(2026, 11, 24, 9, 30)),  # at opening
        (jst(2026, 11, 24, 17, 14), jst(2026, 11, 24, 18, 14)),  # a minute before closing
        (jst(2026, 11, 24, 17, 15), jst(2026, 11, 25, 9, 30)),  # closed
        (jst(2026, 11, 24, 19, 0), jst(2026, 11, 25, 9, 30)),  # weekday evening
        (jst(2026, 11, 25, 6, 0), jst(2026, 11, 25, 9, 30)),  # before opening: the same day
        (jst(2026, 11, 27, 18, 0), jst(2026, 11, 30, 9, 30)),  # Friday evening: Monday
        (jst(2026, 11, 28, 11, 0), jst(2026, 11, 30, 9, 30)),  # Saturday
        (jst(2026, 11, 23, 10, 0), jst(2026, 11, 24, 9, 30)),  # 勤労感謝の日 (a Monday)
        (jst(2026, 11, 20, 18, 0), jst(2026, 11, 24, 9, 30)),  # Friday, then the holiday
        (jst(2026, 12, 30, 10, 0), jst(2027, 1, 4, 9, 30)),  # 年末年始: closed to 1/3
    ],
)
def test_a_person_answers_within_the_hour_in_office_hours_else_after_opening(now, answer_by):
    assert person_answer_by(now) == answer_by
    assert person_answer_by(now.astimezone(UTC)) == answer_by  # UTC in, the same instant
    assert in_office_hours(now) == (answer_by - now == timedelta(hours=1))


# --- the bot asks ---------------------------------------------------------------------------


def test_asking_records_a_request_with_its_deadline(client, bot, db):
    response = client.post(URL, headers=bot(), json=ask())
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == {
        "id",
        "requested_at",
        "answer_by",
        "within_office_hours",
        "already_requested",
    }
    requested_at = datetime.fromisoformat(created["requested_at"])
    assert datetime.fromisoformat(created["answer_by"]) == person_answer_by(requested_at)
    assert created["within_office_hours"] is in_office_hours(requested_at)
    assert created["already_requested"] is False
    stored = db.get(HandoverRequest, created["id"])
    assert (stored.municipality, stored.channel, stored.answered_at) == ("atsuma", "line", None)
    assert actions(db, created["id"]) == ["create"]


def test_asking_again_returns_the_open_request(client, bot, db):
    first = client.post(URL, headers=bot(), json=ask())
    again = client.post(URL, headers=bot(), json=ask())
    assert again.status_code == 200
    assert again.json() == first.json() | {"already_requested": True}
    assert count(db, HandoverRequest) == 1
    assert actions(db, first.json()["id"]) == ["create"]


def test_the_person_is_the_one_behind_the_channel_identity(client, bot, db):
    consulted = consult(client, bot(), user="U-ho-1")
    created = client.post(URL, headers=bot(), json=ask("U-ho-1")).json()
    assert db.get(HandoverRequest, created["id"]).person_id == consulted["person_id"]
    other_channel = client.post(URL, headers=bot(), json=ask("U-ho-1", channel="web")).json()
    assert db.get(HandoverRequest, other_channel["id"]).person_id != consulted["person_id"]
    assert count(db, Person) == 2 and count(db, Consultation) == 1


@pytest.mark.parametrize("known", [False, True], ids=["new person", "known person"])
def test_asking_at_once_makes_one_open_request(database_url, db, known):
    bot = Principal(id="token:t", role="bot", municipality="atsuma", username=None, body_id=None)

    def request(_: int) -> tuple[str, bool]:
        with Session(engine_for(database_url), expire_on_commit=False) as session:
            handover, created = request_handover(session, bot, HandoverIn(**ask("U-new")))
            return handover.id, created

    if known:  # an earlier request, answered: the asks race on the request, not the person
        earlier, _ = request(0)
        answered = update(HandoverRequest).where(HandoverRequest.id == earlier)
        db.execute(answered.values(answered_at=utcnow(), answered_by="someone"))
        db.commit()
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(request, range(12)))
    assert len({hid for hid, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert count(db, HandoverRequest) == 1 + known and count(db, Person) == 1


def test_resident_identifiers_are_not_logged(client, bot, caplog):
    with caplog.at_level(logging.DEBUG):
        assert client.post(URL, headers=bot(), json=ask("U-secret-42")).status_code == 201
        invalid = ask("U-secret-42", channel="fax")
        assert client.post(URL, headers=bot(), json=invalid).status_code == 422
    assert "U-secret-42" not in caplog.text


# --- the coordinator's queue ----------------------------------------------------------------


def test_answering_sets_who_and_when_once(client, bot, coord, staff, db):
    created = client.post(URL, headers=bot(), json=ask()).json()
    answered = client.post(f"{URL}/{created['id']}/answer", headers=coord)
    assert answered.status_code == 200
    body = answered.json()
    assert body["answered_at"] and body["answered_by"] and body["overdue"] is False
    again = client.post(f"{URL}/{created['id']}/answer", headers=staff("coordinator"))
    assert again.status_code == 200 and again.json() == body
    assert actions(db, created["id"]) == ["create", "answer", "read"]
    # Answered: the next ask is a new request.
    next_time = client.post(URL, headers=bot(), json=ask())
    assert next_time.status_code == 201 and next_time.json()["id"] != created["id"]


def test_the_queue_lists_open_first_newest_first(client, bot, coord, db):
    ids = [client.post(URL, headers=bot(), json=ask(f"U-{i}")).json()["id"] for i in range(3)]
    base = utcnow() - timedelta(hours=5)
    for i, handover_id in enumerate(ids):  # oldest first, an hour apart
        at = base + timedelta(hours=i)
        db.execute(
            update(HandoverRequest)
            .where(HandoverRequest.id == handover_id)
            .values(requested_at=at, answer_by=at + timedelta(hours=1))
        )
    db.execute(  # the newest is not due yet
        update(HandoverRequest)
        .where(HandoverRequest.id == ids[2])
        .values(answer_by=utcnow() + timedelta(hours=1))
    )
    db.commit()
    assert client.post(f"{URL}/{ids[1]}/answer", headers=coord).status_code == 200

    listed = client.get(URL, headers=coord)
    assert listed.status_code == 200
    queue = listed.json()
    assert [h["id"] for h in queue] == [ids[2], ids[0], ids[1]]
    assert [h["overdue"] for h in queue] == [False, True, False]
    assert set(queue[0]) == {
        "id",
        "person_id",
        "channel",
        "requested_at",
        "answer_by",
        "answered_at",
        "answered_by",
        "overdue",
    }
    assert "U-0" not in listed.text
    pending = client.get(URL, headers=coord, params={"answered": "false"}).json()
    assert [h["id"] for h in pending] == [ids[2], ids[0]]
    done = client.get(URL, headers=coord, params={"answered": "true"}).json()
    assert [h["id"] for h in done] == [ids[1]]
    first = client.get(URL, headers=coord, params={"limit": 1}).json()
    assert [h["id"] for h in first] == [ids[2]]
    assert client.get(URL, headers=coord, params={"limit": 0}).status_code == 422
    assert actions(db, ids[0]) == ["create", "read", "read"]  # each list that showed it


# --- least privilege ------------------------------------------------------------------------


def test_another_town_neither_sees_nor_answers(client, bot, staff):
    created = client.post(URL, headers=bot(), json=ask()).json()
    tomiya = staff("coordinator", "tomiya")
    assert client.get(URL, headers=tomiya).json() == []
    refused = client.post(f"{URL}/{created['id']}/answer", headers=tomiya)
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    unknown = client.post(f"{URL}/no-such-id/answer", headers=staff("coordinator"))
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


def test_a_bot_asks_only_for_its_own_town(client, bot, db):
    refused = client.post(URL, headers=bot(), json=ask(municipality="tomiya"))
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    unknown = client.post(URL, headers=bot("nowhere"), json=ask(municipality="nowhere"))
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_municipality"
    assert count(db, HandoverRequest) == 0 and count(db, Person) == 0


def test_only_the_bot_asks_and_only_coordinators_read_and_answer(client, bot, staff):
    handover_id = client.post(URL, headers=bot(), json=ask()).json()["id"]
    for role, body in (
        ("coordinator", None),
        ("body_staff", "atsuma-houkatsu"),
        ("outreach", None),
        ("admin", None),
    ):
        assert client.post(URL, headers=staff(role, body=body), json=ask()).status_code == 403
    for auth in (bot(), staff("body_staff", body="atsuma-houkatsu"), staff("admin")):
        assert client.get(URL, headers=auth).status_code == 403
        assert client.post(f"{URL}/{handover_id}/answer", headers=auth).status_code == 403
    assert client.post(URL, json=ask()).status_code == 401
