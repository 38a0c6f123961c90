"""Residents' conversations for duty staff, shared by the JSON API (api/routes/
conversations.py) and the staff pages (api/staff/pages_conversations.py): find one in the
town, list a town's (or a person's), read the messages, answer on the resident's channel.

Every read is audited on the basis resident_contact (the resident wrote to the town and,
for a handover, asked for a person); the callers commit, except for an answer, which is
committed here. Message text is never logged.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, not_found
from api.channels.outbox import enqueue
from api.channels.render import answer
from api.channels.store import clean_text
from api.db.models import Conversation, InboundMessage, OutboundMessage

BASIS = "resident_contact"

# The longest answer a person may write (SMS splits it into parts).
MAX_ANSWER_CHARS = 1000


class MessageOut(BaseModel):
    direction: str = Field(description="in: the resident; out: the bot, the bridge or staff")
    at: datetime
    kind: str = Field(description="in: text, postback, other, follow, …; out: the origin")
    text: str | None
    buttons: list[dict[str, Any]] = Field(default_factory=list)
    status: str = Field(description="in: pending, done, failed; out: pending, sent, failed, …")


def get(db: Session, principal: Principal, conversation_id: str) -> Conversation:
    """The conversation if it is this town's; else 404 (another town's looks the same)."""
    found = db.get(Conversation, conversation_id)
    if found is None or found.municipality != principal.municipality:
        audit.denied(db, principal, "conversation", conversation_id)
        raise not_found("conversation")
    return found


def listed(
    db: Session, principal: Principal, person_id: str | None = None, limit: int = 100
) -> list[Conversation]:
    """The town's conversations (or one person's), latest first; each one's read audited."""
    return _listed(db, principal, [person_id] if person_id else None, limit)


def of_people(
    db: Session, principal: Principal, person_ids: Collection[str]
) -> dict[str, list[Conversation]]:
    """Each of these people's conversations in the town, latest first, in one query (a
    page that lists many people); each one's read audited."""
    grouped: dict[str, list[Conversation]] = {}
    if person_ids:
        for conversation in _listed(db, principal, person_ids, None):
            grouped.setdefault(conversation.person_id, []).append(conversation)
    return grouped


def _listed(
    db: Session, principal: Principal, person_ids: Collection[str] | None, limit: int | None
) -> list[Conversation]:
    query = select(Conversation).where(Conversation.municipality == principal.municipality)
    if person_ids is not None:
        query = query.where(Conversation.person_id.in_(person_ids))
    query = query.order_by(Conversation.last_inbound_at.desc(), Conversation.id).limit(limit)
    found = list(db.scalars(query).all())
    audit.record_reads(db, principal, "conversation", [c.id for c in found], basis=BASIS)
    return found


def messages(db: Session, principal: Principal, conversation: Conversation) -> list[MessageOut]:
    """What the resident wrote and what went back, in time order; the read audited."""
    inbound = db.scalars(
        select(InboundMessage).where(InboundMessage.conversation_id == conversation.id)
    ).all()
    outbound = db.scalars(
        select(OutboundMessage).where(OutboundMessage.conversation_id == conversation.id)
    ).all()
    items = [
        MessageOut(direction="in", at=m.event_at, kind=m.kind, text=m.text, status=m.status)
        for m in inbound
    ] + [
        MessageOut(
            direction="out",
            at=o.created_at,
            kind=o.origin,
            text=part.get("text"),
            buttons=part.get("buttons") or [],
            status=o.status,
        )
        for o in outbound
        for part in o.messages
    ]
    audit.record(db, principal, "read", "conversation", conversation.id, basis=BASIS)
    return sorted(items, key=lambda item: item.at)


def answer_resident(
    db: Session, principal: Principal, conversation: Conversation, text: str
) -> list[OutboundMessage]:
    """A person's answer, queued on the resident's channel (SMS: split into parts that fit),
    each row audited; committed (the delivery loop, in the worker process, picks it up at its
    next poll). A resident who opted out gets
    nothing (the rows are stored with status dropped)."""
    cleaned = clean_text(text) or ""
    rows = enqueue(db, conversation, [answer(cleaned)], origin="staff", created_by=principal.id)
    for row in rows:
        audit.record(db, principal, "create", "outbound_message", str(row.id), basis=BASIS)
    db.commit()
    return rows
