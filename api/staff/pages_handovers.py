"""Residents who asked to talk to a person (人と話したい), for the coordinator on duty: the
town's requests, open first, each with by when a person answers, the person's conversations
to answer in, and a button to mark the request answered.

The list and the answer go through api/services/handovers.py, exactly as the JSON API's
(GET /api/v1/handovers, POST /api/v1/handovers/{id}/answer): the same town scope and the
same audit (basis duty); the conversations are listed (and audited) by the conversations
service. A request carries no text of the resident's, and this page shows none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.access import PERMISSIONS
from api.accounts import display_names
from api.db.models import Conversation, HandoverRequest, utcnow
from api.db.session import get_db
from api.services import conversations as conversation_service
from api.services import handovers as service
from api.staff import session
from api.staff.render import back, render
from api.staff.session import StaffSession

router = APIRouter(prefix="/handovers")
Db = Annotated[Session, Depends(get_db)]
Reader = Annotated[StaffSession, Depends(session.page("handover.read"))]
Answerer = Annotated[StaffSession, Depends(session.action("handover.answer"))]

PAGE = "/staff/handovers"


@dataclass(frozen=True, slots=True)
class Row:
    handover: HandoverRequest
    overdue: bool
    answered_by: str | None  # the staff member's name
    conversations: list[Conversation]


@router.get("")
def handovers_page(request: Request, staff: Reader, db: Db) -> Response:
    principal = staff.principal
    handovers = service.list_requests(db, principal)
    names = display_names(db, {h.answered_by for h in handovers if h.answered_by})
    may_read_chats = principal.role in PERMISSIONS["conversation.read"]
    # The people's chats, listed (and audited) as the API lists them.
    people = {h.person_id for h in handovers} if may_read_chats else set()
    chats = conversation_service.of_people(db, principal, people)
    now = utcnow()
    rows = [
        Row(
            handover=h,
            overdue=service.overdue(h, now),
            answered_by=names.get(h.answered_by, h.answered_by) if h.answered_by else None,
            conversations=chats.get(h.person_id, []),
        )
        for h in handovers
    ]
    db.commit()
    may_answer = principal.role in PERMISSIONS["handover.answer"]
    return render(request, "handovers.html", staff, rows=rows, may_answer=may_answer)


@router.post("/{handover_id}/answer")
def answer(handover_id: str, staff: Answerer, db: Db) -> Response:
    service.answer(db, staff.principal, handover_id)
    return back(PAGE, ok="answered_handover")
