"""The coordinator's pages: the queue of compound and urgent cases, and a case from flag to
終結 (meetings, consent, support plan, monitoring, closing).

The case is built by the API's own builder (api/routes/cases.py case_detail), so the page
shows exactly what GET /api/v1/cases/{id} would, on the same legal bases, and audits the
same reads. Every change goes through api/services/cases.py with its consent and
confidentiality checks; the forms only turn fields into the service's requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from api import audit
from api.access import PERMISSIONS
from api.db.models import Body, Case, ContactLog
from api.db.session import get_db
from api.errors import ApiError
from api.routes.cases import case_detail, case_item
from api.routes.contacts import show_logs
from api.services import alerts as alert_service
from api.services import cases as service
from api.services import contacts as contact_service
from api.services import conversations as conversation_service
from api.staff import session
from api.staff.render import back, render
from api.staff.session import StaffSession

router = APIRouter(prefix="/cases")
Db = Annotated[Session, Depends(get_db)]
Reader = Annotated[StaffSession, Depends(session.page("case.write"))]
Writer = Annotated[StaffSession, Depends(session.action("case.write"))]

MEETING_ROWS = 5
BLANK_TASK_ROWS = 3
REVIEW_ROWS = 3


async def form_of(request: Request) -> FormData:
    return await request.form()


Form = Annotated[FormData, Depends(form_of)]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def bodies_of(db: Session, municipality: str | None) -> list[Body]:
    return list(
        db.scalars(
            select(Body)
            .where(Body.municipality == municipality, Body.active.is_(True))
            .order_by(Body.id)
        )
    )


@router.get("")
def queue(request: Request, staff: Reader, db: Db) -> Response:
    """Urgent first, then the longest waiting; metadata only, audited as the API's queue."""
    principal = staff.principal
    view = service.queue_view(db, principal, None, 200)
    cases, overdue = view.cases, view.overdue
    items = [
        case_item(c, overdue=view.overdue_per_case.get(c.id, 0), lead=view.leads.get(c.id))
        for c in cases
    ]
    open_alerts = alert_service.open_count(db, principal)
    db.commit()
    return render(
        request, "cases_queue.html", staff, cases=items, overdue=overdue, open_alerts=open_alerts
    )


@router.get("/{case_id}")
def case_page(case_id: str, request: Request, staff: Reader, db: Db) -> Response:
    principal = staff.principal
    case = service.get(db, principal, case_id)
    detail, basis = case_detail(db, principal, case)
    audit.record(db, principal, "read", "case", case.id, basis=basis or "metadata")
    logs = db.scalars(
        contact_service.newest_first(
            contact_service.visible_logs(principal).where(ContactLog.person_id == case.person_id)
        ).limit(50)
    ).all()
    contacts = show_logs(db, principal, logs)
    # The person's chats with the town, listed (and audited) as the API lists them.
    conversations = (
        conversation_service.listed(db, principal, case.person_id)
        if case.person_id and principal.role in PERMISSIONS["conversation.read"]
        else []
    )
    db.commit()
    bodies = bodies_of(db, case.municipality)
    plan = detail.plan
    return render(
        request,
        "case_detail.html",
        staff,
        case=detail,
        contacts=contacts,
        conversations=conversations,
        bodies=bodies,
        body_names={b.id: b.name for b in bodies},
        next_statuses=service.NEXT[case.status],
        meeting_rows=range(MEETING_ROWS),
        task_rows=list(plan.tasks if plan else []) + [None] * BLANK_TASK_ROWS,
        review_rows=list(plan.review_dates if plan else [])
        + [None] * max(1, REVIEW_ROWS - len(plan.review_dates if plan else [])),
        texts={c.id: "\n".join(c.content.texts) for c in detail.consultations if c.content},
    )


