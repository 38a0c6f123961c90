"""The worker and the outbox, in this process, against the provider and Rasa stubs running as
a real process: text to the bot and back on the resident's channel, the fixed answer and a
consultation when Rasa is down, the urgent check, SMS choices and opt-out, ordering, staff
answers. On SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.channels import texts
from api.channels.delivery import Deliverer
from api.channels.worker import Worker
from api.db.models import Alert, Consultation, Conversation, InboundMessage, OutboundMessage
from api.settings import get_settings
from tests.channels import (
    channel_env,
    line_headers,
    line_payload,
    sms_params,
    sms_request,
    stub_fault,
    stub_server,
    stub_state,
    text_event,
)

LINE = "/channels/line/atsuma/webhook"
DANGER = "もう死にたい。生きていてもしかたがない"


@pytest.fixture(scope="module")
def stubs(tmp_path_factory) -> Iterator[str]:
    with stub_server(Path(tmp_path_factory.mktemp("stubs")) / "stub.log") as url:
        yield url


@pytest.fixture
def bridge(database_url, stubs, monkeypatch) -> Iterator[tuple[Worker, Deliverer]]:
    httpx.post(f"{stubs}/_stub/reset").raise_for_status()
    for name, value in channel_env(providers=stubs, rasa=stubs).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    worker, deliverer = Worker(), Deliverer(backoff_seconds=0.05)
    yield worker, deliverer
    worker.close()
    deliverer.close()


def one(db: Session, query):
    """A query's first result; the transaction ends at once (on SQLite an open transaction
    holds the write lock the webhooks need)."""
    found = db.scalar(query.execution_options(populate_existing=True))
    db.commit()
    return found


def get(db: Session, model, key):
    found = db.get(model, key, populate_existing=True)
    db.commit()
    return found


def drain(worker: Worker, deliverer: Deliverer, seconds: float = 20) -> None:
    """Runs both loops until nothing is pending or due."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        busy = worker.run_once() + deliverer.run_once()
        if not busy:
            with worker.sessions() as db:
                waiting = one(
                    db,
                    select(func.count())
                    .select_from(OutboundMessage)
                    .where(OutboundMessage.status.in_(("pending", "sending"))),
                )
            if not waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the outbox did not drain")


def line_send(client, *events) -> None:
    body = line_payload(*events)
    assert client.post(LINE, content=body, headers=line_headers(body)).status_code == 200


def texts_to(state: dict, user: str | None = None) -> list[str]:
    return [
        d["message"]["text"] for d in state["line"] if user is None or d.get("to") in (None, user)
    ]


def test_line_text_goes_to_the_bot_and_the_answer_back_by_reply(bridge, client, db, stubs):
    worker, deliverer = bridge
    line_send(client, text_event("U10", "こんにちは"))
    drain(worker, deliverer)
    state = stub_state(stubs)
    [call] = state["rasa"]
    assert call["sender"] == "line:U10" and call["message"] == "こんにちは"
    assert call["metadata"]["municipality"] == "atsuma" and call["metadata"]["channel"] == "line"
    [sent] = state["line"]
    assert sent["via"] == "reply" and sent["message"]["text"] == "bot:こんにちは"
    message = one(db, select(InboundMessage))
    assert (message.status, message.outcome, message.urgent) == ("done", "bot", False)


def test_buttons_become_quick_replies_and_a_postback_reaches_the_bot(bridge, client, db, stubs):
    worker, deliverer = bridge
    line_send(client, text_event("U11", "ボタンを見せて"))
    drain(worker, deliverer)
    [sent] = stub_state(stubs)["line"]
    items = sent["message"]["quickReply"]["items"]
    assert [i["action"]["data"] for i in items] == ["/affirm", "/deny"]
    postback = {k: v for k, v in text_event("U11", "").items() if k != "message"}
    line_send(client, postback | {"type": "postback", "postback": {"data": "/affirm"}})
    drain(worker, deliverer)
    assert stub_state(stubs)["rasa"][-1]["message"] == "/affirm"


def test_a_failed_reply_is_retried_as_a_reply_while_the_token_is_fresh(bridge, client, db, stubs):
    worker, deliverer = bridge
    stub_fault(stubs, "line_reply", "500", count=2)
    line_send(client, text_event("U12", "届きますか"))
    drain(worker, deliverer)
    [sent] = stub_state(stubs)["line"]
    row = one(db, select(OutboundMessage))
    assert sent["via"] == "reply" and (row.status, row.attempts) == ("sent", 3)


def test_an_invalid_token_means_push_with_the_retry_key(bridge, client, db, stubs):
    worker, deliverer = bridge
    stub_fault(stubs, "line_reply", "400", count=1)
    stub_fault(stubs, "line_push", "429", count=2)
    line_send(client, text_event("U12", "届きますか"))
    drain(worker, deliverer)
    state = stub_state(stubs)
    [sent] = state["line"]
    row = one(db, select(OutboundMessage))
    assert sent["via"] == "push" and sent["key"] == row.key and sent["to"] == "U12"
    assert row.status == "sent" and row.attempts == 3
    assert state["retry_keys"][row.key] == 3  # two refused (429), one accepted


