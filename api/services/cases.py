"""The coordinator's case work: the queue, the case state machine, consents for meetings,
meetings (支援会議 / 重層的支援会議), the support plan and monitoring.

Case states: open -> planning -> monitoring -> closed (終結, with a reason, from any state).
monitoring -> planning is allowed too: a review (見直し) that needs a new plan. A closed
case takes no more meetings, plan edits, notes or consents (409); revoking a consent
always works, since revocation must stop disclosure whatever the case's state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, admin_basis, not_found
from api.db.models import (
    Body,
    Case,
    Consent,
    Meeting,
    MeetingAttendee,
    MonitoringNote,
    PlanTask,
    Referral,
    SupportPlan,
    utcnow,
)
from api.errors import ApiError
from api.services.consent import CONSENT, SUPPORT_MEETING, consent_covers, disclosure_basis
from api.services.referrals import is_overdue

STATUSES = ("open", "planning", "monitoring", "closed")
# status -> the statuses POST /cases/{id}/status may move it to (closing is POST /close).
NEXT: dict[str, tuple[str, ...]] = {
    "open": ("planning",),
    "planning": ("monitoring",),
    "monitoring": ("planning",),
    "closed": (),
}
MEETING_KINDS = ("support_meeting", "multi_agency_meeting")
CONSENT_PURPOSES = ("multi_agency_meeting", "referral")


# --- requests -------------------------------------------------------------------------------


class StatusIn(BaseModel):
    status: Literal["planning", "monitoring"] = Field(
        description="open -> planning -> monitoring (-> planning for a review). "
        "Closing (終結) is POST /cases/{id}/close with a reason."
    )


class CloseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why the case ends (終結).")


class CaseConsentIn(BaseModel):
    purpose: Literal["multi_agency_meeting", "referral"]
    recipients: list[str] = Field(
        min_length=1, max_length=30, description="Body ids of the town the person agreed to."
    )
    shown_text: str = Field(min_length=1, max_length=4000, description="What the person read.")
    captured_via: str = Field(
        min_length=1, max_length=32, description="in_person, document, phone, …"
    )
    agreed: bool
    expires_at: AwareDatetime | None = None


class AttendeeIn(BaseModel):
    body_id: str | None = Field(default=None, min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    confidentiality_bound: bool = Field(
        description="A member bound to confidentiality (守秘義務), e.g. under 法106条の6."
    )


class MeetingIn(BaseModel):
    kind: Literal["support_meeting", "multi_agency_meeting"] = Field(
        description="support_meeting: 支援会議 (法106条の6), no consent needed but every "
        "attendee bound to confidentiality. multi_agency_meeting: 重層的支援会議, the "
        "person's active consent must cover every attending body; every attendee needs a "
        "body_id."
    )
    held_on: date
    attendees: list[AttendeeIn] = Field(min_length=1, max_length=50)
    decisions: str | None = Field(default=None, max_length=20000)


class TaskIn(BaseModel):
    body_id: str = Field(max_length=64)
    description: str = Field(min_length=1, max_length=4000)
    due_on: date | None = None
    done: bool = False


class PlanIn(BaseModel):
    goals: list[str] = Field(default_factory=list, max_length=50)
    lead_body_id: str | None = Field(default=None, max_length=64, description="主担当")
    review_dates: list[date] = Field(default_factory=list, max_length=50)
    tasks: list[TaskIn] = Field(default_factory=list, max_length=100)


class NoteIn(BaseModel):
    note: str = Field(min_length=1, max_length=20000)


# --- scope and checks -----------------------------------------------------------------------


def get(db: Session, principal: Principal, case_id: str, *, for_update: bool = False) -> Case:
    """The case, if it is of the principal's municipality; else 404 (ids reveal nothing).

    Writers lock the row (PostgreSQL), so two coordinators' changes do not interleave.
    """
    query = select(Case).where(Case.id == case_id, Case.municipality == principal.municipality)
    case = db.scalar(query.with_for_update() if for_update else query)
    if case is None:
        audit.denied(db, principal, "case", case_id)
        raise not_found("case")
    return case


def ensure_not_closed(case: Case) -> None:
    if case.status == "closed":
        raise ApiError(
            409,
            "case_closed",
            "The case is closed (終結); it takes no more changes.",
            current_status=case.status,
        )


def check_bodies(db: Session, municipality: str, ids: Iterable[tuple[str, str]]) -> None:
    """Every (field, body id) must name an active body of the town; else 422 naming them."""
    pairs = list(ids)
    wanted = {body_id for _, body_id in pairs}
    known = (
        set(
            db.scalars(
                select(Body.id).where(
                    Body.id.in_(wanted), Body.municipality == municipality, Body.active.is_(True)
                )
            )
        )
        if wanted
        else set()
    )
    problems = [
        {"field": field, "problem": "not a body of this municipality", "body_id": body_id}
        for field, body_id in pairs
        if body_id not in known
    ]
    if problems:
        raise ApiError(
            422,
            "unknown_body",
            "Not bodies of this municipality: "
            + ", ".join(sorted({str(p["body_id"]) for p in problems}))[:500],
            errors=problems,
        )


def own_records_visible(principal: Principal) -> bool:
    """Meetings' decisions, the plan and notes: the coordinators' own work records."""
    return principal.role == "coordinator" or admin_basis(principal) is not None


def content_basis(
    db: Session, principal: Principal, case: Case, *, urgent: bool | None = None
) -> str | None:
    """Why this principal may read the person's content (name, phone, texts) now, or None."""
    if principal.role == "admin":
        return admin_basis(principal)
    if principal.role != "coordinator":
        return None
    return disclosure_basis(
        db,
        person_id=case.person_id,
        body_id=principal.unit_body_id,
        urgent=case.urgent if urgent is None else urgent,
        case_id=case.id,
    )


