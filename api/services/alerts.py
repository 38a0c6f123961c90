"""Urgent danger found by triage raises an alert for the duty queue, whoever wrote it.

The queue is the town's alerts, open first; someone on duty acknowledges each. The JSON API
(api/routes/alerts.py) and the staff page (api/staff/pages_alerts.py) both go through here,
with the same town scope and the same audit (basis duty). Alerts carry rule labels (why it
is urgent), never the resident's words.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, not_found
from api.db.models import Alert, utcnow
from api.services import duty
from routing_rules import TriageResult


def raise_alert(
    db: Session,
    actor: audit.Actor,
    result: TriageResult,
    *,
    consultation_id: str | None = None,
    contact_log_id: str | None = None,
    case_id: str | None = None,
) -> Alert:
    alert = Alert(
        municipality=result.municipality,
        consultation_id=consultation_id,
        contact_log_id=contact_log_id,
        case_id=case_id,
        # The urgent reasons (no_food, …); a pattern (abuse, dv) when it is urgent on its own.
        reasons=list(result.urgent_reasons) or list(result.patterns),
    )
    db.add(alert)
    db.flush()
    audit.record(db, actor, "create", "alert", alert.id, basis="urgent")
    return alert


def duty_queue(
    db: Session, principal: Principal, acknowledged: bool | None = None, limit: int = 200
) -> list[Alert]:
    """The town's alerts, open first, then newest first (acknowledged: None all, False only
    the open ones, True only the acknowledged); each one's read audited. The caller commits."""
    alerts = duty.queue(
        db, principal, Alert, Alert.acknowledged_at, Alert.created_at, acknowledged, limit
    )
    audit.record_reads(db, principal, "alert", [a.id for a in alerts], basis=duty.BASIS)
    return alerts


def open_count(db: Session, principal: Principal) -> int:
    """How many of the town's alerts nobody has acknowledged yet (a count: no read)."""
    query = (
        select(func.count())
        .select_from(Alert)
        .where(Alert.municipality == principal.municipality, Alert.acknowledged_at.is_(None))
    )
    return db.scalar(query) or 0


def acknowledge(db: Session, principal: Principal, alert_id: str) -> Alert:
    """Someone on duty has it: who and when, set once (acknowledging again keeps the first
    and is audited as a read); committed. Another town's or unknown: 404, audited as denied."""
    alert = duty.held(db, principal, Alert, alert_id)
    if alert is None:
        audit.denied(db, principal, "alert", alert_id)
        raise not_found("alert")
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = utcnow(), principal.id
        audit.record(db, principal, "acknowledge", "alert", alert.id, basis=duty.BASIS)
    else:
        audit.record(db, principal, "read", "alert", alert.id, basis=duty.BASIS)
    db.commit()
    return alert
