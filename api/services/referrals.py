"""The referral lifecycle and who may see which referrals.

sent -> received -> accepted | rejected (reason) -> completed (outcome, reason);
withdrawn from any open state. Anything else is a 409.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, admin_basis, not_found
from api.db.models import Referral, utcnow
from api.errors import ApiError
from api.services.consent import disclosure_basis

STATUSES = ("sent", "received", "accepted", "rejected", "completed", "withdrawn")
OPEN_STATUSES = ("sent", "received", "accepted")
OUTCOMES = ("resolved", "ongoing_support", "referred_on", "declined", "unreachable", "other")


@dataclass(frozen=True, slots=True)
class Transition:
    source: tuple[str, ...]
    target: str
    stamp: str  # the column that records when


TRANSITIONS = {
    "receive": Transition(("sent",), "received", "received_at"),
    "accept": Transition(("received",), "accepted", "accepted_at"),
    "reject": Transition(("received",), "rejected", "rejected_at"),
    "complete": Transition(("accepted",), "completed", "completed_at"),
    "withdraw": Transition(OPEN_STATUSES, "withdrawn", "withdrawn_at"),
}


def visible(principal: Principal) -> Select[tuple[Referral]]:
    """Referrals this principal may list: their body's, or (coordinator, admin) the town's."""
    query = select(Referral).where(Referral.municipality == principal.municipality)
    if principal.role == "body_staff":
        return query.where(Referral.body_id == principal.body_id)
    if principal.role in ("coordinator", "admin"):
        return query
    return query.where(False)


def get(db: Session, principal: Principal, referral_id: str) -> Referral:
    """The referral if it is in the principal's scope; else 404, the attempt audited."""
    referral = db.scalar(visible(principal).where(Referral.id == referral_id))
    if referral is None:
        audit.denied(db, principal, "referral", referral_id)
        raise not_found("referral")
    return referral


def content_basis(db: Session, principal: Principal, referral: Referral) -> str | None:
    """The legal basis on which this principal may read the consultation's content, or None.

    Body staff: consent covering their body, danger to life, or a 支援会議 they sat in.
    Coordinators: the same, for the coordinator body. Admins: only with a stated purpose
    (otherwise they see the referral's metadata, as for a body without consent).
    """
    if principal.role == "admin":
        return admin_basis(principal)
    return disclosure_basis(
        db,
        person_id=referral.consultation.person_id,
        body_id=principal.unit_body_id,
        urgent=referral.urgent,
        case_id=referral.case_id,
    )


def transition(
    db: Session,
    principal: Principal,
    referral: Referral,
    action: str,
    *,
    reason: str | None = None,
    outcome: str | None = None,
) -> Referral:
    step = TRANSITIONS[action]
    if referral.status not in step.source:
        raise ApiError(
            409,
            "illegal_transition",
            f"A referral that is {referral.status} cannot be {step.target}.",
            current_status=referral.status,
        )
    if action in ("reject", "withdraw", "complete") and not (reason or "").strip():
        raise ApiError(422, "reason_required", f"Say why ({action}): reason is required.")
    if action == "complete" and outcome not in OUTCOMES:
        raise ApiError(422, "outcome_required", f"outcome must be one of {', '.join(OUTCOMES)}.")
    referral.status = step.target
    setattr(referral, step.stamp, utcnow())
    if action == "reject":
        referral.rejection_reason = reason
    elif action == "complete":
        referral.outcome, referral.outcome_reason = outcome, reason
    elif action == "withdraw":
        referral.withdrawal_reason = reason
    audit.record(db, principal, action, "referral", referral.id)
    db.commit()
    return referral


def is_overdue(referral: Referral) -> bool:
    """Not yet received by its deadline."""
    return referral.status == "sent" and referral.due_at < utcnow()
