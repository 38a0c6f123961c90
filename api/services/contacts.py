"""Outreach: contact logs from the field, and the people an outreach worker is assigned.

A contact log is triaged like a consultation (the notes), and an urgent note raises an
alert for the duty queue. Offline entries carry a client_ref made on the phone: sent twice,
they are stored once. Scope: outreach workers see their own logs and their assigned
people; coordinators see their municipality's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator
from sqlalchemy import Select, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, not_found
from api.db.models import (
    Alert,
    Assignment,
    Case,
    Consultation,
    ContactLog,
    Person,
    StaffUser,
    utcnow,
)
from api.db.session import storable
from api.errors import ApiError
from api.schemas import MAX_TEXT_CHARS
from api.services.alerts import raise_alert
from api.services.consent import SUPPORT_MEETING, disclosure_basis, met_in_support_meeting
from routing_rules import triage

Method = Literal["visit", "phone", "letter"]
# met: spoke with the person; not_home: a visit found nobody; refused: the person declined
# contact; no_answer: a call nobody took; letter_sent: a letter left or posted.
Outcome = Literal["met", "not_home", "refused", "no_answer", "letter_sent", "other"]
OUTCOMES: tuple[str, ...] = Outcome.__args__  # type: ignore[attr-defined]

# Phones' clocks drift; an entry a little ahead of the server is not an error.
FUTURE_SLACK = timedelta(minutes=5)
PURPOSE = "outreach"  # the audit basis of contact log reads and writes
ASSIGNED = "assignment"  # the basis on which an outreach worker reads an assigned person


def _clean(value: str | None) -> str | None:
    """Blank is absent; NUL and lone surrogates cannot be stored (PostgreSQL text, UTF-8)."""
    if value is None or not value.strip():
        return None
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains unpaired surrogate code points") from None
    return value


class ContactIn(BaseModel):
    person_id: str | None = Field(default=None, max_length=36, description="A known person.")
    unidentified: str | None = Field(
        default=None, max_length=2000, description="Who was met, when the person is not known."
    )
    contacted_at: AwareDatetime = Field(description="When (with a time zone).")
    place: str | None = Field(default=None, max_length=200)
    method: Method
    outcome: Outcome = Field(description=", ".join(OUTCOMES))
    notes: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    next_step: str | None = Field(default=None, max_length=2000)
    client_ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="An id made on the device for an offline entry: resent, stored once.",
    )

    @field_validator("person_id", "unidentified", "place", "notes", "next_step", "client_ref")
    @classmethod
    def _strings(cls, value: str | None) -> str | None:
        return _clean(value)

    @field_validator("contacted_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("out of range") from None

    def fields(self) -> tuple[object, ...]:
        """What a resent entry must repeat to be the same entry."""
        return (
            self.person_id,
            self.unidentified,
            self.contacted_at,
            self.place,
            self.method,
            self.outcome,
            self.notes,
            self.next_step,
        )


def _stored_fields(log: ContactLog) -> tuple[object, ...]:
    return (
        log.person_id,
        log.unidentified,
        log.contacted_at,
        log.place,
        log.method,
        log.outcome,
        log.notes,
        log.next_step,
    )


# --- contact logs ---------------------------------------------------------------------------


def submit(db: Session, principal: Principal, entry: ContactIn) -> tuple[ContactLog, bool]:
    """The log for this entry, and whether it was created now (False: a resent entry)."""
    if (entry.person_id is None) == (entry.unidentified is None):
        raise ApiError(
            422,
            "person_or_unidentified",
            "Give exactly one of person_id (a known person) or unidentified (a description).",
        )
    if entry.contacted_at > utcnow() + FUTURE_SLACK:
        raise ApiError(422, "contacted_at_future", "contacted_at is in the future.")
    if entry.client_ref:
        replay = _replay(db, principal, entry)
        if replay is not None:
            return replay, False
    try:
        log = _create(db, principal, entry)
        db.commit()
    except IntegrityError:
        # The same offline entry arrived twice at once: the other request stored it.
        db.rollback()
        replay = _replay(db, principal, entry) if entry.client_ref else None
        if replay is None:
            raise
        return replay, False
    return log, True


def _replay(db: Session, principal: Principal, entry: ContactIn) -> ContactLog | None:
    found = db.scalar(
        select(ContactLog).where(
            ContactLog.staff_user_id == principal.id, ContactLog.client_ref == entry.client_ref
        )
    )
    if found is None:
        return None
    if _stored_fields(found) != entry.fields():
        raise ApiError(
            409, "client_ref_conflict", "This client_ref was used for a different contact log."
        )
    audit.record(db, principal, "read", "contact_log", found.id, basis=PURPOSE)
    db.commit()
    return found


def _create(db: Session, principal: Principal, entry: ContactIn) -> ContactLog:
    municipality = principal.municipality
    assert municipality is not None  # outreach and coordinator tokens belong to a town
    person = None
    if entry.person_id is not None:
        person = db.get(Person, entry.person_id)
        if person is None or person.municipality != municipality:
            # Another town's person is as unknown here as one that does not exist.
            raise ApiError(422, "unknown_person", "No such person in this municipality.")
    result = triage(entry.notes, municipality) if entry.notes else None
    log = ContactLog(
        municipality=municipality,
        staff_user_id=principal.id,
        person_id=entry.person_id,
        unidentified=entry.unidentified,
        contacted_at=entry.contacted_at,
        place=entry.place,
        method=entry.method,
        outcome=entry.outcome,
        notes=entry.notes,
        next_step=entry.next_step,
        triage=result.to_dict() if result else None,
        urgent=bool(result and result.urgent),
        client_ref=entry.client_ref,
    )
    db.add(log)
    db.flush()
    audit.record(db, principal, "create", "contact_log", log.id, basis=PURPOSE)
    if result is not None and result.urgent:
        raise_alert(
            db,
            principal,
            result,
            contact_log_id=log.id,
            case_id=_open_case_id(db, person) if person else None,
        )
    return log


def _open_case_id(db: Session, person: Person) -> str | None:
    """The person's open case, so the coordinator sees the alert with the case."""
    query = select(Case.id).where(Case.person_id == person.id, Case.status != "closed")
    return db.scalar(query.limit(1))


