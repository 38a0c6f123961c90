"""The coordinator's pages for residents' conversations over plain HTTP: the case page lists
the person's chats, a conversation's page shows its messages, and an answer goes out on the
resident's channel through the API's own service. Fictional people."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import (
    AuditEvent,
    Case,
    Conversation,
    InboundMessage,
    OutboundMessage,
    utcnow,
)
from tests.intake import COMPOUND, consult
from tests.rows import count, events
from tests.staff import account, csrf_of, log_in

ASKED = "人と話したい"
BOT_ANSWER = "担当の人につなぎます。少しお待ちください。"


def chat(
    db: Session,
    person_id: str | None,
    *,
    channel: str = "line",
    municipality: str = "atsuma",
    opted_out: bool = False,
) -> str:
    """A conversation with the resident's text, a sticker and the bot's answer; its id."""
    now = utcnow()
    conversation = Conversation(
        municipality=municipality,
        channel=channel,
        external_id=f"U-{channel}-{municipality}-{person_id}",
        person_id=person_id,
        opted_out=opted_out,
        last_inbound_at=now - timedelta(minutes=4),
    )
    db.add(conversation)
    db.flush()
    for i, (kind, text) in enumerate([("text", ASKED), ("sticker", None)]):
        db.add(
            InboundMessage(
                conversation_id=conversation.id,
                municipality=municipality,
                channel=channel,
                event_id=f"ev-{conversation.id}-{i}",
                kind=kind,
                text=text,
                event_at=now - timedelta(minutes=5 - i),
                status="done",
            )
        )
    db.add(
        OutboundMessage(
            conversation_id=conversation.id,
            municipality=municipality,
            channel=channel,
            origin="bot",
            messages=[{"text": BOT_ANSWER}],
            status="sent",
            created_at=now - timedelta(minutes=3),
        )
    )
    db.commit()
    return conversation.id


def case_and_person(client, db: Session, bot) -> tuple[str, str]:
    case_id = consult(client, bot(), COMPOUND)["case_id"]
    person_id = db.get(Case, case_id).person_id
    db.rollback()
    return case_id, person_id


def outbound(db: Session, conversation_id: str, origin: str = "staff") -> list[OutboundMessage]:
    db.expire_all()
    rows = list(
        db.scalars(
            select(OutboundMessage).where(
                OutboundMessage.conversation_id == conversation_id,
                OutboundMessage.origin == origin,
            )
        )
    )
    db.rollback()
    return rows


def labelled(html: str) -> None:
    """Every visible field of the page has a <label for=…>."""
    fields = re.findall(r"<(?:input|textarea|select)\b[^>]*>", html)
    ids = set(re.findall(r'<label[^>]*for="([^"]+)"', html))
    for field in fields:
        if 'type="hidden"' in field:
            continue
        found = re.search(r'id="([^"]+)"', field)
        assert found and found.group(1) in ids, f"no label for {field}"


def test_the_case_page_lists_the_persons_conversations(client, db, bot):
    user_id = account(db, "sato", "coordinator").id
    case_id, person_id = case_and_person(client, db, bot)
    conversation_id = chat(db, person_id, channel="sms", opted_out=True)
    elsewhere = chat(db, None, channel="web")  # nobody's: not on this case
    log_in(client, "sato")
    page = client.get(f"/staff/cases/{case_id}")
    assert page.status_code == 200
    assert "会話（LINE・SMS・Webチャット）" in page.text
    assert f'href="/staff/conversations/{conversation_id}"' in page.text
    assert f"/staff/conversations/{elsewhere}" not in page.text
    assert "SMSの会話" in page.text and "停止中" in page.text
    # Audited as the API's listing: who, on the basis resident_contact.
    listed = (
        AuditEvent.action == "read",
        AuditEvent.object_type == "conversation",
        AuditEvent.object_id == conversation_id,
        AuditEvent.actor == user_id,
        AuditEvent.basis == "resident_contact",
    )
    assert count(db, AuditEvent, *listed) == 1
    assert events(db, "read", "conversation", elsewhere) == 0


def test_a_coordinator_reads_and_answers_a_conversation(client, db, bot):
    user_id = account(db, "sato", "coordinator").id
    _, person_id = case_and_person(client, db, bot)
    conversation_id = chat(db, person_id)
    log_in(client, "sato")
    url = f"/staff/conversations/{conversation_id}"
    page = client.get(url)
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    labelled(page.text)
    # In time order: the resident's text, the sticker (its kind), the bot's answer.
    at = [page.text.index(s) for s in (ASKED, "スタンプ", BOT_ANSWER)]
    assert at == sorted(at)
    assert "自動応答（ボット）" in page.text and "送信済み" in page.text
    assert events(db, "read", "conversation", conversation_id) == 1

    answer = "担当の佐藤です。お話を聞かせてください。"
    sent = client.post(
        f"{url}/messages",
        data={"csrf_token": csrf_of(page.text), "text": answer},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{url}?ok=answered"
    rows = outbound(db, conversation_id)
    assert len(rows) == 1
    assert rows[0].messages[0]["text"] == answer and rows[0].created_by == user_id
    assert rows[0].channel == "line" and rows[0].status == "pending"
    made = (
        AuditEvent.action == "create",
        AuditEvent.object_type == "outbound_message",
        AuditEvent.object_id == str(rows[0].id),
        AuditEvent.actor == user_id,
        AuditEvent.basis == "resident_contact",
    )
    assert count(db, AuditEvent, *made) == 1
    after = client.get(sent.headers["location"])
    assert "返信を送りました" in after.text and answer in after.text
    assert "職員" in after.text and "送信待ち" in after.text


def test_an_answer_without_the_csrf_token_is_refused(client, db, bot):
    account(db, "sato", "coordinator")
    conversation_id = chat(db, case_and_person(client, db, bot)[1])
    log_in(client, "sato")
    url = f"/staff/conversations/{conversation_id}/messages"
    refused = client.post(url, data={"text": "こんにちは"}, follow_redirects=False)
    assert refused.status_code == 403
    wrong = client.post(url, data={"text": "こんにちは", "csrf_token": "x"})
    assert wrong.status_code == 403
    assert outbound(db, conversation_id) == []
    assert events(db, "create", "outbound_message") == 0


def test_an_opted_out_resident_is_not_answered(client, db, bot):
    account(db, "sato", "coordinator")
    conversation_id = chat(db, case_and_person(client, db, bot)[1], channel="sms", opted_out=True)
    log_in(client, "sato")
    url = f"/staff/conversations/{conversation_id}"
    page = client.get(url)
    assert page.status_code == 200
    assert 'id="answer-form"' not in page.text and "返信は送れません" in page.text
    refused = client.post(
        f"{url}/messages", data={"csrf_token": csrf_of(page.text), "text": "こんにちは"}
    )
    assert refused.status_code == 200
    assert 'role="alert"' in refused.text and "受け取りを停止しています" in refused.text
    assert outbound(db, conversation_id) == []
    assert events(db, "create", "outbound_message") == 0


def test_an_empty_answer_is_refused(client, db, bot):
    account(db, "sato", "coordinator")
    conversation_id = chat(db, case_and_person(client, db, bot)[1])
    log_in(client, "sato")
    url = f"/staff/conversations/{conversation_id}"
    token = csrf_of(client.get(url).text)
    refused = client.post(f"{url}/messages", data={"csrf_token": token, "text": "   "})
    assert "入力内容を確認してください" in refused.text
    assert outbound(db, conversation_id) == []


def test_body_staff_may_not_open_a_conversation(client, db, bot):
    account(db, "suzuki", "body_staff", "atsuma-houkatsu")
    conversation_id = chat(db, case_and_person(client, db, bot)[1])
    log_in(client, "suzuki")
    url = f"/staff/conversations/{conversation_id}"
    assert client.get(url).status_code == 403
    token = csrf_of(client.get("/staff/referrals").text)
    posted = client.post(f"{url}/messages", data={"csrf_token": token, "text": "こんにちは"})
    assert posted.status_code == 403
    assert outbound(db, conversation_id) == []
    assert events(db, "read", "conversation", conversation_id) == 0


def test_another_towns_conversation_is_404(client, db):
    account(db, "sato", "coordinator")
    conversation_id = chat(db, None, municipality="tomiya")
    log_in(client, "sato")
    url = f"/staff/conversations/{conversation_id}"
    assert client.get(url).status_code == 404
    assert client.get("/staff/conversations/no-such-id").status_code == 404
    token = csrf_of(client.get("/staff/cases").text)
    posted = client.post(f"{url}/messages", data={"csrf_token": token, "text": "こんにちは"})
    assert posted.status_code == 404
    assert outbound(db, conversation_id) == []
    assert events(db, "read", "conversation", conversation_id) == 0
    # each attempt on another town's conversation is audited; so is an id that names none
    assert events(db, "denied", "conversation", conversation_id) == 2
    assert events(db, "denied", "conversation", "no-such-id") == 1
