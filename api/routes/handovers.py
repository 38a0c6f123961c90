"""Residents who asked to talk to a person (人と話したい): the bot hands the request in, the
coordinator's duty queue lists the town's requests, unanswered first, newest first.

A request carries the person's id and the channel, never what the resident wrote or their
channel id; who they are is read through the person's own, consent-gated route.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.access import Principal, require
from api.db.models import HandoverRequest
from api.db.session import get_db
from api.services import handovers as service
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
        overdue=service.overdue(handover),
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
    handovers = service.list_requests(db, principal, answered, limit)
    db.commit()
    return [handover_out(h) for h in handovers]


@router.post("/{handover_id}/answer", response_model=HandoverOut)
def answer_handover(handover_id: str, principal: Answerer, db: Db) -> HandoverOut:
    """A person has answered the resident. Answering again keeps the first answer."""
    return handover_out(service.answer(db, principal, handover_id))