def visible_logs(principal: Principal) -> Select[tuple[ContactLog]]:
    """Outreach workers: their own logs. Coordinators: their municipality's."""
    query = select(ContactLog).where(ContactLog.municipality == principal.municipality)
    if principal.role == "coordinator":
        return query
    if principal.role == "outreach":
        return query.where(ContactLog.staff_user_id == principal.id)
    return query.where(False)


def newest_first(query: Select[tuple[ContactLog]]) -> Select[tuple[ContactLog]]:
    return query.order_by(
        ContactLog.contacted_at.desc(), ContactLog.created_at.desc(), ContactLog.id
    )


def get_log(db: Session, principal: Principal, log_id: str) -> ContactLog:
    log = (
        db.scalar(visible_logs(principal).where(ContactLog.id == log_id))
        if storable(log_id)
        else None
    )
    if log is None:
        raise not_found("contact log")
    return log


def alert_ids(db: Session, log_ids: list[str]) -> dict[str, str]:
    """contact log id -> the id of the alert it raised."""
    if not log_ids:
        return {}
    rows = db.execute(
        select(Alert.contact_log_id, Alert.id).where(Alert.contact_log_id.in_(log_ids))
    )
    return {log_id: alert_id for log_id, alert_id in rows if log_id}


# --- people and assignments -----------------------------------------------------------------


def visible_persons(principal: Principal) -> Select[tuple[Person]]:
    """Outreach workers: the people assigned to them. Coordinators: their municipality's."""
    query = select(Person).where(Person.municipality == principal.municipality)
    if principal.role == "coordinator":
        return query
    if principal.role == "outreach":
        assigned = exists().where(
            Assignment.person_id == Person.id, Assignment.staff_user_id == principal.id
        )
        return query.where(assigned)
    return query.where(False)


def get_person(db: Session, principal: Principal, person_id: str) -> Person:
    query = visible_persons(principal).where(Person.id == person_id)
    person = db.scalar(query) if storable(person_id) else None
    if person is None:
        raise not_found("person")
    return person


def person_basis(db: Session, principal: Principal, person: Person) -> str | None:
    """Why this principal may read the person's name, phone and household; None: not.

    An outreach worker reads the people assigned to them (they visit them). A coordinator
    reads on the bases a referral's content is read on: consent covering the coordinator
    body, danger to life, or a 支援会議 on one of the person's cases.
    """
    if principal.role == "outreach":
        return ASSIGNED
    urgent = db.scalar(
        select(
            exists().where(Consultation.person_id == person.id, Consultation.urgent.is_(True))
            | exists().where(ContactLog.person_id == person.id, ContactLog.urgent.is_(True))
        )
    )
    body_id = principal.unit_body_id
    basis = disclosure_basis(db, person_id=person.id, body_id=body_id, urgent=bool(urgent))
    if basis is not None:
        return basis
    case_ids = db.scalars(select(Case.id).where(Case.person_id == person.id))
    met = any(met_in_support_meeting(db, case_id, body_id) for case_id in case_ids)
    return SUPPORT_MEETING if met else None


def assigned_staff(db: Session, person_id: str) -> list[str]:
    return list(
        db.scalars(
            select(Assignment.staff_user_id)
            .where(Assignment.person_id == person_id)
            .order_by(Assignment.created_at)
        )
    )


def assign(
    db: Session, principal: Principal, person: Person, staff_user_id: str
) -> tuple[Assignment, bool]:
    """Assign an active outreach worker of the town; (assignment, created now)."""
    worker = db.get(StaffUser, staff_user_id) if storable(staff_user_id) else None
    if (
        worker is None
        or not worker.active
        or worker.role != "outreach"
        or worker.municipality != person.municipality
    ):
        raise ApiError(
            422,
            "not_an_outreach_worker",
            "staff_user_id must be an active outreach worker of this municipality.",
        )
    query = select(Assignment).where(
        Assignment.person_id == person.id, Assignment.staff_user_id == staff_user_id
    )
    found = db.scalar(query)
    if found is not None:
        audit.record(db, principal, "read", "assignment", found.id, basis=ASSIGNED)
        db.commit()
        return found, False
    assignment = Assignment(person_id=person.id, staff_user_id=staff_user_id)
    try:
        db.add(assignment)
        db.flush()
        audit.record(db, principal, "create", "assignment", assignment.id, basis=ASSIGNED)
        db.commit()
    except IntegrityError:
        # Assigned by another request at the same moment: that assignment stands.
        db.rollback()
        found = db.scalar(query)
        if found is None:
            raise
        return found, False
    return assignment, True


def unassign(db: Session, principal: Principal, person: Person, staff_user_id: str) -> None:
    if not storable(staff_user_id):
        raise not_found("assignment")
    assignment = db.scalar(
        select(Assignment).where(
            Assignment.person_id == person.id, Assignment.staff_user_id == staff_user_id
        )
    )
    if assignment is None:
        raise not_found("assignment")
    audit.record(db, principal, "delete", "assignment", assignment.id, basis=ASSIGNED)
    db.delete(assignment)
    db.commit()
