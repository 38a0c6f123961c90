"""Store before acknowledging: find the conversation, keep the event once (the provider's
event id makes a redelivery a no-op), commit, and only then answer the provider."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import Conversation, InboundMessage, utcnow
from api.schemas import MAX_TEXT_CHARS

_SURROGATE = re.compile("[\ud800-\udfff]")

# SMS opt-out and opt-in words: Twilio's defaults and their Japanese counterparts.
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "停止", "配信停止"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "開始", "配信再開", "再開"})


def clean_text(text: str | None) -> str | None:
    """Text a database can keep: no NUL, lone surrogates replaced, at most MAX_TEXT_CHARS."""
    if text is None:
        return None
    text = _SURROGATE.sub("\ufffd", text.replace("\x00", ""))
    return text[:MAX_TEXT_CHARS]


def keyword(text: str | None) -> str:
    """The text as a keyword: width-folded (ＳＴＯＰ), upper case, without spaces or 。."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text).strip().strip("。.!！").upper()
    return folded.replace(" ", "")


def conversation_for(
    db: Session, municipality: str, channel: str, external_id: str
) -> Conversation:
    query = select(Conversation).where(
        Conversation.municipality == municipality,
        Conversation.channel == channel,
        Conversation.external_id == external_id,
    )
    found = db.scalar(query)
    if found is not None:
        return found
    try:
        with db.begin_nested():  # the first two messages at once: one conversation wins
            found = Conversation(
                municipality=municipality, channel=channel, external_id=external_id
            )
            db.add(found)
    except IntegrityError:
        found = db.scalar(query)
        assert found is not None
    return found


def store_inbound(
    db: Session,
    conversation: Conversation,
    *,
    event_id: str,
    kind: str,
    text: str | None = None,
    reply_token: str | None = None,
    event_at: datetime | None = None,
) -> InboundMessage | None:
    """The stored message, or None when this event was stored before (a redelivery)."""
    known = select(InboundMessage.id).where(
        InboundMessage.channel == conversation.channel, InboundMessage.event_id == event_id
    )
    if db.scalar(known) is not None:
        return None
    now = utcnow()
    message = InboundMessage(
        conversation_id=conversation.id,
        municipality=conversation.municipality,
        channel=conversation.channel,
        event_id=event_id,
        kind=kind,
        text=clean_text(text),
        reply_token=reply_token,
        event_at=event_at or now,
        received_at=now,
    )
    try:
        with db.begin_nested():  # the same event twice at once: one row
            db.add(message)
    except IntegrityError:
        return None
    # Opting out (SMS STOP, LINE unfollow) holds from the moment it is stored, so nothing
    # queued is sent after it; opting in likewise.
    if kind in ("opt_out", "unfollow"):
        conversation.opted_out = True
    elif kind in ("opt_in", "follow"):
        conversation.opted_out = False
    if conversation.last_inbound_at is None or conversation.last_inbound_at < now:
        conversation.last_inbound_at = now
    return message
