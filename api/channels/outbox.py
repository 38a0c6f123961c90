"""The outbox: answers written in the same transaction that marks their message processed,
then sent by delivery.py. Each row has its own idempotency key."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy.orm import Session

from api.channels.render import LINE_MAX_MESSAGES, Answer, answer, sms_parts, sms_text
from api.db.models import Conversation, InboundMessage, OutboundMessage, utcnow

# A reply token works once, within about a minute of the event; we use it for 50 s.
REPLY_TOKEN_SECONDS = 50
outbound_queued = threading.Event()  # wakes this process's delivery loop after a commit


def enqueue(
    db: Session,
    conversation: Conversation,
    answers: list[Answer],
    *,
    origin: str,
    inbound: InboundMessage | None = None,
    created_by: str | None = None,
) -> list[OutboundMessage]:
    """Rows for these answers, shaped for the conversation's channel. The web chat reads its
    rows from the stream, so they count as sent at once; an opted-out number gets nothing."""
    if not answers:
        return []
    channel = conversation.channel
    if channel == "sms":
        text, choices = sms_text(answers)
        conversation.choices = choices or None
        batches = [[answer(part)] for part in sms_parts(text)]
    elif channel == "line":
        batches = [
            answers[i : i + LINE_MAX_MESSAGES] for i in range(0, len(answers), LINE_MAX_MESSAGES)
        ]
    else:
        batches = [answers]
    now = utcnow()
    fresh = inbound is not None and now - inbound.received_at < timedelta(
        seconds=REPLY_TOKEN_SECONDS
    )
    reply_token = inbound.reply_token if inbound is not None and fresh else None
    if channel != "line":
        reply_token = None
    rows = []
    for i, batch in enumerate(batches):
        status = "sent" if channel == "web" else "dropped" if conversation.opted_out else "pending"
        row = OutboundMessage(
            conversation_id=conversation.id,
            municipality=conversation.municipality,
            channel=channel,
            inbound_id=inbound.id if inbound else None,
            origin=origin,
            messages=batch,
            reply_token=reply_token if i == 0 else None,  # a token serves one request
            reply_until=inbound.received_at + timedelta(seconds=REPLY_TOKEN_SECONDS)
            if reply_token and i == 0 and inbound
            else None,
            status=status,
            next_attempt_at=now,
            created_by=created_by,
            created_at=now,
            sent_at=now if status == "sent" else None,
        )
        db.add(row)
        rows.append(row)
    db.flush()
    return rows