# --- the queue ------------------------------------------------------------------------------


def queue(db: Session, principal: Principal, status: str | None, limit: int) -> Sequence[Case]:
    """Urgent first, then the longest waiting (opened earliest); default: not closed."""
    query = select(Case).where(Case.municipality == principal.municipality)
    query = query.where(Case.status == status) if status else query.where(Case.status != "closed")
    return db.scalars(
        query.order_by(Case.urgent.desc(), Case.opened_at, Case.id).limit(limit)
    ).all()


def overdue_referrals(db: Session, municipality: str) -> list[Referral]:
    """Referrals of the town, to any body, not received by their deadline; urgent first."""
    candidates = db.scalars(
        select(Referral)
        .where(
            Referral.municipality == municipality,
            Referral.status == "sent",
            Referral.due_at < utcnow(),
        )
        .order_by(Referral.urgent.desc(), Referral.due_at, Referral.id)
    ).all()
    return [r for r in candidates if is_overdue(r)]


def lead_bodies(db: Session, case_ids: Sequence[str]) -> dict[str, Body]:
    if not case_ids:
        return {}
    rows = db.execute(
        select(SupportPlan.case_id, Body)
        .join(Body, Body.id == SupportPlan.lead_body_id)
        .where(SupportPlan.case_id.in_(case_ids))
    ).all()
    return {case_id: body for case_id, body in rows}


@dataclass(frozen=True, slots=True)
class QueueView:
    """The coordinator's queue as the API and the pages show it."""

    cases: Sequence[Case]
    overdue: list[Referral]  # the town's referrals past their deadline, urgent first
    overdue_per_case: dict[str, int]
    leads: dict[str, Body]  # case id -> lead body of its plan


def queue_view(db: Session, principal: Principal, status: str | None, limit: int) -> QueueView:
    """The queue, its reads audited (basis: queue); the caller commits."""
    cases = queue(db, principal, status, limit)
    overdue = overdue_referrals(db, principal.municipality or "")
    audit.record_reads(db, principal, "case", [c.id for c in cases], basis="queue")
    audit.record_reads(db, principal, "referral", [r.id for r in overdue], basis="queue")
    per_case = Counter(r.case_id for r in overdue if r.case_id)
    return QueueView(cases, overdue, dict(per_case), lead_bodies(db, [c.id for c in cases]))


