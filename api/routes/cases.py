"""The coordinator's cases: the queue, a case in full, its state, consents, meetings, plan
and monitoring. Coordinators see the cases of their municipality; admins see metadata
only, or content with a stated purpose (X-Tsunagu-Purpose), audited as admin_review.

GET /cases answers {"cases": [...], "overdue_referrals": [...]}: the town's referrals past
their acknowledgement deadline (any body) are a list of their own, since many do not belong
to a case; each case also counts its own overdue referrals.
"""

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, admin_basis, not_found, require
from api.db.models import (
    Alert,
    AuditEvent,
    Body,
    Case,
    Consent,
    Consultation,
    Household,
    Meeting,
    MonitoringNote,
    Person,
    Referral,
    SupportPlan,
    utcnow,
)
from api.db.session import get_db
from api.routes.views import (
    ConsultationContent,
    MemberOut,
    ReferralOut,
    consultation_content,
    referral_out,
)
from api.schemas import BodyOut
from api.services import cases as service
from api.services.consent import is_active
from api.services.deadlines import JST
from api.services.referrals import is_overdue

router = APIRouter(prefix="/cases", tags=["cases"])
consents_router = APIRouter(prefix="/consents", tags=["cases"])

Reader = Annotated[Principal, Depends(require("case.read"))]
Writer = Annotated[Principal, Depends(require("case.write"))]
Db = Annotated[Session, Depends(get_db)]

DAY = 86_400


# --- response shapes ------------------------------------------------------------------------


class CaseItem(BaseModel):
    id: str
    status: str
    urgent: bool
    domains: list[str]
    patterns: list[str]
    opened_at: datetime
    closed_at: datetime | None
    waiting_seconds: int
    waiting_days: int
    overdue_referrals: int
    lead_body: BodyOut | None


class OverdueReferral(BaseModel):
    id: str
    consultation_id: str
    case_id: str | None
    body: BodyOut
    status: str
    urgent: bool
    created_at: datetime
    due_at: datetime
    overdue_seconds: int


class CaseQueue(BaseModel):
    cases: list[CaseItem]
    overdue_referrals: list[OverdueReferral]


class PersonOut(BaseModel):
    id: str
    name: str | None
    phone: str | None


class CaseConsultationOut(BaseModel):
    id: str
    created_at: datetime
    channel: str
    route: str
    urgent: bool
    compound: bool
    domains: list[str]
    patterns: list[str]
    disclosure: str | None
    content: ConsultationContent | None


class ConsentOut(BaseModel):
    id: str
    purpose: str
    recipients: list[str]
    legal_basis: str
    agreed: bool
    active: bool
    captured_via: str
    captured_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    shown_text: str | None  # only where the person's content is disclosed


class AttendeeOut(BaseModel):
    body_id: str | None
    name: str
    confidentiality_bound: bool


class MeetingOut(BaseModel):
    id: str
    case_id: str
    kind: str
    legal_basis: str
    held_on: date
    decisions: str | None
    attendees: list[AttendeeOut]
    created_at: datetime


class TaskOut(BaseModel):
    id: str
    body_id: str
    description: str | None
    due_on: date | None
    done: bool


class PlanOut(BaseModel):
    id: str
    case_id: str
    goals: list[str] | None
    lead_body: BodyOut | None
    review_dates: list[date]
    tasks: list[TaskOut]
    updated_at: datetime


class NoteOut(BaseModel):
    id: str
    case_id: str
    note: str | None
    recorded_by: str
    created_at: datetime


class EventOut(BaseModel):
    at: datetime
    kind: str
    object_type: str
    object_id: str | None
    detail: str | None  # a status, a body id, a meeting kind: never content


class CaseDetail(CaseItem):
    municipality: str
    closure_reason: str | None
    disclosure: str | None
    person: PersonOut
    household: list[MemberOut] | None
    consultations: list[CaseConsultationOut]
    referrals: list[ReferralOut]
    consents: list[ConsentOut]
    meetings: list[MeetingOut]
    plan: PlanOut | None
    monitoring: list[NoteOut]
    timeline: list[EventOut]


# --- builders -------------------------------------------------------------------------------


def _body(body: Body | None) -> BodyOut | None:
    return BodyOut(id=body.id, name=body.name) if body else None


def _short(basis: str | None) -> str | None:
    return basis.split(":")[0] if basis else None


def case_item(
    case: Case, *, overdue: int, lead: Body | None, now: datetime | None = None
) -> CaseItem:
    waited = service.waiting_seconds(case, now)
    return CaseItem(
        id=case.id,
        status=case.status,
        urgent=case.urgent,
        domains=case.domains,
        patterns=case.patterns,
        opened_at=case.opened_at,
        closed_at=case.closed_at,
        waiting_seconds=waited,
        waiting_days=waited // DAY,
        overdue_referrals=overdue,
        lead_body=_body(lead),
    )


