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
# Set by the worker after a commit: wakes the delivery loop of the same process at once.
outbound_queued = threading.Event()


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
    # A LINE answer to a message still within its reply window goes as a reply.
    reply_token, reply_until = None, None
    if channel == "line" and inbound is not None and inbound.reply_token:
        until = inbound.received_at + timedelta(seconds=REPLY_TOKEN_SECONDS)
        if now < until:
            reply_token, reply_until = inbound.reply_token, until
    status = "sent" if channel == "web" else "dropped" if conversation.opted_out else "pending"
    rows = []
    for i, batch in enumerate(batches):
        row = OutboundMessage(
            conversation_id=conversation.id,
            municipality=conversation.municipality,
            channel=channel,
            inbound_id=inbound.id if inbound else None,
            origin=origin,
            messages=batch,
            reply_token=reply_token if i == 0 else None,  # a token serves one request
            reply_until=reply_until if i == 0 else None,
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
