"""A consultation body's referral inbox and a referral's page with its actions.

Scope, disclosure and the state machine are the referral service's (api/services/
referrals.py): a body's staff list and open only their body's referrals, and see the
consultation's content only on a recorded legal basis. Every referral shown is audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api import audit
from api.access import PERMISSIONS
from api.db.models import Referral
from api.db.session import get_db
from api.errors import ApiError
from api.routes.referrals import ACTION_PERMISSIONS, show_referral
from api.services import referrals as service
from api.staff import session
from api.staff.render import back, render
from api.staff.session import StaffSession

router = APIRouter(prefix="/referrals")
Db = Annotated[Session, Depends(get_db)]
Reader = Annotated[StaffSession, Depends(session.page("referral.read"))]
Actor = Annotated[StaffSession, Depends(session.action_any)]  # each action's role: below

DONE = {
    "receive": "received",
    "accept": "accepted",
    "reject": "rejected",
    "complete": "completed",
    "withdraw": "withdrawn",
}


def _may(staff: StaffSession, action: str) -> bool:
    """The role may take this action, as on the API (body staff handle, coordinators withdraw)."""
    return staff.principal.role in PERMISSIONS[ACTION_PERMISSIONS[action]]  # type: ignore[index]


@router.get("")
def inbox(request: Request, staff: Reader, db: Db) -> Response:
    """New (not yet accepted), overdue and accepted referrals; the closed ones last."""
    principal = staff.principal
    referrals = db.scalars(
        service.visible(principal).order_by(Referral.urgent.desc(), Referral.due_at).limit(300)
    ).all()
    overdue = [r for r in referrals if service.is_overdue(r)]
    fresh = [r for r in referrals if r.status in ("sent", "received") and r not in overdue]
    accepted = [r for r in referrals if r.status == "accepted"]
    closed = [r for r in referrals if r.status not in service.OPEN_STATUSES][:50]
    shown = overdue + fresh + accepted + closed
    # The inbox shows metadata (kind of need, dates), never content: one event each.
    audit.record_reads(db, principal, "referral", [r.id for r in shown], basis="metadata")
    db.commit()
    return render(
        request,
        "referrals_inbox.html",
        staff,
        sections=[
            ("期限切れ（未確認）", overdue),
            ("新着（未受理）", fresh),
            ("受理済み（対応中）", accepted),
            ("終わったもの", closed),
        ],
        overdue_ids={r.id for r in overdue},
    )


@router.get("/{referral_id}")
def detail(referral_id: str, request: Request, staff: Reader, db: Db) -> Response:
    referral = service.get(db, staff.principal, referral_id)
    shown = show_referral(db, staff.principal, referral)
    db.commit()
    return render(
        request,
        "referral_detail.html",
        staff,
        r=shown,
        actions=[
            a
            for a in ACTION_PERMISSIONS
            if _may(staff, a) and referral.status in service.TRANSITIONS[a].source
        ],
        outcomes=service.OUTCOMES,
        joined="\n".join(shown.content.texts) if shown.content else "",
    )


@router.post("/{referral_id}/{action}")
def act(
    referral_id: str,
    action: str,
    staff: Actor,
    db: Db,
    reason: Annotated[str, Form(max_length=2000)] = "",
    outcome: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    if action not in ACTION_PERMISSIONS:
        raise HTTPException(404, "No such action.")
    if not _may(staff, action):
        raise HTTPException(403, "This action is not for your role.")
    referral = service.get(db, staff.principal, referral_id)
    page = f"/staff/referrals/{referral.id}"
    try:
        service.transition(
            db,
            staff.principal,
            referral,
            action,
            reason=reason.strip() or None,
            outcome=outcome or None,
        )
    except ApiError as error:
        db.rollback()
        return back(page, error=error.code)
    return back(page, ok=DONE[action])
