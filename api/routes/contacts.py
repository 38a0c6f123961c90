"""Contact logs: outreach workers record visits, calls and letters; coordinators read them."""

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import false
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, require
from api.db.models import ContactLog
from api.db.session import get_db
from api.schemas import TriageResponse
from api.services import contacts as service
from api.services.contacts import ContactIn

router = APIRouter(prefix="/contacts", tags=["contacts"])


class ContactOut(BaseModel):
    id: str
    municipality: str
    staff_user_id: str
    person_id: str | None
    unidentified: str | None
    contacted_at: datetime
    place: str | None
    method: str
    outcome: str
    notes: str | None
    next_step: str | None
    client_ref: str | None
    created_at: datetime
    urgent: bool
    triage: TriageResponse | None = Field(description="The notes' triage; null without notes.")
    alert_id: str | None = Field(description="The alert an urgent note raised.")
    replayed: bool = Field(default=False, description="A resent entry: nothing new stored.")


def contact_out(log: ContactLog, alert_id: str | None, *, replayed: bool = False) -> ContactOut:
    return ContactOut(
        id=log.id,
        municipality=log.municipality,
        staff_user_id=log.staff_user_id,
        person_id=log.person_id,
        unidentified=log.unidentified,
        contacted_at=log.contacted_at,
        place=log.place,
        method=log.method,
        outcome=log.outcome,
        notes=log.notes,
        next_step=log.next_step,
        client_ref=log.client_ref,
        created_at=log.created_at,
        urgent=log.urgent,
        triage=TriageResponse(**log.triage) if log.triage else None,
        alert_id=alert_id,
        replayed=replayed,
    )


def show_logs(db: Session, principal: Principal, logs: Sequence[ContactLog]) -> list[ContactOut]:
    """The logs as shown, one audit event each (the caller commits)."""
    audit.record_reads(db, principal, "contact_log", [log.id for log in logs], basis="outreach")
    alerts = service.alert_ids(db, [log.id for log in logs])
    return [contact_out(log, alerts.get(log.id)) for log in logs]


@router.post("", status_code=201, response_model=ContactOut)
def create_contact(
    entry: ContactIn,
    response: Response,
    principal: Annotated[Principal, Depends(require("contact.write"))],
    db: Annotated[Session, Depends(get_db)],
) -> ContactOut:
    """Record a visit, call or letter. The notes are triaged; an urgent note raises an alert.

    Exactly one of person_id or unidentified. Resending an entry with the same client_ref
    returns the stored log (200) and stores nothing; different content with it is a 409.
    """
    log, created = service.submit(db, principal, entry)
    if not created:
        response.status_code = 200
    alert_id = service.alert_ids(db, [log.id]).get(log.id)
    return contact_out(log, alert_id, replayed=not created)


@router.get("", response_model=list[ContactOut])
def list_contacts(
    principal: Annotated[Principal, Depends(require("contact.read"))],
    db: Annotated[Session, Depends(get_db)],
    person_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ContactOut]:
    """Outreach workers: their own logs. Coordinators: the municipality's. Newest first."""
    query = service.visible_logs(principal)
    if person_id is not None:
        # An id no record can have matches nothing (and must not reach PostgreSQL).
        query = query.where(
            ContactLog.person_id == person_id if service.storable(person_id) else false()
        )
    logs = db.scalars(service.newest_first(query).limit(limit).offset(offset)).all()
    shown = show_logs(db, principal, logs)
    db.commit()
    return shown


@router.get("/{contact_id}", response_model=ContactOut)
def get_contact(
    contact_id: str,
    principal: Annotated[Principal, Depends(require("contact.read"))],
    db: Annotated[Session, Depends(get_db)],
) -> ContactOut:
    shown = show_logs(db, principal, [service.get_log(db, principal, contact_id)])
    db.commit()
    return shown[0]
