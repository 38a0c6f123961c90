"""Response shapes shared by several routes; content appears only where disclosure allows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import Consultation, Household, Person, Referral
from api.schemas import BodyOut, EvidenceOut


class MemberOut(BaseModel):
    relation: str
    age: int | None
    notes: str | None


class ConsultationContent(BaseModel):
    """What the resident told us: only shown on a recorded legal basis."""

    texts: list[str]
    about: str | None
    area: str | None
    contact: dict[str, Any]
    name: str | None
    phone: str | None
    household: list[MemberOut]
    evidence: list[EvidenceOut]


class ReferralOut(BaseModel):
    id: str
    municipality: str
    consultation_id: str
    case_id: str | None
    body: BodyOut
    status: str
    urgent: bool
    route: str
    domains: list[str]
    patterns: list[str]
    created_at: datetime
    due_at: datetime
    overdue: bool
    received_at: datetime | None
    accepted_at: datetime | None
    rejected_at: datetime | None
    rejection_reason: str | None
    completed_at: datetime | None
    outcome: str | None
    outcome_reason: str | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None
    disclosure: str | None = Field(
        description="The legal basis on which content is shown: consent, vital_interest, "
        "support_meeting, admin_review; null: the content is withheld."
    )
    content: ConsultationContent | None


def consultation_content(db: Session, consultation: Consultation) -> ConsultationContent:
    person = db.get(Person, consultation.person_id)
    household = db.scalar(select(Household).where(Household.person_id == consultation.person_id))
    return ConsultationContent(
        texts=consultation.texts,
        about=consultation.about,
        area=consultation.area,
        contact=consultation.contact,
        name=person.name if person else None,
        phone=person.phone if person else None,
        household=[
            MemberOut(relation=m.relation, age=m.age, notes=m.notes)
            for m in (household.members if household else [])
        ],
        evidence=[EvidenceOut(**e) for e in consultation.triage.get("evidence", [])],
    )


def referral_out(
    db: Session, referral: Referral, basis: str | None, *, overdue: bool
) -> ReferralOut:
    consultation = referral.consultation
    return ReferralOut(
        id=referral.id,
        municipality=referral.municipality,
        consultation_id=referral.consultation_id,
        case_id=referral.case_id,
        body=BodyOut(id=referral.body.id, name=referral.body.name),
        status=referral.status,
        urgent=referral.urgent,
        route=consultation.route,
        domains=consultation.domains,
        patterns=consultation.patterns,
        created_at=referral.created_at,
        due_at=referral.due_at,
        overdue=overdue,
        received_at=referral.received_at,
        accepted_at=referral.accepted_at,
        rejected_at=referral.rejected_at,
        rejection_reason=referral.rejection_reason,
        completed_at=referral.completed_at,
        outcome=referral.outcome,
        outcome_reason=referral.outcome_reason,
        withdrawn_at=referral.withdrawn_at,
        withdrawal_reason=referral.withdrawal_reason,
        disclosure=basis.split(":")[0] if basis else None,
        content=consultation_content(db, consultation) if basis else None,
    )
