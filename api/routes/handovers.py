"""Residents who asked to talk to a person (人と話したい): the bot hands the request in, the
coordinator's duty queue lists the town's requests, unanswered first, newest first.

A request carries the person's id and the channel, never what the resident wrote or their
channel id; who they are is read through the person's own, consent-gated route.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import case as when
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, not_found, require
from api.db.models import HandoverRequest, utcnow
from api.db.session import get_db
from api.services.deadlines import in_office_hours
from api.services.handovers import HandoverIn, request_handover

router = APIRouter(prefix="/handovers", tags=["handovers"])

Bot = Annotated[Principal, Depends(require("handover.request"))]
Duty = Annotated[Principal, Depends(require("handover.read"))]
Answerer = Annotated[Principal, Depends(require("handover.answer"))]
Db = Annotated[Session, Depends(get_db)]


class HandoverCreated(BaseModel):
    id: str
    requested_at: datetime
    answer_by: datetime = Field(description="A person answers by then (tell the resident).")
    within_office_hours: bool = Field(
        description="Asked during office hours: answered within the hour; otherwise within "
        "the first hour after the office next opens."
    )
    already_requested: bool = Field(
        description="The person had an unanswered request: this is that one (200)."
    )


class HandoverOut(BaseModel):
    id: str
    person_id: str
    channel: str
    requested_at: datetime
    answer_by: datetime
    answered_at: datetime | None
    answered_by: str | None
    overdue: bool = Field(description="Unanswered and past answer_by.")


def handover_out(handover: HandoverRequest) -> HandoverOut:
    return HandoverOut(
        id=handover.id,
        person_id=handover.person_id,
        channel=handover.channel,
        requested_at=handover.requested_at,
        answer_by=handover.answer_by,
        answered_at=handover.answered_at,
        answered_by=handover.answered_by,
        overdue=handover.answered_at is None and handover.answer_by < utcnow(),
    )


@router.post("", status_code=201, response_model=HandoverCreated)
def create_handover(
    resident: HandoverIn, response: Response, principal: Bot, db: Db
) -> HandoverCreated:
    """The resident asked for a person. Asking again while a request is unanswered returns
    that request (200, already_requested) and creates nothing."""
    handover, created = request_handover(db, principal, resident)
    if not created:
        response.status_code = 200
    return HandoverCreated(
        id=handover.id,
        requested_at=handover.requested_at,
        answer_by=handover.answer_by,
        within_office_hours=in_office_hours(handover.requested_at),
        already_requested=not created,
    )


@router.get("", response_model=list[HandoverOut])
def list_handovers(
    principal: Duty,
    db: Db,
    answered: Annotated[bool | None, Query(description="false: only those still open")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[HandoverOut]:
    query = select(HandoverRequest).where(HandoverRequest.municipality == principal.municipality)
    if answered is not None:
        stamp = HandoverRequest.answered_at
        query = query.where(stamp.is_not(None) if answered else stamp.is_(None))
    open_first = when((HandoverRequest.answered_at.is_(None), 0), else_=1)
    query = query.order_by(open_first, HandoverRequest.requested_at.desc(), HandoverRequest.id)
    handovers = db.scalars(query.limit(limit)).all()
    audit.record_reads(db, principal, "handover_request", [h.id for h in handovers], basis="duty")
    db.commit()
    return [handover_out(h) for h in handovers]


@router.post("/{handover_id}/answer", response_model=HandoverOut)
def answer_handover(handover_id: str, principal: Answerer, db: Db) -> HandoverOut:
    """A person has answered the resident. Answering again keeps the first answer."""
    handover = db.scalar(
        select(HandoverRequest)
        .where(
            HandoverRequest.id == handover_id,
            HandoverRequest.municipality == principal.municipality,
        )
        .with_for_update()
    )
    if handover is None:
        raise not_found("handover request")
    if handover.answered_at is None:
        handover.answered_at, handover.answered_by = utcnow(), principal.id
        audit.record(db, principal, "answer", "handover_request", handover.id, basis="duty")
    else:
        audit.record(db, principal, "read", "handover_request", handover.id, basis="duty")
    db.commit()
    return handover_out(handover)
