"""Urgent danger found by triage raises an alert for the duty queue, whoever wrote it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api import audit
from api.db.models import Alert
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
