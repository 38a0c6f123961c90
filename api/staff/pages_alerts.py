"""The duty queue of urgent alerts (緊急アラート), for the coordinator on duty: the town's
alerts, open first, each with why it is urgent, where to act on it (its case, its
referrals) and a button to acknowledge it.

The list and the acknowledgement go through api/services/alerts.py, exactly as the JSON
API's (GET /api/v1/alerts, POST /api/v1/alerts/{id}/acknowledge): the same town scope and
the same audit (basis duty); the referrals it links to are listed as metadata and audited
alike. An alert carries no words of the resident's, and this page shows none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import audit
from api.accounts import display_names
from api.db.models import Alert, Referral
from api.db.session import get_db
from api.services import alerts as service
from api.services.duty import BASIS
from api.staff import session
from api.staff.render import back, render
from api.staff.session import StaffSession

router = APIRouter(prefix="/alerts")
Db = Annotated[Session, Depends(get_db)]
Reader = Annotated[StaffSession, Depends(session.page("alert.read"))]
OnDuty = Annotated[StaffSession, Depends(session.action("alert.read"))]

PAGE = "/staff/alerts"


@dataclass(frozen=True, slots=True)
class Row:
    alert: Alert
    acknowledged_by: str | None  # the staff member's name
    referrals: list[Referral]  # of the alert's consultation: where a body acts on it


@router.get("")
def alerts_page(request: Request, staff: Reader, db: Db) -> Response:
    principal = staff.principal
    alerts = service.duty_queue(db, principal)
    names = display_names(db, {a.acknowledged_by for a in alerts if a.acknowledged_by})
    referrals = _referrals_of(db, {a.consultation_id for a in alerts if a.consultation_id})
    listed = [r.id for rs in referrals.values() for r in rs]
    audit.record_reads(db, principal, "referral", listed, basis=BASIS)
    rows = [
        Row(
            alert=a,
            acknowledged_by=names.get(a.acknowledged_by, a.acknowledged_by)
            if a.acknowledged_by
            else None,
            referrals=referrals.get(a.consultation_id, []) if a.consultation_id else [],
        )
        for a in alerts
    ]
    db.commit()
    return render(request, "alerts.html", staff, rows=rows)


@router.post("/{alert_id}/acknowledge")
def acknowledge(alert_id: str, staff: OnDuty, db: Db) -> Response:
    service.acknowledge(db, staff.principal, alert_id)
    return back(PAGE, ok="acknowledged")


def _referrals_of(db: Session, consultation_ids: set[str]) -> dict[str, list[Referral]]:
    """The consultations' referrals, oldest first, in one query."""
    found: dict[str, list[Referral]] = {}
    if consultation_ids:
        query = (
            select(Referral)
            .where(Referral.consultation_id.in_(consultation_ids))
            .order_by(Referral.created_at, Referral.id)
        )
        for referral in db.scalars(query):
            found.setdefault(referral.consultation_id, []).append(referral)
    return found