def _change(
    db: Session, staff: StaffSession, case_id: str, ok: str, apply: Callable[[Case], Any]
) -> Response:
    """Run one change on the case (locked), then back to its page with the result."""
    case = service.get(db, staff.principal, case_id, for_update=True)
    page = f"/staff/cases/{case.id}"
    try:
        apply(case)
        db.commit()
    except ApiError as error:
        db.rollback()
        return back(page, error=error.code)
    except (ValidationError, ValueError):
        db.rollback()
        return back(page, error="invalid")
    return back(page, ok=ok)


@router.post("/{case_id}/consents")
def record_consent(case_id: str, staff: Writer, form: Form, db: Db) -> Response:
    def apply(case: Case) -> None:
        data = service.CaseConsentIn(
            purpose=_text(form, "purpose"),  # type: ignore[arg-type]
            recipients=[v for v in form.getlist("recipients") if isinstance(v, str)],
            shown_text=_text(form, "shown_text"),
            captured_via=_text(form, "captured_via"),
            agreed=_text(form, "agreed") == "yes",
        )
        service.record_consent(db, staff.principal, case, data)

    return _change(db, staff, case_id, "consent", apply)


@router.post("/{case_id}/meetings")
def add_meeting(case_id: str, staff: Writer, form: Form, db: Db) -> Response:
    def apply(case: Case) -> None:
        names = {b.id: b.name for b in bodies_of(db, case.municipality)}
        attendees = []
        for i in range(MEETING_ROWS):
            body_id = _text(form, f"att-{i}-body") or None
            name = _text(form, f"att-{i}-name") or (names.get(body_id, "") if body_id else "")
            if not name:
                continue
            attendees.append(
                service.AttendeeIn(
                    body_id=body_id,
                    name=name,
                    confidentiality_bound=_text(form, f"att-{i}-bound") == "yes",
                )
            )
        data = service.MeetingIn(
            kind=_text(form, "kind"),  # type: ignore[arg-type]
            held_on=_text(form, "held_on"),  # type: ignore[arg-type]
            attendees=attendees,
            decisions=_text(form, "decisions") or None,
        )
        service.add_meeting(db, staff.principal, case, data)

    return _change(db, staff, case_id, "meeting", apply)


@router.post("/{case_id}/plan")
def save_plan(case_id: str, staff: Writer, form: Form, db: Db) -> Response:
    def apply(case: Case) -> None:
        tasks = []
        for i in range(int(_text(form, "task_rows") or 0)):
            description = _text(form, f"task-{i}-description")
            if not description:
                continue
            tasks.append(
                service.TaskIn(
                    body_id=_text(form, f"task-{i}-body"),
                    description=description,
                    due_on=_text(form, f"task-{i}-due") or None,  # type: ignore[arg-type]
                    done=_text(form, f"task-{i}-done") == "yes",
                )
            )
        data = service.PlanIn(
            goals=_text(form, "goals").splitlines(),
            lead_body_id=_text(form, "lead_body_id") or None,
            review_dates=[
                v for v in form.getlist("review_dates") if isinstance(v, str) and v.strip()
            ],  # type: ignore[arg-type]
            tasks=tasks,
        )
        service.save_plan(db, staff.principal, case, data)

    return _change(db, staff, case_id, "plan", apply)


@router.post("/{case_id}/status")
def set_status(case_id: str, staff: Writer, form: Form, db: Db) -> Response:
    def apply(case: Case) -> None:
        target = service.StatusIn(status=_text(form, "status"))  # type: ignore[arg-type]
        service.set_status(db, staff.principal, case, target.status)

    return _change(db, staff, case_id, "status", apply)


@router.post("/{case_id}/monitoring")
def add_note(case_id: str, staff: Writer, form: Form, db: Db) -> Response:
    def apply(case: Case) -> None:
        note = service.NoteIn(note=_text(form, "note"))
        service.add_note(db, staff.principal, case, note.note)

    return _change(db, staff, case_id, "note", apply)


@router.post("/{case_id}/close")
def close(case_id: str, staff: Writer, form: Form, db: Db) -> Response:
    def apply(case: Case) -> None:
        data = service.CloseIn(reason=_text(form, "reason"))
        service.close(db, staff.principal, case, data.reason)

    return _change(db, staff, case_id, "closed", apply)
