"""People for outreach: whom a worker visits, and the coordinator's assignments.

An outreach worker sees the people assigned to them, with name, phone and household (they
visit them). A coordinator sees the municipality's people; name, phone and household only
on a recorded basis (consent covering the coordinator body, danger to life, 支援会議).
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, require
from api.db.models import Assignment, ContactLog, Household, Person
from api.db.session import get_db
from api.routes.contacts import ContactOut, show_logs
from api.routes.views import MemberOut
from api.services import contacts as service

router = APIRouter(prefix="/persons", tags=["persons"])

RECENT_IN_LIST = 3
RECENT_IN_DETAIL = 20


class PersonOut(BaseModel):
    id: str
    municipality: str
    created_at: datetime
    disclosure: str | None = Field(
        description="The basis on which name, phone and household are shown: assignment, "
        "consent, vital_interest, support_meeting; null: they are withheld."
    )
    name: str | None
    phone: str | None
    household: list[MemberOut] | None
    assigned_to: list[str] | None = Field(
        description="Staff user ids of the assigned outreach workers (coordinators only)."
    )
    recent_contacts: list[ContactOut] = Field(description="Newest first, within your scope.")


class AssignmentIn(BaseModel):
    staff_user_id: str = Field(min_length=1, max_length=36)


class AssignmentOut(BaseModel):
    id: str
    person_id: str
    staff_user_id: str
    created_at: datetime


def _show(db: Session, principal: Principal, person: Person, recent: int) -> PersonOut:
    """The person as this principal may see them; audited with the logs shown."""
    basis = service.person_basis(db, principal, person)
    audit.record(db, principal, "read", "person", person.id, basis=basis or "metadata")
    household = None
    if basis:
        found = db.scalar(select(Household).where(Household.person_id == person.id))
        household = [
            MemberOut(relation=m.relation, age=m.age, notes=m.notes)
            for m in (found.members if found else [])
        ]
    logs = db.scalars(
        service.newest_first(
            service.visible_logs(principal).where(ContactLog.person_id == person.id)
        ).limit(recent)
    ).all()
    return PersonOut(
        id=person.id,
        municipality=person.municipality,
        created_at=person.created_at,
        disclosure=basis,
        name=person.name if basis else None,
        phone=person.phone if basis else None,
        household=household,
        assigned_to=(
            service.assigned_staff(db, person.id) if principal.role == "coordinator" else None
        ),
        recent_contacts=show_logs(db, principal, logs),
    )


@router.get("", response_model=list[PersonOut])
def list_persons(
    principal: Annotated[Principal, Depends(require("person.read"))],
    db: Annotated[Session, Depends(get_db)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[PersonOut]:
    """Outreach workers: the people assigned to them. Coordinators: the municipality's."""
    query = service.visible_persons(principal).order_by(Person.created_at.desc(), Person.id)
    persons = db.scalars(query.limit(limit).offset(offset)).all()
    shown = [_show(db, principal, p, RECENT_IN_LIST) for p in persons]
    db.commit()
    return shown


@router.get("/{person_id}", response_model=PersonOut)
def get_person(
    person_id: str,
    principal: Annotated[Principal, Depends(require("person.read"))],
    db: Annotated[Session, Depends(get_db)],
) -> PersonOut:
    """One person (outreach workers: only if assigned to them; else 404)."""
    shown = _show(db, principal, service.get_person(db, principal, person_id), RECENT_IN_DETAIL)
    db.commit()
    return shown


@router.post("/{person_id}/assignments", status_code=201, response_model=AssignmentOut)
def assign_worker(
    person_id: str,
    body: AssignmentIn,
    response: Response,
    principal: Annotated[Principal, Depends(require("person.assign"))],
    db: Annotated[Session, Depends(get_db)],
) -> AssignmentOut:
    """Assign an active outreach worker of the municipality (422 otherwise); 200 if already."""
    person = service.get_person(db, principal, person_id)
    assignment, created = service.assign(db, principal, person, body.staff_user_id)
    if not created:
        response.status_code = 200
    return _assignment_out(assignment)


@router.delete("/{person_id}/assignments/{staff_user_id}", status_code=204)
def unassign_worker(
    person_id: str,
    staff_user_id: str,
    principal: Annotated[Principal, Depends(require("person.assign"))],
    db: Annotated[Session, Depends(get_db)],
) -> Response:
    person = service.get_person(db, principal, person_id)
    service.unassign(db, principal, person, staff_user_id)
    return Response(status_code=204)


def _assignment_out(assignment: Assignment) -> AssignmentOut:
    return AssignmentOut(
        id=assignment.id,
        person_id=assignment.person_id,
        staff_user_id=assignment.staff_user_id,
        created_at=assignment.created_at,
    )
