"""The coordinator's page of residents who asked to talk to a person (人と話したい) over
plain HTTP: the town's requests, open first, with the person's conversations, and a button
that marks one answered through the API's own service. Fictional people."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from api.db.models import AuditEvent, HandoverRequest, utcnow
from api.db.session import engine_for
from tests.rows import count, events, fields
from tests.staff import account, csrf_of, log_in
from tests.test_staff_conversations import BOT_ANSWER, chat, labelled

URL = "/api/v1/handovers"
PAGE = "/staff/handovers"


def ask(client, bot, user: str, municipality: str = "atsuma", channel: str = "line") -> dict:
    """The bot hands in a resident's request; the stored request's id and person."""
    response = client.post(
        URL,
        headers=bot(municipality),
        json={"municipality": municipality, "channel": channel, "channel_user_id": user},
    )
    assert response.status_code == 201, response.text
    return response.json()


def person_of(db: Session, handover_id: str) -> str:
    return fields(db, HandoverRequest, handover_id, "person_id")[0]


def set_times(db: Session, handover_id: str, minutes_ago: int, due_in_minutes: int) -> None:
    at = utcnow() - timedelta(minutes=minutes_ago)
    db.execute(
        update(HandoverRequest)
        .where(HandoverRequest.id == handover_id)
        .values(requested_at=at, answer_by=utcnow() + timedelta(minutes=due_in_minutes))
    )
    db.commit()


def test_the_page_lists_the_towns_requests_open_first_with_the_conversation(client, db, bot):
    user_id = account(db, "sato", "coordinator").id
    older = ask(client, bot, "U-ho-older")["id"]
    newer = ask(client, bot, "U-ho-newer", channel="sms")["id"]
    done = ask(client, bot, "U-ho-done", channel="web")["id"]
    set_times(db, older, minutes_ago=120, due_in_minutes=-60)  # overdue
    set_times(db, newer, minutes_ago=10, due_in_minutes=50)
    set_times(db, done, minutes_ago=5, due_in_minutes=55)  # newest, but answered
    db.execute(
        update(HandoverRequest)
        .where(HandoverRequest.id == done)
        .values(answered_at=utcnow(), answered_by=user_id)
    )
    db.commit()
    conversation_id = chat(db, person_of(db, older))
    elsewhere = ask(client, bot, "U-ho-tomiya", municipality="tomiya")["id"]

    log_in(client, "sato")
    cases = client.get("/staff/cases")
    assert f'href="{PAGE}"' in cases.text and "人と話したい" in cases.text
    page = client.get(PAGE)
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    labelled(page.text)
    # Open first (newest first among them), then the answered one.
    at = [page.text.index(f'id="handover-{h}"') for h in (newer, older, done)]
    assert at == sorted(at)
    assert f'id="handover-{elsewhere}"' not in page.text
    older_row = page.text[at[1] : at[2]]
    assert "期限切れ" in older_row and "LINE" in older_row
    assert f'href="/staff/conversations/{conversation_id}"' in older_row
    assert "期限切れ" not in page.text[at[0] : at[1]]
    assert "SMS" in page.text[at[0] : at[1]] and "なし" in page.text[at[0] : at[1]]
    done_row = page.text[at[2] :]
    assert "対応済み（satoさん・" in done_row and "Webチャット" in done_row
    assert f"/staff/handovers/{done}/answer" not in page.text
    assert f'action="/staff/handovers/{older}/answer"' in page.text
    assert BOT_ANSWER not in page.text and 'id="messages"' not in page.text  # no messages
    # Audited as the API's reads: the requests on the basis duty, the chat as listed.
    for handover_id in (older, newer, done):
        assert events(db, "read", "handover_request", handover_id) == 1
    read = (AuditEvent.actor == user_id, AuditEvent.basis == "duty")
    assert count(db, AuditEvent, AuditEvent.object_type == "handover_request", *read) == 3
    listed = (
        AuditEvent.action == "read",
        AuditEvent.object_id == conversation_id,
        AuditEvent.basis == "resident_contact",
    )
    assert count(db, AuditEvent, *listed) == 1
    assert events(db, "read", "handover_request", elsewhere) == 0


def test_answering_from_the_page_marks_it_once_and_audits(client, db, bot):
    user_id = account(db, "sato", "coordinator").id
    handover_id = ask(client, bot, "U-ho-1")["id"]
    log_in(client, "sato")
    token = csrf_of(client.get(PAGE).text)
    url = f"{PAGE}/{handover_id}/answer"
    answered = client.post(url, data={"csrf_token": token}, follow_redirects=False)
    assert answered.status_code == 303
    assert answered.headers["location"] == f"{PAGE}?ok=answered_handover"
    answered_at, answered_by = fields(
        db, HandoverRequest, handover_id, "answered_at", "answered_by"
    )
    assert answered_at is not None and answered_by == user_id
    after = client.get(answered.headers["location"])
    assert "対応済みにしました。" in after.text and "対応済み（satoさん・" in after.text
    assert f'action="{url}"' not in after.text
    # Again (a second tab): the first answer stays, audited as a read.
    again = client.post(url, data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 303
    assert fields(db, HandoverRequest, handover_id, "answered_at", "answered_by") == (
        answered_at,
        answered_by,
    )
    made = (
        AuditEvent.action == "answer",
        AuditEvent.object_type == "handover_request",
        AuditEvent.object_id == handover_id,
        AuditEvent.actor == user_id,
        AuditEvent.basis == "duty",
    )
    assert count(db, AuditEvent, *made) == 1


def test_an_answer_without_the_csrf_token_is_refused(client, db, bot):
    account(db, "sato", "coordinator")
    handover_id = ask(client, bot, "U-ho-1")["id"]
    log_in(client, "sato")
    url = f"{PAGE}/{handover_id}/answer"
    assert client.post(url, data={}, follow_redirects=False).status_code == 403
    assert client.post(url, data={"csrf_token": "x"}).status_code == 403
    assert fields(db, HandoverRequest, handover_id, "answered_at") == (None,)
    assert events(db, "answer", "handover_request") == 0


def test_body_staff_may_neither_open_nor_answer(client, db, bot):
    account(db, "suzuki", "body_staff", "atsuma-houkatsu")
    handover_id = ask(client, bot, "U-ho-1")["id"]
    log_in(client, "suzuki")
    assert client.get(PAGE).status_code == 403
    page = client.get("/staff/referrals")
    assert f'href="{PAGE}"' not in page.text
    posted = client.post(f"{PAGE}/{handover_id}/answer", data={"csrf_token": csrf_of(page.text)})
    assert posted.status_code == 403
    assert fields(db, HandoverRequest, handover_id, "answered_at") == (None,)
    assert events(db, "read", "handover_request") == 0


def test_another_towns_request_is_404(client, db, bot):
    account(db, "sato", "coordinator")
    handover_id = ask(client, bot, "U-ho-1", municipality="tomiya")["id"]
    log_in(client, "sato")
    token = csrf_of(client.get("/staff/cases").text)
    posted = client.post(f"{PAGE}/{handover_id}/answer", data={"csrf_token": token})
    assert posted.status_code == 404 and "見つかりません" in posted.text
    unknown = client.post(f"{PAGE}/no-such-id/answer", data={"csrf_token": token})
    assert unknown.status_code == 404
    assert fields(db, HandoverRequest, handover_id, "answered_at") == (None,)
    assert events(db, "answer", "handover_request") == 0
    empty = client.get(PAGE)
    assert empty.status_code == 200 and "依頼はありません。" in empty.text


def test_the_conversations_of_all_listed_people_are_read_in_one_query(
    client, db, bot, database_url
):
    account(db, "sato", "coordinator")
    for i in range(4):
        chat(db, person_of(db, ask(client, bot, f"U-ho-many-{i}")["id"]))
    log_in(client, "sato")
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    engine = engine_for(database_url)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = client.get(PAGE)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert page.text.count('href="/staff/conversations/') == 4
    reads = [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT") and "FROM conversations" in s
    ]
    assert len(reads) == 1
