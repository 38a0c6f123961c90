"""A resident asks to talk to a person (人と話したい), at any point of a chat: the request
waits in the duty queue, and the bot tells the resident by when someone will answer.

A person has at most one open request; asking again returns it, so the bot may retry.
The duty queue and its answer are shared by the JSON API (api/routes/handovers.py) and the
staff page (api/staff/pages_handovers.py): the same town scope, the same audit (basis duty).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, ensure_municipality, not_found
from api.db.models import HandoverRequest, utcnow
from api.services import duty
from api.services.deadlines import person_answer_by
from api.services.intake import ChannelUserIn, person_for_identity
from routing_rules.directory import load_municipality


class HandoverIn(ChannelUserIn):
    """The resident who asked for a person, as the bot knows them."""


def overdue(handover: HandoverRequest, now: datetime | None = None) -> bool:
    """Unanswered and past answer_by."""
    return handover.answered_at is None and handover.answer_by < (now or utcnow())


def request_handover(
    db: Session, principal: Principal, resident: HandoverIn
) -> tuple[HandoverRequest, bool]:
    """The person's open request, and whether it was made now (False: they had asked before)."""
    ensure_municipality(principal, resident.municipality)
    load_municipality(resident.municipality)  # unknown: 404 (api/errors.py)
    person = person_for_identity(db, resident)
    handover = _open_request(db, person.id)
    created = handover is None
    if handover is None:
        now = utcnow()
        handover = HandoverRequest(
            municipality=resident.municipality,
            person_id=person.id,
            channel=resident.channel,
            requested_at=now,
            answer_by=person_answer_by(now).astimezone(UTC),  # every stored time is UTC
        )
        try:
            with db.begin_nested():  # two asks at once: one request stays open
                db.add(handover)
        except IntegrityError:
            handover, created = _open_request(db, person.id), False
    if created:
        audit.record(
            db, principal, "create", "handover_request", handover.id, basis="resident_request"
        )
    db.commit()
    return handover, created


def _open_request(db: Session, person_id: str) -> HandoverRequest | None:
    return db.scalar(
        select(HandoverRequest).where(
            HandoverRequest.person_id == person_id, HandoverRequest.answered_at.is_(None)
        )
    )


def list_requests(
    db: Session, principal: Principal, answered: bool | None = None, limit: int = 200
) -> list[HandoverRequest]:
    """The town's requests, open first, then newest first (answered: None all, False only
    the open ones, True only the answered); each one's read audited. The caller commits."""
    handovers = duty.queue(
        db,
        principal,
        HandoverRequest,
        HandoverRequest.answered_at,
        HandoverRequest.requested_at,
        answered,
        limit,
    )
    listed = [h.id for h in handovers]
    audit.record_reads(db, principal, "handover_request", listed, basis=duty.BASIS)
    return handovers


def answer(db: Session, principal: Principal, handover_id: str) -> HandoverRequest:
    """A person has answered the resident: who and when, set once (answering again keeps the
    first answer and is audited as a read); committed. Another town's or unknown: 404."""
    handover = duty.held(db, principal, HandoverRequest, handover_id)
    if handover is None:
        raise not_found("handover request")
    if handover.answered_at is None:
        handover.answered_at, handover.answered_by = utcnow(), principal.id
        audit.record(db, principal, "answer", "handover_request", handover.id, basis=duty.BASIS)
    else:
        audit.record(db, principal, "read", "handover_request", handover.id, basis=duty.BASIS)
    db.commit()
    return handover