def test_a_repeated_push_is_answered_409_and_counted_as_sent(bridge, client, db, stubs):
    worker, deliverer = bridge
    stub_fault(stubs, "line_reply", "400", count=-1)
    line_send(client, text_event("U13", "一回だけ"))
    worker.run_once()
    [claimed] = deliverer.claim()
    deliverer.deliver(claimed)
    deliverer.deliver(claimed)  # as if a deliverer that died after sending had its claim retaken
    assert one(db, select(OutboundMessage)).status == "sent"
    assert len(stub_state(stubs)["line"]) == 1


def test_a_deliverer_killed_after_replying_does_not_send_twice(bridge, client, db, stubs):
    worker, deliverer = bridge
    line_send(client, text_event("U13", "一回だけ"))
    worker.run_once()
    [claimed] = deliverer.claim()
    assert deliverer._line(claimed) == "reply"  # sent, then "killed": nothing recorded
    row = one(db, select(OutboundMessage))
    row.next_attempt_at = row.created_at  # the claim expires
    db.commit()
    drain(worker, deliverer)
    assert one(db, select(OutboundMessage)).status == "sent"
    assert len(stub_state(stubs)["line"]) == 1


def test_rasa_down_gives_the_fixed_answer_and_a_consultation(bridge, client, db, stubs):
    worker, deliverer = bridge
    stub_fault(stubs, "rasa", "500")
    line_send(client, text_event("U14", "母が認知症で、息子は仕事をしていません"))
    drain(worker, deliverer)
    assert texts_to(stub_state(stubs)) == [texts.RECEIVED]
    message = one(db, select(InboundMessage))
    consultation = get(db, Consultation, message.consultation_id)
    assert message.outcome == "fallback" and consultation.channel == "line"
    assert consultation.texts == ["母が認知症で、息子は仕事をしていません"]
    # Rasa is back: the next message goes to it again.
    stub_fault(stubs, "rasa", "ok")
    line_send(client, text_event("U14", "ありがとう"))
    drain(worker, deliverer)
    assert texts_to(stub_state(stubs))[-1] == "bot:ありがとう"
    assert one(db, select(func.count()).select_from(Consultation)) == 1


def test_rasa_too_slow_counts_as_down(bridge, client, db, stubs, monkeypatch):
    worker, deliverer = bridge
    stub_fault(stubs, "rasa", "slow", delay=3)  # the worker waits 2 s (channel_env)
    line_send(client, text_event("U15", "おそい"))
    drain(worker, deliverer)
    assert texts_to(stub_state(stubs)) == [texts.RECEIVED]


def test_danger_gets_the_emergency_lines_even_when_rasa_is_down(bridge, client, db, stubs):
    worker, deliverer = bridge
    stub_fault(stubs, "rasa", "timeout", delay=3)
    line_send(client, text_event("U16", DANGER))
    drain(worker, deliverer)
    first, second = texts_to(stub_state(stubs))
    assert "すぐに電話" in first and any(ch.isdigit() for ch in first)
    assert second == texts.RECEIVED
    message = one(db, select(InboundMessage))
    assert message.urgent is True
    assert one(db, select(Alert)).consultation_id == message.consultation_id


def test_danger_with_the_bot_up_still_gets_the_lines(bridge, client, db, stubs):
    worker, deliverer = bridge
    line_send(client, text_event("U17", DANGER))
    drain(worker, deliverer)
    said = texts_to(stub_state(stubs))
    assert "すぐに電話" in said[0] and said[1] == f"bot:{DANGER}"


def test_sms_choices_are_numbered_and_a_digit_answers_them(bridge, client, db, stubs):
    worker, deliverer = bridge
    sender = "+819055556666"
    for text in ("ボタンで答えます", "２"):
        params = sms_params(sender, text)
        path, headers = sms_request("atsuma", params)
        assert client.post(path, data=params, headers=headers).status_code == 200
        drain(worker, deliverer)
    state = stub_state(stubs)
    first = state["sms"][0]
    assert first["to"] == sender and first["body"] == (
        f"bot:ボタンで答えます\n1 はい\n2 いいえ\n{texts.CHOOSE}"
    )
    assert [c["message"] for c in state["rasa"]] == ["ボタンで答えます", "/deny"]
    assert all(len(s["body"]) <= 134 for s in state["sms"])


def test_sms_long_answers_are_split_to_fit_two_segments(bridge, client, db, stubs):
    worker, deliverer = bridge
    long = "。".join(["生活のことでこまっています"] * 20)
    params = sms_params("+819077778888", long)
    path, headers = sms_request("atsuma", params)
    client.post(path, data=params, headers=headers)
    drain(worker, deliverer)
    bodies = [s["body"] for s in stub_state(stubs)["sms"]]
    assert len(bodies) > 1 and all(len(b) <= 134 for b in bodies)
    assert "".join(bodies).replace("\n", "") == f"bot:{long}"