def waiting_seconds(case: Case, now: datetime | None = None) -> int:
    end = case.closed_at or now or utcnow()
    return max(0, int((end - case.opened_at).total_seconds()))


# --- state machine --------------------------------------------------------------------------


def set_status(db: Session, principal: Principal, case: Case, target: str) -> Case:
    ensure_not_closed(case)
    if target not in NEXT[case.status]:
        raise ApiError(
            409,
            "illegal_transition",
            f"A case that is {case.status} cannot move to {target}.",
            current_status=case.status,
        )
    if target == "monitoring" and plan_of(db, case) is None:
        raise ApiError(
            409,
            "plan_required",
            "Save a support plan before monitoring it.",
            current_status=case.status,
        )
    _move(db, principal, case, target)
    return case


def _move(db: Session, principal: Principal, case: Case, target: str) -> None:
    case.status = target
    # The audit event is the record of when the case moved (the timeline reads it back).
    audit.record(db, principal, f"status_{target}", "case", case.id)


def close(db: Session, principal: Principal, case: Case, reason: str) -> Case:
    ensure_not_closed(case)
    if not reason.strip():
        raise ApiError(422, "reason_required", "Say why the case ends: reason is required.")
    case.status, case.closed_at, case.closure_reason = "closed", utcnow(), reason
    audit.record(db, principal, "close", "case", case.id)
    return case


# --- consents -------------------------------------------------------------------------------


def record_consent(db: Session, principal: Principal, case: Case, data: CaseConsentIn) -> Consent:
    """The person's consent (or refusal), as the coordinator captured it."""
    ensure_not_closed(case)
    check_bodies(
        db,
        case.municipality,
        ((f"recipients.{i}", body_id) for i, body_id in enumerate(data.recipients)),
    )
    if data.expires_at is not None and data.expires_at <= utcnow():
        raise ApiError(422, "invalid_request", "expires_at is in the past.")
    consent = Consent(
        municipality=case.municipality,
        person_id=case.person_id,
        purpose=data.purpose,
        recipients=list(dict.fromkeys(data.recipients)),
        legal_basis=CONSENT,
        agreed=data.agreed,
        shown_text=data.shown_text,
        captured_via=data.captured_via,
        captured_at=utcnow(),
        expires_at=data.expires_at,
    )
    db.add(consent)
    db.flush()
    audit.record(db, principal, "create", "consent", consent.id, basis=data.purpose)
    return consent


def revoke_consent(db: Session, principal: Principal, consent_id: str) -> Consent:
    """Revoked at once: disclosure is checked at every read. Revoking twice changes nothing."""
    consent = db.scalar(
        select(Consent)
        .where(Consent.id == consent_id, Consent.municipality == principal.municipality)
        .with_for_update()
    )
    if consent is None:
        raise not_found("consent")
    if consent.revoked_at is None:
        consent.revoked_at = utcnow()
        audit.record(db, principal, "revoke", "consent", consent.id, basis=consent.purpose)
    return consent


# --- meetings -------------------------------------------------------------------------------


