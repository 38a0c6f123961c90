"""Duty staff and a resident's chat: list a town's conversations (by person, e.g. from a
handover request), read one conversation's messages, answer on the resident's channel.

The resident wrote to the town and, for a handover, asked for a person: the coordinator's
reads are on that basis (resident_contact), each one audited.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, not_found, require
from api.channels.outbox import enqueue, outbound_queued
from api.channels.render import answer
from api.channels.store import clean_text
from api.db.models import Conversation, InboundMessage, OutboundMessage
from api.db.session import get_db

router = APIRouter(prefix="/conversations", tags=["conversations"])

Reader = Annotated[Principal, Depends(require("conversation.read"))]
Answerer = Annotated[Principal, Depends(require("conversation.answer"))]
Db = Annotated[Session, Depends(get_db)]
BASIS = "resident_contact"


class ConversationOut(BaseModel):
    id: str
    channel: str
    person_id: str | None
    opted_out: bool
    created_at: datetime
    last_inbound_at: datetime | None


class MessageOut(BaseModel):
    direction: str = Field(description="in: the resident; out: the bot, the bridge or staff")
    at: datetime
    kind: str = Field(description="in: text, postback, other, follow, …; out: the origin")
    text: str | None
    buttons: list[dict[str, Any]] = Field(default_factory=list)
    status: str = Field(description="in: pending, done, failed; out: pending, sent, failed, …")


class StaffMessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=1000)


class Queued(BaseModel):
    ids: list[int]
    status: str


def _conversation(db: Session, principal: Principal, conversation_id: str) -> Conversation:
    found = db.get(Conversation, conversation_id)
    if found is None or found.municipality != principal.municipality:
        raise not_found("conversation")
    return found


def _out(c: Conversation) -> ConversationOut:
    return ConversationOut(
        id=c.id,
        channel=c.channel,
        person_id=c.person_id,
        opted_out=c.opted_out,
        created_at=c.created_at,
        last_inbound_at=c.last_inbound_at,
    )


@router.get("", response_model=list[ConversationOut])
def list_conversations(
    principal: Reader,
    db: Db,
    person_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ConversationOut]:
    """The town's conversations, latest first; no content."""
    query = select(Conversation).where(Conversation.municipality == principal.municipality)
    if person_id:
        query = query.where(Conversation.person_id == person_id)
    query = query.order_by(Conversation.last_inbound_at.desc(), Conversation.id).limit(limit)
    found = db.scalars(query).all()
    audit.record_reads(db, principal, "conversation", [c.id for c in found], basis=BASIS)
    db.commit()
    return [_out(c) for c in found]


@router.get("/{conversation_id}/messages", response_model=list[MessageOut])
def read_messages(conversation_id: str, principal: Reader, db: Db) -> list[MessageOut]:
    """What the resident wrote and what went back, in time order."""
    conversation = _conversation(db, principal, conversation_id)
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
    db.commit()
    return sorted(items, key=lambda item: item.at)


@router.post("/{conversation_id}/messages", status_code=201, response_model=Queued)
def answer_resident(
    conversation_id: str, message: StaffMessageIn, principal: Answerer, db: Db
) -> Queued:
    """A person's answer, sent on the resident's channel (SMS: split into parts that fit).
    Queued for delivery; a resident who opted out gets nothing (status dropped)."""
    conversation = _conversation(db, principal, conversation_id)
    text = clean_text(message.text) or ""
    rows = enqueue(db, conversation, [answer(text)], origin="staff", created_by=principal.id)
    for row in rows:
        audit.record(db, principal, "create", "outbound_message", str(row.id), basis=BASIS)
    db.commit()
    outbound_queued.set()
    return Queued(ids=[r.id for r in rows], status=rows[0].status if rows else "dropped")