def test_sms_stop_stops_sending_and_start_resumes(bridge, client, db, stubs, staff):
    worker, deliverer = bridge
    sender = "+819099990000"

    def sms(text: str) -> None:
        params = sms_params(sender, text)
        path, headers = sms_request("atsuma", params)
        assert client.post(path, data=params, headers=headers).status_code == 200

    sms("配信停止")
    drain(worker, deliverer)
    conversation = one(db, select(Conversation))
    auth = staff("coordinator")
    r = client.post(
        f"/api/v1/conversations/{conversation.id}/messages",
        json={"text": "お元気ですか"},
        headers=auth,
    )
    assert r.status_code == 201 and r.json()["status"] == "dropped"
    drain(worker, deliverer)
    assert stub_state(stubs)["sms"] == []
    sms("START")
    drain(worker, deliverer)
    assert [s["body"] for s in stub_state(stubs)["sms"]] == [texts.SMS_RESUMED]


def test_messages_of_one_conversation_reach_the_bot_in_event_order(bridge, client, db, stubs):
    worker, deliverer = bridge
    now = int(time.time() * 1000)
    events = [text_event("U18", f"{i}番目", timestamp=now + i) for i in range(6)]
    line_send(client, *reversed(events[3:]))
    line_send(client, events[1], events[0], events[2])
    drain(worker, deliverer)
    assert [c["message"] for c in stub_state(stubs)["rasa"]] == [f"{i}番目" for i in range(6)]


def test_stickers_and_follow_get_polite_answers(bridge, client, db, stubs):
    worker, deliverer = bridge
    sticker = text_event("U19", "") | {"message": {"id": "1", "type": "sticker"}}
    follow = {k: v for k, v in text_event("U19", "").items() if k != "message"} | {"type": "follow"}
    line_send(client, follow, sticker)
    drain(worker, deliverer)
    assert sorted(texts_to(stub_state(stubs))) == sorted([texts.WELCOME, texts.NOT_TEXT])
    assert stub_state(stubs)["rasa"] == []


def test_staff_read_and_answer_a_conversation(bridge, client, db, stubs, staff):
    worker, deliverer = bridge
    line_send(client, text_event("U20", "人と話したい"))
    drain(worker, deliverer)
    conversation = one(db, select(Conversation))
    coordinator = staff("coordinator")
    url = f"/api/v1/conversations/{conversation.id}/messages"
    r = client.post(
        url, json={"text": "担当の佐藤です。お話を聞かせてください。"}, headers=coordinator
    )
    assert r.status_code == 201
    drain(worker, deliverer)
    pushed = stub_state(stubs)["line"][-1]
    assert pushed["via"] == "push" and pushed["message"]["text"].startswith("担当の佐藤です")
    history = client.get(url, headers=coordinator).json()
    assert [(m["direction"], m["text"]) for m in history] == [
        ("in", "人と話したい"),
        ("out", "bot:人と話したい"),
        ("out", "担当の佐藤です。お話を聞かせてください。"),
    ]
    assert client.get(url, headers=staff("coordinator", "tomiya")).status_code == 404
    assert client.get(url, headers=staff("body_staff", body="atsuma-houkatsu")).status_code == 403
    listed = client.get("/api/v1/conversations", headers=coordinator).json()
    assert [c["id"] for c in listed] == [conversation.id]


def test_web_chat_answers_arrive_on_the_stream(bridge, client, db, stubs):
    worker, deliverer = bridge
    token = client.post("/channels/web/atsuma/sessions").json()["token"]
    auth = {"authorization": f"Bearer {token}"}
    client.post("/channels/web/atsuma/messages", json={"text": "ボタンください"}, headers=auth)
    drain(worker, deliverer)
    r = client.get("/channels/web/atsuma/stream", params={"token": token, "seconds": 1})
    assert r.headers["content-type"].startswith("text/event-stream")
    assert "event: message" in r.text and "bot:ボタンください" in r.text and "/affirm" in r.text
    assert stub_state(stubs)["rasa"][0]["sender"].startswith("web:")
    last = int([line for line in r.text.splitlines() if line.startswith("id: ")][-1][4:])
    again = client.get(
        "/channels/web/atsuma/stream",
        params={"seconds": 0.6},
        headers={"last-event-id": str(last)} | auth,  # the token in a header, not the URL
    )
    assert "event: message" not in again.text


def test_no_consultation_twice_for_one_message(bridge, client, db: Session, stubs):
    worker, deliverer = bridge
    stub_fault(stubs, "rasa", "500")
    line_send(client, text_event("U21", "家賃が払えません"))
    conversation_id = worker.claim()
    pending = worker._next_pending(conversation_id)
    first = worker._file(pending, pending.text)
    assert worker._file(pending, pending.text) == first  # a retaken message: the same one
    worker._finish(pending, worker._decide(pending))
    assert one(db, select(func.count()).select_from(Consultation)) == 1