def add_meeting(db: Session, principal: Principal, case: Case, data: MeetingIn) -> Meeting:
    ensure_not_closed(case)
    check_bodies(
        db,
        case.municipality,
        ((f"attendees.{i}.body_id", a.body_id) for i, a in enumerate(data.attendees) if a.body_id),
    )
    if data.kind == "support_meeting":
        # 法106条の6: sharing without consent, only among members bound to confidentiality.
        unbound = [i for i, a in enumerate(data.attendees) if not a.confidentiality_bound]
        if unbound:
            raise ApiError(
                422,
                "confidentiality_required",
                "Every attendee of a 支援会議 must be bound to confidentiality; not attendee "
                + ", ".join(str(i) for i in unbound)
                + ".",
                errors=[
                    {"field": f"attendees.{i}.confidentiality_bound", "problem": "must be true"}
                    for i in unbound
                ],
            )
        basis = SUPPORT_MEETING
    else:
        # 重層的支援会議: only bodies the person agreed to. A person without a body (a
        # 民生委員, a neighbour) cannot be named in a consent, so they cannot attend.
        bodiless = [i for i, a in enumerate(data.attendees) if not a.body_id]
        if bodiless:
            raise ApiError(
                422,
                "body_required",
                "Every attendee of a 重層的支援会議 must attend for a body the person's consent "
                "can name; hold a 支援会議 to include others.",
                errors=[
                    {"field": f"attendees.{i}.body_id", "problem": "required"} for i in bodiless
                ],
            )
        bodies = {a.body_id for a in data.attendees if a.body_id}
        uncovered = sorted(
            b
            for b in bodies
            if not consent_covers(db, case.person_id, {b}, purpose="multi_agency_meeting")
        )
        if uncovered:
            raise ApiError(
                409,
                "consent_required",
                "No active consent to a 重層的支援会議 covers: " + ", ".join(uncovered) + ".",
                errors=[
                    {"body_id": b, "problem": "no active consent of the person covers this body"}
                    for b in uncovered
                ],
            )
        basis = CONSENT
    meeting = Meeting(
        case_id=case.id,
        kind=data.kind,
        legal_basis=basis,
        held_on=data.held_on,
        decisions=data.decisions,
        attendees=[
            MeetingAttendee(
                body_id=a.body_id, name=a.name, confidentiality_bound=a.confidentiality_bound
            )
            for a in data.attendees
        ],
    )
    db.add(meeting)
    db.flush()
    audit.record(db, principal, "create", "meeting", meeting.id, basis=basis)
    return meeting


def meetings_of(db: Session, case: Case) -> Sequence[Meeting]:
    return db.scalars(
        select(Meeting)
        .where(Meeting.case_id == case.id)
        .order_by(Meeting.held_on, Meeting.created_at, Meeting.id)
    ).all()


# --- plan and monitoring --------------------------------------------------------------------


def plan_of(db: Session, case: Case) -> SupportPlan | None:
    return db.scalar(select(SupportPlan).where(SupportPlan.case_id == case.id))


def save_plan(db: Session, principal: Principal, case: Case, data: PlanIn) -> SupportPlan:
    """Replace the plan. Saving the first plan of an open case starts planning."""
    ensure_not_closed(case)
    fields = [(f"tasks.{i}.body_id", t.body_id) for i, t in enumerate(data.tasks)]
    if data.lead_body_id is not None:
        fields.insert(0, ("lead_body_id", data.lead_body_id))
    check_bodies(db, case.municipality, fields)
    goals = [g.strip() for g in data.goals if g.strip()]
    plan = plan_of(db, case)
    if plan is None:
        plan = SupportPlan(case_id=case.id)
        db.add(plan)
    plan.goals = goals
    plan.lead_body_id = data.lead_body_id
    plan.review_dates = sorted({d.isoformat() for d in data.review_dates})
    plan.tasks = [
        PlanTask(
            position=i,
            body_id=t.body_id,
            description=t.description,
            due_on=t.due_on,
            done=t.done,
        )
        for i, t in enumerate(data.tasks)
    ]
    plan.updated_at = utcnow()
    db.flush()
    audit.record(db, principal, "save", "support_plan", plan.id)
    if case.status == "open":
        _move(db, principal, case, "planning")
    return plan


def add_note(db: Session, principal: Principal, case: Case, note: str) -> MonitoringNote:
    ensure_not_closed(case)
    record = MonitoringNote(case_id=case.id, note=note, recorded_by=principal.id)
    db.add(record)
    db.flush()
    audit.record(db, principal, "create", "monitoring_note", record.id)
    return record


def notes_of(db: Session, case: Case) -> Sequence[MonitoringNote]:
    return db.scalars(
        select(MonitoringNote)
        .where(MonitoringNote.case_id == case.id)
        .order_by(MonitoringNote.created_at, MonitoringNote.id)
    ).all()
