"""Channel webhooks: signatures checked with the real algorithms, every event stored once and
before the acknowledgement, bad input refused with a clear error and nothing stored.
On SQLite and PostgreSQL (the worker is off: these tests look at what was stored)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import Conversation, InboundMessage
from api.settings import get_settings
from tests.channels import (
    channel_env,
    line_headers,
    line_payload,
    sms_params,
    sms_request,
    text_event,
    twilio_signature,
)

LINE = "/channels/line/atsuma/webhook"


@pytest.fixture
def channels(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in channel_env().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def stored(db: Session) -> list[InboundMessage]:
    db.expire_all()
    return list(db.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def test_line_text_is_stored_once_and_redeliveries_are_no_ops(channels, client, db):
    event = text_event("U1", "母のことで相談したいです")
    body = line_payload(event)
    r = client.post(LINE, content=body, headers=line_headers(body))
    assert r.status_code == 200 and r.json() == {"stored": 1, "duplicates": 0}
    again = line_payload(event | {"deliveryContext": {"isRedelivery": True}})
    r = client.post(LINE, content=again, headers=line_headers(again))
    assert r.json() == {"stored": 0, "duplicates": 1}
    [message] = stored(db)
    assert (message.kind, message.text, message.status) == (
        "text",
        "母のことで相談したいです",
        "pending",
    )
    assert message.event_id == event["webhookEventId"] and message.reply_token


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-line-signature": "bm90IGEgc2lnbmF0dXJl"}, line_headers(b"other body")],
    ids=["missing", "garbage", "other-body"],
)
def test_line_without_a_valid_signature_stores_nothing(channels, client, db, headers):
    body = line_payload(text_event("U1", "こんにちは"))
    r = client.post(LINE, content=body, headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] in ("signature_missing", "signature_invalid")
    assert stored(db) == []


def test_line_signed_with_another_secret_is_refused(channels, client, db):
    body = line_payload(text_event("U1", "こんにちは"))
    r = client.post(LINE, content=body, headers=line_headers(body, "someone-else"))
    assert r.status_code == 401 and stored(db) == []


def test_a_town_without_a_secret_has_its_channels_off(channels, client, db):
    body = line_payload(text_event("U1", "こんにちは"))
    # tomiya has no LINE secret and no Twilio token: off, whatever the signature.
    r = client.post("/channels/line/tomiya/webhook", content=body, headers=line_headers(body))
    assert r.status_code == 404 and r.json()["code"] == "channel_off"
    r = client.post("/channels/line/nowhere/webhook", content=body, headers=line_headers(body))
    assert r.status_code == 404
    params = sms_params("+819011112222", "こんにちは")
    path, headers = sms_request("tomiya", params)
    assert client.post(path, data=params, headers=headers).status_code == 404
    assert stored(db) == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "malformed_json"),
        (b'{"events": "x"}', "invalid_request"),
        (b"[1, 2]", "invalid_request"),
        ("\udcff".encode("utf-8", "surrogateescape"), "invalid_encoding"),
    ],
    ids=["malformed", "events-not-a-list", "not-an-object", "not-utf8"],
)
def test_line_bad_bodies_get_a_clear_error(channels, client, db, body, code):
    r = client.post(LINE, content=body, headers=line_headers(body))
    assert r.status_code == 400 and r.json()["code"] == code
    assert stored(db) == []


def test_line_empty_body_and_oversized_body(channels, client, db):
    r = client.post(LINE, content=b"", headers=line_headers(b""))
    assert r.status_code == 400 and r.json()["code"] == "empty_body"
    big = line_payload(text_event("U1", "あ" * 100_000))
    r = client.post(LINE, content=big, headers=line_headers(big))
    assert r.status_code == 413
    assert stored(db) == []


def test_line_stickers_follow_unfollow_postback_and_odd_text(channels, client, db):
    sticker = text_event("U2", "") | {"message": {"id": "1", "type": "sticker", "packageId": "1"}}
    follow = {k: v for k, v in text_event("U2", "").items() if k != "message"} | {"type": "follow"}
    unfollow = follow | {"type": "unfollow", "webhookEventId": "UNF1"}
    postback = follow | {
        "type": "postback",
        "webhookEventId": "PB1",
        "postback": {"data": "/affirm"},
    }
    odd = text_event("U2", "NUL\x00と\ud800surrogate")
    join = follow | {"type": "join", "webhookEventId": "J1"}  # not a resident's message
    body = line_payload(sticker, follow, unfollow, postback, odd, join)
    r = client.post(LINE, content=body, headers=line_headers(body))
    assert r.status_code == 200 and r.json()["stored"] == 5
    kinds = [(m.kind, m.text) for m in stored(db)]
    assert kinds == [
        ("other", None),
        ("follow", None),
        ("unfollow", None),
        ("postback", "/affirm"),
        ("text", "NULと\ufffdsurrogate"),
    ]
    assert db.scalar(select(Conversation)).opted_out  # the unfollow came last


def test_line_concurrent_redeliveries_store_one_row(channels, client, db):
    from concurrent.futures import ThreadPoolExecutor

    event = text_event("U3", "同時に届く")
    body = line_payload(event)
    with ThreadPoolExecutor(4) as pool:
        codes = list(
            pool.map(
                lambda _: client.post(LINE, content=body, headers=line_headers(body)), range(8)
            )
        )
    assert {r.status_code for r in codes} == {200}
    assert len(stored(db)) == 1


def test_sms_is_verified_against_the_public_url(channels, client, db):
    params = sms_params("+819011112222", "生活が苦しいです")
    path, headers = sms_request("atsuma", params)
    r = client.post(path, data=params, headers=headers)
    assert r.status_code == 200 and "<Response>" in r.text
    assert r.headers["content-type"].startswith("text/xml")
    # The same request signed for the URL we were called on (not the public one) fails.
    local = twilio_signature("http://testserver" + path, params)
    r = client.post(
        path, data=params | {"MessageSid": "SMother"}, headers={"x-twilio-signature": local}
    )
    assert r.status_code == 403
    # A redelivery with the same MessageSid stores nothing new.
    assert client.post(path, data=params, headers=headers).status_code == 200
    [message] = stored(db)
    assert (message.channel, message.text, message.event_id) == (
        "sms",
        "生活が苦しいです",
        params["MessageSid"],
    )


def test_sms_tampered_parameters_are_refused(channels, client, db):
    params = sms_params("+819011112222", "こんにちは")
    path, headers = sms_request("atsuma", params)
    r = client.post(path, data=params | {"Body": "ちがう"}, headers=headers)
    assert r.status_code == 403 and r.json()["code"] == "signature_invalid"
    r = client.post(path, data=params)
    assert r.status_code == 403 and r.json()["code"] == "signature_missing"
    assert stored(db) == []


@pytest.mark.parametrize(
    ("word", "kind"),
    [("STOP", "opt_out"), ("停止", "opt_out"), ("配信停止", "opt_out"), ("ｓｔｏｐ", "opt_out"),
     ("START", "opt_in"), ("止めたい", "text")],
)  # fmt: skip
def test_sms_opt_out_words(channels, client, db, word, kind):
    params = sms_params("+819033334444", word)
    path, headers = sms_request("atsuma", params)
    assert client.post(path, data=params, headers=headers).status_code == 200
    [message] = stored(db)
    assert message.kind == kind
    conversation = db.get(Conversation, message.conversation_id)
    assert conversation.opted_out is (kind == "opt_out")


def test_web_chat_session_and_messages(channels, client, db):
    r = client.post("/channels/web/atsuma/sessions")
    assert r.status_code == 201
    auth = {"authorization": f"Bearer {r.json()['token']}"}
    url = "/channels/web/atsuma/messages"
    r = client.post(url, json={"id": "m1", "text": "だれに相談したらいいですか"}, headers=auth)
    assert r.status_code == 202 and r.json()["duplicate"] is False
    assert client.post(
        url, json={"id": "m1", "text": "だれに相談したらいいですか"}, headers=auth
    ).json()["duplicate"]
    assert (
        client.post(url, json={"payload": "/affirm", "text": "はい"}, headers=auth).status_code
        == 202
    )
    checks = [
        ({"text": "x"}, {}, 401, "session_missing"),
        ({"text": "x"}, {"authorization": "Bearer nope"}, 401, "session_unknown"),
        ({"text": "  "}, auth, 422, "text_empty"),
        ({"text": "あ" * 2001}, auth, 413, "text_too_long"),
        ({"text": 5}, auth, 422, "invalid_request"),
        ({"text": "x", "id": ""}, auth, 422, "invalid_request"),
    ]
    for body, headers, status, code in checks:
        r = client.post(url, json=body, headers=headers)
        assert (r.status_code, r.json()["code"]) == (status, code), body
    r = client.post(url, content=b"{", headers=auth | {"content-type": "application/json"})
    assert r.json()["code"] == "malformed_json"
    assert [(m.kind, m.text) for m in stored(db)] == [
        ("text", "だれに相談したらいいですか"),
        ("postback", "/affirm"),
    ]
    assert client.post("/channels/web/nowhere/sessions").status_code == 404


def test_chat_page_is_japanese_and_labelled(channels, client):
    r = client.get("/chat")
    assert r.status_code == 200
    assert '<html lang="ja">' in r.text and '<label for="text">' in r.text
    assert 'name="viewport"' in r.text
