"""POST /api/v1/consultations: the bot, an outreach worker or staff hand in an intake."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import Principal, require
from api.db.models import Alert, Consultation
from api.db.session import get_db
from api.schemas import TriageResponse
from api.services.intake import ConsultationIn, submit

router = APIRouter(prefix="/consultations", tags=["consultations"])


class ReferralRef(BaseModel):
    id: str
    body_id: str
    body_name: str
    status: str
    due_at: str


class ConsultationCreated(BaseModel):
    consultation_id: str
    person_id: str
    triage: TriageResponse
    referrals: list[ReferralRef]
    case_id: str | None
    alert_id: str | None
    replayed: bool = False


@router.post("", status_code=201, response_model=ConsultationCreated)
def create_consultation(
    intake: ConsultationIn,
    response: Response,
    principal: Annotated[Principal, Depends(require("consultation.create"))],
    db: Annotated[Session, Depends(get_db)],
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> ConsultationCreated:
    """Triage on the server, then referral, case and alert as the result requires.

    With an Idempotency-Key, a retried request gets the first answer (200) and creates
    nothing more; the same key with a different body is a 409. With `completes`, the
    sender's earlier urgent consultation is completed instead (200).
    """
    consultation, outcome = submit(db, principal, intake, idempotency_key)
    if outcome != "created":
        response.status_code = 200
    return _created(db, consultation, replayed=outcome == "replayed")


def _created(db: Session, consultation: Consultation, *, replayed: bool) -> ConsultationCreated:
    alert = db.scalar(select(Alert.id).where(Alert.consultation_id == consultation.id))
    return ConsultationCreated(
        consultation_id=consultation.id,
        person_id=consultation.person_id,
        triage=TriageResponse(**consultation.triage),
        referrals=[
            ReferralRef(
                id=r.id,
                body_id=r.body_id,
                body_name=r.body.name,
                status=r.status,
                due_at=r.due_at.isoformat(),
            )
            for r in consultation.referrals
        ],
        case_id=consultation.case_id,
        alert_id=alert,
        replayed=replayed,
    )
