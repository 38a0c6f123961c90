"""The outreach worker's field log: a phone-first form that also works offline.

The page's script (static/outreach.js) keeps each entry on the phone (localStorage) with a
client_ref made there, and sends it when the connection is back; a service worker
(static/outreach-sw.js) keeps the page's last copy, so the form opens with no signal.
The contacts service stores an entry once per (worker, client_ref), so an entry resent
after a lost answer is not stored twice. Without script, the form posts as usual, with a
client_ref made when the page was served (a double submit is stored once too).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api import audit
from api.db.session import get_db
from api.errors import ApiError
from api.routes.contacts import show_logs
from api.services import contacts as service
from api.services.contacts import ContactIn
from api.services.deadlines import JST
from api.staff import session
from api.staff.render import back, render
from api.staff.session import StaffSession

router = APIRouter()
Db = Annotated[Session, Depends(get_db)]
Reader = Annotated[StaffSession, Depends(session.page("contact.write"))]
Writer = Annotated[StaffSession, Depends(session.action("contact.write"))]
RECENT = 30
SERVICE_WORKER = Path(__file__).parent / "static" / "outreach-sw.js"


@router.get("/outreach-sw.js")
def service_worker() -> FileResponse:
    """Served from /staff/ (not /staff/static/), so that it may control /staff/outreach."""
    return FileResponse(
        SERVICE_WORKER, media_type="text/javascript", headers={"Cache-Control": "no-cache"}
    )


@router.get("/outreach")
def field_log(request: Request, staff: Reader, db: Db) -> Response:
    principal = staff.principal
    # The form names the people assigned to this worker (a disclosure of each, audited as
    # the API's reads). A coordinator logging a contact gets no list: naming the town's
    # people would need a legal basis per person; they use the case's page instead.
    people = (
        db.scalars(service.visible_persons(principal).limit(200)).all()
        if principal.role == "outreach"
        else []
    )
    audit.record_reads(db, principal, "person", [p.id for p in people], basis=service.ASSIGNED)
    logs = db.scalars(service.newest_first(service.visible_logs(principal)).limit(RECENT)).all()
    recent = show_logs(db, principal, logs)
    db.commit()
    return render(
        request,
        "outreach.html",
        staff,
        people=people,
        recent=recent,
        methods=("visit", "phone", "letter"),
        outcomes=service.OUTCOMES,
        client_ref=str(uuid.uuid4()),
        now=datetime.now(JST).strftime("%Y-%m-%dT%H:%M"),
    )


@router.post("/outreach/logs")
def submit_entry(entry: ContactIn, staff: Writer, db: Db) -> JSONResponse:
    """An entry from the phone's queue (JSON, CSRF header). 201 stored, 200 already stored."""
    log, created = service.submit(db, staff.principal, entry)
    return JSONResponse(
        {"id": log.id, "client_ref": log.client_ref, "replayed": not created},
        status_code=201 if created else 200,
    )


@router.post("/outreach/form")
def submit_form(
    staff: Writer,
    db: Db,
    method: Annotated[str, Form()],
    outcome: Annotated[str, Form()],
    contacted_at: Annotated[str, Form()] = "",
    person_id: Annotated[str, Form()] = "",
    unidentified: Annotated[str, Form()] = "",
    place: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
    next_step: Annotated[str, Form()] = "",
    client_ref: Annotated[str, Form()] = "",
) -> Response:
    """The same entry from a plain form post (no script): times are Japan time."""
    try:
        when = (
            datetime.fromisoformat(contacted_at).replace(tzinfo=JST)
            if contacted_at
            else datetime.now(JST)
        )
        entry = ContactIn(
            person_id=person_id or None,
            unidentified=None if person_id else unidentified or None,
            contacted_at=when,
            place=place,
            method=method,  # type: ignore[arg-type]
            outcome=outcome,  # type: ignore[arg-type]
            notes=notes,
            next_step=next_step,
            client_ref=client_ref or None,
        )
        service.submit(db, staff.principal, entry)
    except ApiError as error:
        db.rollback()
        return back("/staff/outreach", error=error.code)
    except (ValidationError, ValueError):
        db.rollback()
        return back("/staff/outreach", error="invalid")
    return back("/staff/outreach", ok="contact")
