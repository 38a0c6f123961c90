"""The web chat: no account, a session token instead. POST a message (stored before the 202),
read the answers from a Server-Sent Events stream, and the /chat page that does both.

The token is the only key to a conversation: we keep its SHA-256, never the token itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api.channels.common import raw_text
from api.channels.store import conversation_for, store_inbound
from api.db.models import Conversation, OutboundMessage
from api.db.session import new_session
from api.errors import ApiError
from api.settings import get_settings
from routing_rules import municipality_ids

router = APIRouter(tags=["channels"])

MAX_CHAT_CHARS = 2000  # a chat message; a longer text is better sent in parts
STREAM_POLL_SECONDS = 0.5
CHAT_PAGE = Path(__file__).with_name("chat.html")


class SessionOut(BaseModel):
    token: str


class Accepted(BaseModel):
    id: str
    duplicate: bool


def _open_town(municipality: str) -> None:
    towns = {t.strip() for t in get_settings().web_chat_municipalities.split(",") if t.strip()}
    if municipality not in towns or municipality not in municipality_ids():
        raise ApiError(404, "channel_off", "This channel is not open for this municipality.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:64]


def _conversation(db, municipality: str, token: str | None) -> Conversation:
    if not token or len(token) > 200:
        raise ApiError(401, "session_missing", "A chat session token is required.")
    found = db.scalar(
        select(Conversation).where(
            Conversation.municipality == municipality,
            Conversation.channel == "web",
            Conversation.external_id == _digest(token),
        )
    )
    if found is None:
        raise ApiError(401, "session_unknown", "Unknown chat session: start a new one.")
    return found


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


@router.post("/channels/web/{municipality}/sessions", status_code=201)
def start_session(municipality: str) -> SessionOut:
    """A new chat: the token that names it (keep it in the page)."""
    _open_town(municipality)
    token = secrets.token_urlsafe(32)
    with new_session() as db:
        conversation_for(db, municipality, "web", _digest(token))
        db.commit()
    return SessionOut(token=token)


@router.post("/channels/web/{municipality}/messages", status_code=202)
async def post_message(
    municipality: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> Accepted:
    """A resident's message: {"id": the page's id for it (a retry reuses it), "text": …} or
    {"payload": a button's payload, "text": its title}. 202 once stored."""
    _open_town(municipality)
    _, body = await raw_text(request)
    try:
        data = json.loads(body)
    except ValueError:
        raise ApiError(422, "malformed_json", "The body is not JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_request", "The body must be a JSON object.")
    text, payload, client_id = data.get("text"), data.get("payload"), data.get("id")
    if payload is not None and not isinstance(payload, str):
        raise ApiError(422, "invalid_request", "payload must be a string.")
    if not isinstance(text, str) and not payload:
        raise ApiError(422, "invalid_request", "text must be a string.")
    if not payload and not text.strip():
        raise ApiError(422, "text_empty", "The message is empty.")
    if isinstance(text, str) and len(text) > MAX_CHAT_CHARS:
        raise ApiError(413, "text_too_long", f"Over {MAX_CHAT_CHARS:,} characters.")
    if client_id is not None and (not isinstance(client_id, str) or not 0 < len(client_id) <= 64):
        raise ApiError(422, "invalid_request", "id must be a string of 1 to 64 characters.")
    token = _bearer(authorization)

    def store() -> Accepted:
        with new_session() as db:
            conversation = _conversation(db, municipality, token)
            event_id = f"{conversation.id}:{client_id or uuid.uuid4().hex}"
            message = store_inbound(
                db,
                conversation,
                event_id=event_id,
                kind="postback" if payload else "text",
                text=payload or text,
            )
            db.commit()
            return Accepted(id=event_id, duplicate=message is None)

    return await run_in_threadpool(store)


@router.get("/channels/web/{municipality}/stream")
async def stream(
    municipality: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    token: Annotated[str | None, Query(max_length=200)] = None,
    after: Annotated[int, Query(ge=0)] = 0,
    seconds: Annotated[float, Query(gt=0, le=300)] = 120,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """The bot's and staff's answers as Server-Sent Events (`id` is the answer's number:
    `Last-Event-ID` or `after` resumes after it). The stream ends after `seconds`; reconnect.
    The session token goes in `Authorization: Bearer` (the page reads the stream with fetch);
    `?token=` is for EventSource clients, but a URL ends up in access logs."""
    _open_town(municipality)
    session = _bearer(authorization) or token

    def conversation_id() -> str:
        with new_session() as db:
            return _conversation(db, municipality, session).id

    conversation = await run_in_threadpool(conversation_id)
    start = int(last_event_id) if last_event_id and last_event_id.isdigit() else after

    def fetch(after_id: int) -> list[tuple[int, list]]:
        with new_session() as db:
            rows = db.execute(
                select(OutboundMessage.id, OutboundMessage.messages)
                .where(
                    OutboundMessage.conversation_id == conversation,
                    OutboundMessage.id > after_id,
                )
                .order_by(OutboundMessage.id)
            ).all()
            return [(r.id, r.messages) for r in rows]

    async def events() -> AsyncIterator[str]:
        last, deadline = start, time.monotonic() + seconds
        yield "retry: 2000\n\n"
        while time.monotonic() < deadline and not await request.is_disconnected():
            for row_id, messages in await run_in_threadpool(fetch, last):
                for message in messages:
                    yield f"id: {row_id}\nevent: message\ndata: {json.dumps(message, ensure_ascii=False)}\n\n"  # noqa: E501
                last = row_id
            await asyncio.sleep(STREAM_POLL_SECONDS)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.get("/chat", response_class=HTMLResponse, include_in_schema=False)
def chat_page() -> HTMLResponse:
    """The residents' chat page (Japanese, mobile first): /chat?town=atsuma."""
    return HTMLResponse(CHAT_PAGE.read_text(encoding="utf-8"))
