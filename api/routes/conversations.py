"""Duty staff and a resident's chat: list a town's conversations (by person, e.g. from a
handover request), read one conversation's messages, answer on the resident's channel.

The resident wrote to the town and, for a handover, asked for a person: the coordinator's
reads are on that basis (resident_contact), each one audited. The queries, the audit and the
outbox write are api/services/conversations.py's, shared with the staff pages.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.access import Principal, require
from api.db.models import Conversation
from api.db.session import get_db
from api.services import conversations as service
from api.services.conversations import MessageOut

router = APIRouter(prefix="/conversations", tags=["conversations"])

Reader = Annotated[Principal, Depends(require("conversation.read"))]
Answerer = Annotated[Principal, Depends(require("conversation.answer"))]
Db = Annotated[Session, Depends(get_db)]


class ConversationOut(BaseModel):
    id: str
    channel: str
    person_id: str | None
    opted_out: bool
    created_at: datetime
    last_inbound_at: datetime | None


class StaffMessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=service.MAX_ANSWER_CHARS)


class Queued(BaseModel):
    ids: list[int]
    status: str


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
    found = service.listed(db, principal, person_id, limit)
    db.commit()
    return [_out(c) for c in found]


@router.get("/{conversation_id}/messages", response_model=list[MessageOut])
def read_messages(conversation_id: str, principal: Reader, db: Db) -> list[MessageOut]:
    """What the resident wrote and what went back, in time order."""
    conversation = service.get(db, principal, conversation_id)
    items = service.messages(db, principal, conversation)
    db.commit()
    return items


@router.post("/{conversation_id}/messages", status_code=201, response_model=Queued)
def answer_resident(
    conversation_id: str, message: StaffMessageIn, principal: Answerer, db: Db
) -> Queued:
    """A person's answer, sent on the resident's channel (SMS: split into parts that fit).
    Queued for delivery; a resident who opted out gets nothing (status dropped)."""
    conversation = service.get(db, principal, conversation_id)
    rows = service.answer_resident(db, principal, conversation, message.text)
    return Queued(ids=[r.id for r in rows], status=rows[0].status if rows else "dropped")
