"""Consent decides what is shared: which records a body may read, and on what legal basis."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import Consent, Meeting, MeetingAttendee, utcnow

# Legal bases recorded with each disclosure.
CONSENT = "consent"  # 本人同意
VITAL_INTEREST = "vital_interest"  # 生命・身体の保護のため、本人同意を得ることが困難
SUPPORT_MEETING = "support_meeting"  # 社会福祉法第106条の6 支援会議 (members bound to secrecy)
LEGAL_BASES = (CONSENT, VITAL_INTEREST, SUPPORT_MEETING)


def is_active(consent: Consent, at: datetime | None = None) -> bool:
    at = at or utcnow()
    return (
        consent.agreed
        and consent.revoked_at is None
        and (consent.expires_at is None or consent.expires_at > at)
    )


def consent_covers(
    db: Session, person_id: str, body_ids: set[str], purpose: str | None = None
) -> bool:
    """True when active consents of the person together cover every one of these bodies
    (for this purpose only, when one is given: agreeing to a referral is not agreeing to
    be discussed at a 重層的支援会議)."""
    query = select(Consent).where(Consent.person_id == person_id)
    if purpose is not None:
        query = query.where(Consent.purpose == purpose)
    covered = {b for c in db.scalars(query) if is_active(c) for b in c.recipients}
    return body_ids <= covered


def met_in_support_meeting(db: Session, case_id: str | None, body_id: str | None) -> bool:
    """The body attended a 支援会議 on the case as a member bound to confidentiality."""
    if case_id is None or body_id is None:
        return False
    return (
        db.scalar(
            select(MeetingAttendee.id)
            .join(Meeting)
            .where(
                Meeting.case_id == case_id,
                Meeting.kind == "support_meeting",
                MeetingAttendee.body_id == body_id,
                MeetingAttendee.confidentiality_bound.is_(True),
            )
            .limit(1)
        )
        is not None
    )


def disclosure_basis(
    db: Session,
    *,
    person_id: str,
    body_id: str | None,
    urgent: bool,
    case_id: str | None = None,
) -> str | None:
    """Why this body may read the person's consultation content now; None: it may not.

    Checked at every read, so a revoked or expired consent stops disclosure at once.
    """
    if body_id is not None and consent_covers(db, person_id, {body_id}):
        return CONSENT
    if urgent:
        return VITAL_INTEREST
    if met_in_support_meeting(db, case_id, body_id):
        return SUPPORT_MEETING
    return None