def _item_of(db: Session, case: Case) -> CaseItem:
    overdue = sum(
        1 for r in db.scalars(select(Referral).where(Referral.case_id == case.id)) if is_overdue(r)
    )
    return case_item(case, overdue=overdue, lead=service.lead_bodies(db, [case.id]).get(case.id))


def consent_out(consent: Consent, disclosed: bool) -> ConsentOut:
    return ConsentOut(
        id=consent.id,
        purpose=consent.purpose,
        recipients=consent.recipients,
        legal_basis=consent.legal_basis,
        agreed=consent.agreed,
        active=is_active(consent),
        captured_via=consent.captured_via,
        captured_at=consent.captured_at,
        expires_at=consent.expires_at,
        revoked_at=consent.revoked_at,
        shown_text=consent.shown_text if disclosed else None,
    )


def meeting_out(meeting: Meeting, own: bool) -> MeetingOut:
    return MeetingOut(
        id=meeting.id,
        case_id=meeting.case_id,
        kind=meeting.kind,
        legal_basis=meeting.legal_basis,
        held_on=meeting.held_on,
        decisions=meeting.decisions if own else None,
        attendees=[
            AttendeeOut(
                body_id=a.body_id, name=a.name, confidentiality_bound=a.confidentiality_bound
            )
            for a in meeting.attendees
        ],
        created_at=meeting.created_at,
    )


def plan_out(db: Session, plan: SupportPlan, own: bool) -> PlanOut:
    lead = db.get(Body, plan.lead_body_id) if plan.lead_body_id else None
    return PlanOut(
        id=plan.id,
        case_id=plan.case_id,
        goals=plan.goals if own else None,
        lead_body=_body(lead),
        review_dates=[date.fromisoformat(d) for d in plan.review_dates],
        tasks=[
            TaskOut(
                id=t.id,
                body_id=t.body_id,
                description=t.description if own else None,
                due_on=t.due_on,
                done=t.done,
            )
            for t in plan.tasks
        ],
        updated_at=plan.updated_at,
    )


def note_out(note: MonitoringNote, own: bool) -> NoteOut:
    return NoteOut(
        id=note.id,
        case_id=note.case_id,
        note=note.note if own else None,
        recorded_by=note.recorded_by,
        created_at=note.created_at,
    )


def _timeline(
    db: Session,
    case: Case,
    consultations: Sequence[Consultation],
    referrals: Sequence[Referral],
    consents: Sequence[Consent],
    meetings: Sequence[Meeting],
    plan: SupportPlan | None,
    notes: Sequence[MonitoringNote],
) -> list[EventOut]:
    events = [
        EventOut(
            at=case.opened_at,
            kind="case_opened",
            object_type="case",
            object_id=case.id,
            detail=None,
        )
    ]

    def add(at: datetime | None, kind: str, kind_of: str, oid: str, detail: str | None) -> None:
        if at is not None:
            events.append(
                EventOut(at=at, kind=kind, object_type=kind_of, object_id=oid, detail=detail)
            )

    for c in consultations:
        add(c.created_at, "consultation", "consultation", c.id, c.route)
    for r in referrals:
        for stamp in ("created", "received", "accepted", "rejected", "completed", "withdrawn"):
            name = "referral_sent" if stamp == "created" else f"referral_{stamp}"
            add(getattr(r, f"{stamp}_at"), name, "referral", r.id, r.body_id)
    for c in consents:
        add(
            c.captured_at,
            "consent_recorded" if c.agreed else "consent_refused",
            "consent",
            c.id,
            c.purpose,
        )
        add(c.revoked_at, "consent_revoked", "consent", c.id, c.purpose)
    for m in meetings:  # the day it was held, as midnight in Japan
        add(datetime.combine(m.held_on, time(0), JST), "meeting", "meeting", m.id, m.kind)
    for n in notes:
        add(n.created_at, "monitoring_note", "monitoring_note", n.id, None)
    alerts = db.scalars(select(Alert).where(Alert.case_id == case.id)).all()
    for a in alerts:
        add(a.created_at, "alert", "alert", a.id, None)
        add(a.acknowledged_at, "alert_acknowledged", "alert", a.id, None)
    # Status moves and plan saves are recorded only in the audit log: read them back.
    object_ids = [case.id] + ([plan.id] if plan else [])
    for event in db.scalars(
        select(AuditEvent).where(
            AuditEvent.object_id.in_(object_ids),
            or_(
                (AuditEvent.object_type == "case") & AuditEvent.action.like("status_%"),
                (AuditEvent.object_type == "support_plan") & (AuditEvent.action == "save"),
            ),
        )
    ):
        if event.object_type == "case":
            add(event.at, "status_changed", "case", case.id, event.action.removeprefix("status_"))
        else:
            add(event.at, "plan_saved", "support_plan", event.object_id or "", None)
    add(case.closed_at, "case_closed", "case", case.id, None)
    order = {"case_opened": 0, "case_closed": 2}
    return sorted(events, key=lambda e: (e.at, order.get(e.kind, 1)))


