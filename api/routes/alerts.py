"""The urgent duty queue: alerts of the municipality, unacknowledged first, newest first.

Alerts carry rule labels (why it is urgent), never the resident's words; the case or
consultation they point to is read through its own, consent-gated routes.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.access import Principal, require
from api.db.models import Alert
from api.db.session import get_db
from api.services import alerts as service

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
    alerts = service.duty_queue(db, principal, acknowledged, limit)
    db.commit()
    return [alert_out(a) for a in alerts]


@router.post("/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge_alert(alert_id: str, principal: Duty, db: Db) -> AlertOut:
    """Someone on duty has it. Acknowledging again keeps the first acknowledgement."""
    return alert_out(service.acknowledge(db, principal, alert_id))
