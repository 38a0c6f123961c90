"""The urgent duty queue: alerts of the municipality, unacknowledged first, newest first.

Alerts carry rule labels (why it is urgent), never the resident's words; the case or
consultation they point to is read through its own, consent-gated routes.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import case as when
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, not_found, require
from api.db.models import Alert, utcnow
from api.db.session import get_db

router = APIRouter(prefix="/alerts", tags=["alerts"])

Duty = Annotated[Principal, Depends(require("alert.read"))]
Db = Annotated[Session, Depends(get_db)]


class AlertOut(BaseModel):
    id: str
    reasons: list[str]
    created_at: datetime
    consultation_id: str | None
    contact_log_id: str | None
    case_id: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


def alert_out(alert: Alert) -> AlertOut:
    return AlertOut(
        id=alert.id,
        reasons=alert.reasons,
        created_at=alert.created_at,
        consultation_id=alert.consultation_id,
        contact_log_id=alert.contact_log_id,
        case_id=alert.case_id,
        acknowledged_at=alert.acknowledged_at,
        acknowledged_by=alert.acknowledged_by,
    )


@router.get("", response_model=list[AlertOut])
def list_alerts(
    principal: Duty,
    db: Db,
    acknowledged: Annotated[bool | None, Query(description="false: only those still open")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[AlertOut]:
    query = select(Alert).where(Alert.municipality == principal.municipality)
    if acknowledged is not None:
        stamp = Alert.acknowledged_at
        query = query.where(stamp.is_not(None) if acknowledged else stamp.is_(None))
    pending_first = when((Alert.acknowledged_at.is_(None), 0), else_=1)
    alerts = db.scalars(
        query.order_by(pending_first, Alert.created_at.desc(), Alert.id).limit(limit)
    ).all()
    audit.record_reads(db, principal, "alert", [a.id for a in alerts], basis="duty")
    db.commit()
    return [alert_out(a) for a in alerts]


@router.post("/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge_alert(alert_id: str, principal: Duty, db: Db) -> AlertOut:
    """Someone on duty has it. Acknowledging again keeps the first acknowledgement."""
    alert = db.scalar(
        select(Alert)
        .where(Alert.id == alert_id, Alert.municipality == principal.municipality)
        .with_for_update()
    )
    if alert is None:
        raise not_found("alert")
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = utcnow(), principal.id
        audit.record(db, principal, "acknowledge", "alert", alert.id, basis="duty")
    else:
        audit.record(db, principal, "read", "alert", alert.id, basis="duty")
    db.commit()
    return alert_out(alert)
