"""An intake becomes a consultation: triage on the server, the person, consent, referral,
a case for the coordinator when compound, an alert when urgent. One transaction."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal
from api.db.models import (
    Case,
    ChannelIdentity,
    Consent,
    Consultation,
    Household,
    HouseholdMember,
    Person,
    Referral,
    utcnow,
)
from api.errors import ApiError
from api.schemas import MAX_TEXT_CHARS
from api.services.alerts import raise_alert
from api.services.consent import CONSENT, VITAL_INTEREST
from api.services.deadlines import acknowledgement_due
from routing_rules import triage
from routing_rules.directory import load_municipality

Channel = Literal["line", "sms", "web", "phone", "visit", "outreach"]
ContactMethod = Literal["channel", "phone", "visit", "none"]


class ConsentIn(BaseModel):
    share_with_bodies: bool = Field(description="Agreed to share with the consultation bodies.")
    shown_text: str = Field(min_length=1, max_length=4000, description="What the person read.")
    captured_via: str = Field(min_length=1, max_length=32, description="line, sms, web, paper…")
    expires_at: datetime | None = None


class ContactIn(BaseModel):
    method: ContactMethod = "channel"
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    when: str | None = Field(default=None, max_length=200, description="Good times to call.")


class MemberIn(BaseModel):
    relation: str = Field(min_length=1, max_length=32, description="本人, 母, 息子, …")
    age: int | None = Field(default=None, ge=0, le=130)
    notes: str | None = Field(default=None, max_length=1000)


class ChannelUserIn(BaseModel):
    """Who writes: a resident as their channel knows them, in one town."""

    municipality: str = Field(max_length=32)
    channel: Channel
    channel_user_id: str = Field(min_length=1, max_length=128)


class ConsultationIn(ChannelUserIn):
    text: str | None = Field(default=None, description="The resident's words (or use texts).")
    texts: list[str] | None = Field(default=None, max_length=50, description="Several turns.")
    area: str | None = Field(default=None, max_length=64)
    about: str | None = Field(default=None, max_length=32, description="本人, 家族, 近所の人…")
    household: list[MemberIn] = Field(default_factory=list, max_length=30)
    contact: ContactIn = Field(default_factory=ContactIn)
    consent: ConsentIn

    @field_validator("texts")
    @classmethod
    def _texts_not_empty(cls, value: list[str] | None) -> list[str] | None:
        return [t for t in value if t.strip()] if value is not None else None

    def all_texts(self) -> list[str]:
        texts = [t for t in ([self.text] if self.text else []) + (self.texts or []) if t.strip()]
        if not texts:
            raise ApiError(422, "text_empty", "The consultation has no text.")
        if sum(len(t) for t in texts) > MAX_TEXT_CHARS:
            raise ApiError(413, "text_too_long", f"Over {MAX_TEXT_CHARS:,} characters in all.")
        for t in texts:
            try:
                t.encode("utf-8")
            except UnicodeEncodeError:
                raise ApiError(422, "text_invalid", "Unpaired surrogate code points.") from None
            if "\x00" in t:
                raise ApiError(422, "text_invalid", "The text contains a NUL character.")
        return texts

    def digest(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def submit(
    db: Session, principal: Principal, intake: ConsultationIn, idempotency_key: str | None
) -> tuple[Consultation, bool]:
    """The consultation for this intake, and whether it was created now (False: a replay)."""
    if intake.municipality != principal.municipality:
        raise ApiError(403, "forbidden", "This token is for another municipality.")
    if idempotency_key:
        replay = _replay(db, principal, idempotency_key, intake.digest())
        if replay:
            return replay, False
    try:
        consultation = _create(db, principal, intake, idempotency_key)
        db.commit()
    except IntegrityError:
        # Another request with the same Idempotency-Key won the race: answer as it did.
        db.rollback()
        if not idempotency_key:
            raise
        replay = _replay(db, principal, idempotency_key, intake.digest())
        if replay is None:
            raise
        return replay, False
    return consultation, True


def _replay(db: Session, principal: Principal, key: str, digest: str) -> Consultation | None:
    found = db.scalar(
        select(Consultation).where(
            Consultation.idempotency_scope == principal.id, Consultation.idempotency_key == key
        )
    )
    if found is not None and found.request_hash != digest:
        raise ApiError(
            409, "idempotency_conflict", "This Idempotency-Key was used for a different request."
        )
    return found


def _create(
    db: Session, principal: Principal, intake: ConsultationIn, idempotency_key: str | None
) -> Consultation:
    texts = intake.all_texts()
    town = load_municipality(intake.municipality)  # unknown: 404 (api/errors.py)
    result = triage("\n".join(texts), intake.municipality, intake.area)
    person = person_for_identity(db, intake)
    if intake.contact.name:
        person.name = intake.contact.name
    if intake.contact.phone:
        person.phone = intake.contact.phone
    if intake.household:
        _replace_household(db, person, intake.household)

    consultation = Consultation(
        municipality=intake.municipality,
        person_id=person.id,
        channel=intake.channel,
        texts=texts,
        area=result.area,
        about=intake.about,
        contact=intake.contact.model_dump(exclude={"name", "phone"}),
        triage=result.to_dict(),
        route=result.route,
        urgent=result.urgent,
        compound=result.compound,
        domains=list(result.domains),
        patterns=list(result.patterns),
        created_by=principal.id,
        idempotency_scope=principal.id if idempotency_key else None,
        idempotency_key=idempotency_key,
        request_hash=intake.digest() if idempotency_key else None,
    )
    db.add(consultation)
    db.flush()

    # The routed body (for a compound case, the coordinator) first, then the bodies involved.
    recipients = [result.body.id] + [b.id for b in result.involved if b.id != result.body.id]
    db.add(
        Consent(
            municipality=intake.municipality,
            person_id=person.id,
            consultation_id=consultation.id,
            purpose="referral",
            recipients=recipients if intake.consent.share_with_bodies else [],
            legal_basis=CONSENT,
            agreed=intake.consent.share_with_bodies,
            shown_text=intake.consent.shown_text,
            captured_via=intake.consent.captured_via,
            expires_at=intake.consent.expires_at,
        )
    )

    case = None
    if result.compound:
        case = _open_case(db, person, result.urgent, result.domains, result.patterns)
        consultation.case_id = case.id
    now = utcnow()
    referral = Referral(
        municipality=intake.municipality,
        consultation_id=consultation.id,
        case_id=case.id if case else None,
        body_id=result.body.id,
        urgent=result.urgent,
        disclosure_basis=(
            CONSENT
            if intake.consent.share_with_bodies
            else VITAL_INTEREST
            if result.urgent
            else None
        ),
        created_at=now,
        due_at=acknowledgement_due(now, town.acknowledge_business_days, result.urgent),
    )
    db.add(referral)
    db.flush()
    audit.record(db, principal, "create", "consultation", consultation.id, basis="intake")
    audit.record(db, principal, "create", "referral", referral.id, basis=referral.disclosure_basis)
    if case is not None:
        audit.record(db, principal, "create", "case", case.id, basis="compound")
    if result.urgent:
        raise_alert(
            db,
            principal,
            result,
            consultation_id=consultation.id,
            case_id=case.id if case else None,
        )
    return consultation


def person_for_identity(db: Session, who: ChannelUserIn) -> Person:
    """The person behind this channel identity; created on first contact."""
    municipality, channel, channel_user_id = who.municipality, who.channel, who.channel_user_id
    query = select(ChannelIdentity).where(
        ChannelIdentity.municipality == municipality,
        ChannelIdentity.channel == channel,
        ChannelIdentity.external_id == channel_user_id,
    )
    identity = db.scalar(query)
    if identity is None:
        person = Person(municipality=municipality)
        db.add(person)
        db.flush()
        try:
            with db.begin_nested():  # two first messages at once: one identity wins
                db.add(
                    ChannelIdentity(
                        person_id=person.id,
                        municipality=municipality,
                        channel=channel,
                        external_id=channel_user_id,
                    )
                )
        except IntegrityError:
            db.delete(person)
            identity = db.scalar(query)
    return identity.person if identity else person


def _replace_household(db: Session, person: Person, members: list[MemberIn]) -> None:
    household = db.scalar(select(Household).where(Household.person_id == person.id))
    if household is None:
        household = Household(municipality=person.municipality, person_id=person.id)
        db.add(household)
    household.members = [
        HouseholdMember(position=i, relation=m.relation, age=m.age, notes=m.notes)
        for i, m in enumerate(members)
    ]


def _open_case(
    db: Session, person: Person, urgent: bool, domains: tuple[str, ...], patterns: tuple[str, ...]
) -> Case:
    """The person's open case gains what this consultation adds; else a new case."""
    case = db.scalar(
        select(Case).where(Case.person_id == person.id, Case.status != "closed").limit(1)
    )
    if case is None:
        case = Case(municipality=person.municipality, person_id=person.id)
        db.add(case)
    case.urgent = case.urgent or urgent
    case.domains = sorted(set(case.domains or []) | set(domains))
    case.patterns = sorted(set(case.patterns or []) | set(patterns))
    db.flush()
    return case
