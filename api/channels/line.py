"""LINE Messaging API webhook: verify X-Line-Signature with line-bot-sdk against the town's
channel secret, store each event once (webhookEventId), acknowledge. Never waits for the bot.

Redelivered events keep their webhookEventId and may arrive out of order: the worker orders
a conversation's messages by the event's own timestamp.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from linebot.v3.webhook import SignatureValidator
from starlette.concurrency import run_in_threadpool

from api.channels.common import raw_text, town_setting
from api.channels.store import conversation_for, store_inbound
from api.db.session import new_session
from api.errors import ApiError

log = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])

# LINE message types the bot cannot read get a polite answer instead.
READABLE = {"text"}


@router.post("/channels/line/{municipality}/webhook")
async def line_webhook(municipality: str, request: Request) -> dict[str, int]:
    """Events from LINE for one town. 401 without a valid signature (nothing stored), 404 when
    the town has no LINE channel; 200 once every event is committed."""
    secret = town_setting(municipality, "line_channel_secret")
    signature = request.headers.get("x-line-signature")
    if not signature:
        raise ApiError(401, "signature_missing", "X-Line-Signature is missing.")
    _, body = await raw_text(request)
    if not SignatureValidator(secret).validate(body, signature):
        raise ApiError(401, "signature_invalid", "X-Line-Signature does not match the body.")
    try:
        payload = json.loads(body)
    except ValueError:
        raise ApiError(400, "malformed_json", "The body is not JSON.") from None
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise ApiError(400, "invalid_request", "The body has no list of events.")
    stored, duplicates = await run_in_threadpool(_store_events, municipality, events)
    log.info("line webhook: %d stored, %d duplicate", stored, duplicates)
    return {"stored": stored, "duplicates": duplicates}


def _store_events(municipality: str, events: list[dict[str, Any]]) -> tuple[int, int]:
    stored = duplicates = 0
    with new_session() as db:
        for event in events:
            fields = _event_fields(event)
            user = (event.get("source") or {}).get("userId")
            if fields is None or not isinstance(user, str) or not user:
                continue  # group joins, beacons, …: nothing a resident said
            conversation = conversation_for(db, municipality, "line", user[:128])
            message = store_inbound(db, conversation, **fields)
            stored, duplicates = stored + (message is not None), duplicates + (message is None)
        db.commit()
    return stored, duplicates


def _event_fields(event: dict[str, Any]) -> dict[str, Any] | None:
    kind = event.get("type")
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    text = None
    if kind == "message":
        readable = message.get("type") in READABLE and isinstance(message.get("text"), str)
        kind, text = ("text", message["text"]) if readable else ("other", None)
    elif kind == "postback":
        text = str((event.get("postback") or {}).get("data") or "")
    elif kind not in ("follow", "unfollow"):
        return None
    event_id = event.get("webhookEventId")
    if not isinstance(event_id, str) or not event_id:
        # Old or odd payloads: the event's own content identifies it.
        canonical = json.dumps(event, sort_keys=True, ensure_ascii=False)
        event_id = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:40]
    timestamp = event.get("timestamp")
    event_at = (
        datetime.fromtimestamp(timestamp / 1000, UTC)
        if isinstance(timestamp, int | float) and 0 < timestamp < 10**14
        else None
    )
    reply_token = event.get("replyToken") if isinstance(event.get("replyToken"), str) else None
    return {
        "event_id": event_id[:128],
        "kind": kind,
        "text": text,
        "reply_token": reply_token,
        "event_at": event_at,
    }