def case_detail(db: Session, principal: Principal, case: Case) -> tuple[CaseDetail, str | None]:
    """The case as this principal may see it, and the basis its content is shown on."""
    basis = service.content_basis(db, principal, case)
    own = service.own_records_visible(principal)
    person = db.get(Person, case.person_id)
    household = db.scalar(select(Household).where(Household.person_id == case.person_id))
    consultations = db.scalars(
        select(Consultation)
        .where(Consultation.case_id == case.id)
        .order_by(Consultation.created_at, Consultation.id)
    ).all()
    consultation_ids = [c.id for c in consultations]
    referrals = db.scalars(
        select(Referral)
        .where(or_(Referral.case_id == case.id, Referral.consultation_id.in_(consultation_ids)))
        .order_by(Referral.created_at, Referral.id)
    ).all()
    consents = db.scalars(
        select(Consent)
        .where(Consent.person_id == case.person_id)
        .order_by(Consent.captured_at, Consent.id)
    ).all()
    meetings = service.meetings_of(db, case)
    plan = service.plan_of(db, case)
    notes = service.notes_of(db, case)

    bases = {
        c.id: service.content_basis(db, principal, case, urgent=c.urgent) for c in consultations
    }
    shown_referrals = []
    for r in referrals:
        r_basis = bases.get(r.consultation_id)
        if r.consultation_id not in bases:  # a referral tied to the case by case_id only
            r_basis = service.content_basis(db, principal, case, urgent=r.urgent)
        audit.record(db, principal, "read", "referral", r.id, basis=r_basis or "metadata")
        shown_referrals.append(referral_out(db, r, r_basis, overdue=is_overdue(r)))

    lead = db.get(Body, plan.lead_body_id) if plan and plan.lead_body_id else None
    item = case_item(case, overdue=sum(1 for r in referrals if is_overdue(r)), lead=lead)
    detail = CaseDetail(
        **item.model_dump(),
        municipality=case.municipality,
        closure_reason=case.closure_reason if own else None,
        disclosure=_short(basis),
        person=PersonOut(
            id=case.person_id,
            name=person.name if basis and person else None,
            phone=person.phone if basis and person else None,
        ),
        household=[
            MemberOut(relation=m.relation, age=m.age, notes=m.notes) for m in household.members
        ]
        if basis and household
        else None,
        consultations=[
            CaseConsultationOut(
                id=c.id,
                created_at=c.created_at,
                channel=c.channel,
                route=c.route,
                urgent=c.urgent,
                compound=c.compound,
                domains=c.domains,
                patterns=c.patterns,
                disclosure=_short(bases[c.id]),
                content=consultation_content(db, c) if bases[c.id] else None,
            )
            for c in consultations
        ],
        referrals=shown_referrals,
        consents=[consent_out(c, basis is not None) for c in consents],
        meetings=[meeting_out(m, own) for m in meetings],
        plan=plan_out(db, plan, own) if plan else None,
        monitoring=[note_out(n, own) for n in notes],
        timeline=_timeline(db, case, consultations, referrals, consents, meetings, plan, notes),
    )
    return detail, basis


def _own_basis(principal: Principal) -> str:
    """The audit basis for reading the coordinators' own records."""
    if principal.role == "admin":
        return admin_basis(principal) or "metadata"
    return "case_work"


# --- routes ---------------------------------------------------------------------------------


