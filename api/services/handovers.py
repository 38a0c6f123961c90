"""A resident asks to talk to a person (人と話したい), at any point of a chat: the request
waits in the duty queue, and the bot tells the resident by when someone will answer.

A person has at most one open request; asking again returns it, so the bot may retry.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, ensure_municipality
from api.db.models import HandoverRequest, utcnow
from api.services.deadlines import person_answer_by
from api.services.intake import ChannelUserIn, person_for_identity
from routing_rules.directory import load_municipality


class HandoverIn(ChannelUserIn):
    """The resident who asked for a person, as the bot knows them."""


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
