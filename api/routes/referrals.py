"""Referrals: a body's inbox and the lifecycle actions; content only where consent allows."""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, require
from api.db.models import Referral
from api.db.session import get_db
from api.routes.views import ReferralOut, referral_out
from api.services import referrals as service

router = APIRouter(prefix="/referrals", tags=["referrals"])

Status = Literal["sent", "received", "accepted", "rejected", "completed", "withdrawn"]
Action = Literal["receive", "accept", "reject", "complete", "withdraw"]
Outcome = Literal["resolved", "ongoing_support", "referred_on", "declined", "unreachable", "other"]


class ActionIn(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)
    outcome: Outcome | None = None


def show_referral(db: Session, principal: Principal, referral: Referral) -> ReferralOut:
    """The referral as this principal may see it; the read is audited on its basis."""
    basis = service.content_basis(db, principal, referral)
    audit.record(db, principal, "read", "referral", referral.id, basis=basis or "metadata")
    return referral_out(db, referral, basis, overdue=service.is_overdue(referral))


@router.get("", response_model=list[ReferralOut])
def list_referrals(
    principal: Annotated[Principal, Depends(require("referral.read"))],
    db: Annotated[Session, Depends(get_db)],
    status: Annotated[Status | None, Query()] = None,
    overdue: Annotated[bool | None, Query(description="Only those past their deadline")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ReferralOut]:
    query = service.visible(principal)
    if status:
        query = query.where(Referral.status == status)
    query = query.order_by(Referral.urgent.desc(), Referral.due_at).limit(limit)
    referrals = db.scalars(query).all()
    if overdue is not None:
        referrals = [r for r in referrals if service.is_overdue(r) == overdue]
    shown = [show_referral(db, principal, r) for r in referrals]
    db.commit()
    return shown


@router.get("/{referral_id}", response_model=ReferralOut)
def get_referral(
    referral_id: str,
    principal: Annotated[Principal, Depends(require("referral.read"))],
    db: Annotated[Session, Depends(get_db)],
) -> ReferralOut:
    return _show_committed(db, principal, service.get(db, principal, referral_id))


def _act(action: Action, permission: str):
    def endpoint(
        referral_id: str,
        principal: Annotated[Principal, Depends(require(permission))],
        db: Annotated[Session, Depends(get_db)],
        body: Annotated[ActionIn | None, Body()] = None,
    ) -> ReferralOut:
        referral = service.get(db, principal, referral_id)
        body = body or ActionIn()
        service.transition(
            db, principal, referral, action, reason=body.reason, outcome=body.outcome
        )
        return _show_committed(db, principal, referral)

    endpoint.__name__ = f"{action}_referral"
    endpoint.__doc__ = f"{action.capitalize()} the referral (409 if its state does not allow it)."
    return endpoint


def _show_committed(db: Session, principal: Principal, referral: Referral) -> ReferralOut:
    shown = show_referral(db, principal, referral)
    db.commit()
    return shown


# Each action and the permission it needs (the staff pages offer the same).
ACTION_PERMISSIONS: dict[Action, str] = {
    "receive": "referral.handle",
    "accept": "referral.handle",
    "reject": "referral.handle",
    "complete": "referral.handle",
    "withdraw": "referral.withdraw",
}
for _action, _permission in ACTION_PERMISSIONS.items():
    router.add_api_route(
        f"/{{referral_id}}/{_action}",
        _act(_action, _permission),
        methods=["POST"],
        response_model=ReferralOut,
    )
