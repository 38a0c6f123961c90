"""Twilio SMS webhook: verify X-Twilio-Signature with twilio's RequestValidator against the
public URL Twilio called (TSUNAGU_PUBLIC_BASE_URL behind a reverse proxy), store once per
MessageSid, acknowledge with empty TwiML (answers go out through the Messages API).

STOP and 停止/配信停止 opt the number out from the moment they are stored; START re-enables.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator

from api.channels.common import raw_text, town_setting
from api.channels.store import (
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    conversation_for,
    keyword,
    store_inbound,
)
from api.db.session import new_session
from api.errors import ApiError
from api.settings import get_settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def public_url(request: Request) -> str:
    """The URL as Twilio saw it: the configured public base, else the URL we were called on."""
    base = get_settings().public_base_url
    if not base:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return base.rstrip("/") + request.url.path + query


@router.post("/channels/twilio/{municipality}/sms")
async def twilio_sms(municipality: str, request: Request) -> Response:
    """An SMS from Twilio for one town. 403 without a valid signature (nothing stored), 404
    when the town has no SMS channel; 200 with empty TwiML once the message is committed."""
    token = town_setting(municipality, "twilio_auth_token")
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        raise ApiError(403, "signature_missing", "X-Twilio-Signature is missing.")
    _, body = await raw_text(request)
    params = dict(parse_qsl(body, keep_blank_values=True))
    if not RequestValidator(token).validate(public_url(request), params, signature):
        raise ApiError(403, "signature_invalid", "X-Twilio-Signature does not match.")
    sid, sender = params.get("MessageSid") or params.get("SmsSid"), params.get("From")
    if not sid or not sender:
        raise ApiError(400, "invalid_request", "MessageSid and From are required.")
    created = await run_in_threadpool(_store, municipality, sid, sender, params.get("Body", ""))
    log.info("sms webhook: %s", "stored" if created else "duplicate")
    return Response(EMPTY_TWIML, media_type="text/xml")


def _store(municipality: str, sid: str, sender: str, body: str) -> bool:
    word = keyword(body)
    kind = (
        "opt_out"
        if word in OPT_OUT_WORDS
        else "opt_in"
        if word in OPT_IN_WORDS
        else "text"
        if body.strip()
        else "other"  # a picture (MMS) or an empty message
    )
    with new_session() as db:
        conversation = conversation_for(db, municipality, "sms", sender[:128])
        message = store_inbound(db, conversation, event_id=sid[:128], kind=kind, text=body)
        db.commit()
    return message is not None