@router.get("", response_model=CaseQueue)
def list_cases(
    principal: Reader,
    db: Db,
    status: Annotated[
        Literal["open", "planning", "monitoring", "closed"] | None,
        Query(description="Only cases in this state; default: every case not closed."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> CaseQueue:
    """The coordinator's queue: urgent first, then the longest waiting. Metadata only."""
    view = service.queue_view(db, principal, status, limit)
    cases, overdue = view.cases, view.overdue
    now = utcnow()
    answer = CaseQueue(
        cases=[
            case_item(
                c, overdue=view.overdue_per_case.get(c.id, 0), lead=view.leads.get(c.id), now=now
            )
            for c in cases
        ],
        overdue_referrals=[
            OverdueReferral(
                id=r.id,
                consultation_id=r.consultation_id,
                case_id=r.case_id,
                body=BodyOut(id=r.body.id, name=r.body.name),
                status=r.status,
                urgent=r.urgent,
                created_at=r.created_at,
                due_at=r.due_at,
                overdue_seconds=max(0, int((now - r.due_at).total_seconds())),
            )
            for r in overdue
        ],
    )
    db.commit()
    return answer


@router.get("/{case_id}", response_model=CaseDetail)
def get_case(case_id: str, principal: Reader, db: Db) -> CaseDetail:
    """The case in full; the person's content only on a legal basis (recorded)."""
    case = service.get(db, principal, case_id)
    detail, basis = case_detail(db, principal, case)
    audit.record(db, principal, "read", "case", case.id, basis=basis or "metadata")
    db.commit()
    return detail


@router.post("/{case_id}/status", response_model=CaseItem)
def set_case_status(case_id: str, body: service.StatusIn, principal: Writer, db: Db) -> CaseItem:
    """open -> planning -> monitoring (-> planning for a review); 409 otherwise."""
    case = service.get(db, principal, case_id, for_update=True)
    service.set_status(db, principal, case, body.status)
    db.commit()
    return _item_of(db, case)


@router.post("/{case_id}/close", response_model=CaseItem)
def close_case(case_id: str, body: service.CloseIn, principal: Writer, db: Db) -> CaseItem:
    """終結: closes the case from any state, with a reason; 409 if already closed."""
    case = service.get(db, principal, case_id, for_update=True)
    service.close(db, principal, case, body.reason)
    db.commit()
    return _item_of(db, case)


@router.post("/{case_id}/consents", status_code=201, response_model=ConsentOut)
def record_consent(
    case_id: str, body: service.CaseConsentIn, principal: Writer, db: Db
) -> ConsentOut:
    """The person's consent (or refusal) for a meeting or referrals, to bodies of the town."""
    case = service.get(db, principal, case_id, for_update=True)
    consent = service.record_consent(db, principal, case, body)
    shown = consent_out(consent, service.content_basis(db, principal, case) is not None)
    db.commit()
    return shown


@router.post("/{case_id}/meetings", status_code=201, response_model=MeetingOut)
def add_meeting(case_id: str, body: service.MeetingIn, principal: Writer, db: Db) -> MeetingOut:
    """Record a 支援会議 or a 重層的支援会議 with its legal basis."""
    case = service.get(db, principal, case_id, for_update=True)
    meeting = service.add_meeting(db, principal, case, body)
    db.commit()
    return meeting_out(meeting, own=True)


@router.get("/{case_id}/meetings", response_model=list[MeetingOut])
def list_meetings(case_id: str, principal: Reader, db: Db) -> list[MeetingOut]:
    case = service.get(db, principal, case_id)
    meetings = service.meetings_of(db, case)
    audit.record_reads(
        db, principal, "meeting", [m.id for m in meetings], basis=_own_basis(principal)
    )
    db.commit()
    return [meeting_out(m, service.own_records_visible(principal)) for m in meetings]


@router.put("/{case_id}/plan", response_model=PlanOut)
def save_plan(case_id: str, body: service.PlanIn, principal: Writer, db: Db) -> PlanOut:
    """Replace the support plan; the first plan of an open case moves it to planning."""
    case = service.get(db, principal, case_id, for_update=True)
    plan = service.save_plan(db, principal, case, body)
    db.commit()
    return plan_out(db, plan, own=True)


@router.get("/{case_id}/plan", response_model=PlanOut)
def get_plan(case_id: str, principal: Reader, db: Db) -> PlanOut:
    case = service.get(db, principal, case_id)
    plan = service.plan_of(db, case)
    if plan is None:
        raise not_found("support plan")
    own = service.own_records_visible(principal)
    audit.record(db, principal, "read", "support_plan", plan.id, basis=_own_basis(principal))
    db.commit()
    return plan_out(db, plan, own)


@router.post("/{case_id}/monitoring", status_code=201, response_model=NoteOut)
def add_monitoring_note(case_id: str, body: service.NoteIn, principal: Writer, db: Db) -> NoteOut:
    case = service.get(db, principal, case_id, for_update=True)
    note = service.add_note(db, principal, case, body.note)
    db.commit()
    return note_out(note, own=True)


@consents_router.post("/{consent_id}/revoke", response_model=ConsentOut)
def revoke_consent(consent_id: str, principal: Writer, db: Db) -> ConsentOut:
    """Revoke at once: disclosure and meetings that rest on it stop on the next request."""
    consent = service.revoke_consent(db, principal, consent_id)
    db.commit()
    return consent_out(consent, disclosed=False)
