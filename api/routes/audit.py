"""GET /api/v1/audit: the admin reads their own town's audit events, oldest first.

Events filed under no municipality are left out: they belong to no town, and one town's
admin has no claim on them (`tsunagu audit verify` checks the whole chain). Reading the
log is itself an audited act, written after the page is read, so it shows on the next one.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, require
from api.db.models import AuditEvent
from api.db.session import get_db
from api.errors import ApiError

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEventOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    role: str
    municipality: str | None
    action: str
    object_type: str
    object_id: str | None
    basis: str | None
    request_id: str | None
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    events: list[AuditEventOut]
    next_after: int | None = Field(
        description="Pass as `after` for the next page; null when this page is the last."
    )


@router.get("", response_model=AuditPage)
def list_events(
    principal: Annotated[Principal, Depends(require("audit.read"))],
    db: Annotated[Session, Depends(get_db)],
    object_type: Annotated[str | None, Query(max_length=32)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64, description="A user or token id")] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601 with a time zone")] = None,
    after: Annotated[
        int, Query(ge=0, le=2**31 - 1, description="Only events with a greater seq")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    query = select(AuditEvent).where(
        AuditEvent.municipality == principal.municipality, AuditEvent.seq > after
    )
    if object_type is not None:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == object_id)
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if since is not None:
        if since.tzinfo is None:
            raise ApiError(422, "invalid_request", "since needs a time zone, e.g. +09:00 or Z.")
        query = query.where(AuditEvent.at >= since)
    # One more than asked says whether another page follows.
    rows = db.scalars(query.order_by(AuditEvent.seq).limit(limit + 1)).all()
    page = rows[:limit]
    audit.record(db, principal, "read", "audit_log", basis="audit.read")
    db.commit()
    return AuditPage(
        events=[AuditEventOut.model_validate(e, from_attributes=True) for e in page],
        next_after=page[-1].seq if len(rows) > limit else None,
    )
