"""An intake becomes a consultation: triage on the server, the person, consent, referral,
a case for the coordinator when compound, an alert when urgent. One transaction.

An intake may instead complete an urgent consultation its sender handed in moments before
(the bot sends what it has at the first sign of danger, then asks the rest): the same
consultation then gains the rest, so the town sees one consultation, not two.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Select, select
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
from api.db.session import storable
from api.errors import ApiError
from api.schemas import MAX_TEXT_CHARS
from api.services.alerts import raise_alert
from api.services.consent import CONSENT, VITAL_INTEREST
from api.services.deadlines import acknowledgement_due
from routing_rules import TriageResult, triage
from routing_rules.directory import Municipality, load_municipality

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
    completes: str | None = Field(
        default=None,
        max_length=64,
        description="The id of an urgent consultation this sender handed in for the same "
        "person before the rest was asked: this intake completes it.",
    )

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


Outcome = Literal["created", "completed", "replayed"]


def submit(
    db: Session, principal: Principal, intake: ConsultationIn, idempotency_key: str | None
) -> tuple[Consultation, Outcome]:
    """The consultation for this intake, and what this request did to it."""
    if intake.municipality != principal.municipality:
        raise ApiError(403, "forbidden", "This token is for another municipality.")
    # A retry of a completion can arrive while the completion still runs: the row lock
    # makes it wait, and it then finds the completion's answer as a replay.
    target = _held(db, intake.completes) if intake.completes else None
    if idempotency_key:
        replay = _replay(db, principal, idempotency_key, intake.digest())
        if replay:
            return replay, "replayed"
    try:
        if intake.completes:
            consultation, outcome = _complete(db, principal, intake, target), "completed"
        else:
            consultation, outcome = _create(db, principal, intake), "created"
        _remember(consultation, principal, intake, idempotency_key)
        db.commit()
    except IntegrityError:
        # Another request with the same Idempotency-Key won the race: answer as it did.
        db.rollback()
        if not idempotency_key:
            raise
        replay = _replay(db, principal, idempotency_key, intake.digest())
        if replay is None:
            raise
        return replay, "replayed"
    return consultation, outcome


def _remember(
    consultation: Consultation, principal: Principal, intake: ConsultationIn, key: str | None
) -> None:
    """Keeps the request's key, so that a retry gets this answer (for a completion, the
    key of the request that completed it: the urgent one was answered already)."""
    if key:
        consultation.idempotency_scope = principal.id
        consultation.idempotency_key = key
        consultation.request_hash = intake.digest()


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


def _create(db: Session, principal: Principal, intake: ConsultationIn) -> Consultation:
    texts = intake.all_texts()
    town = load_municipality(intake.municipality)  # unknown: 404 (api/errors.py)
    result = triage("\n".join(texts), intake.municipality, intake.area)
    person = person_for_identity(db, intake)
    consultation = Consultation(
        municipality=intake.municipality,
        person_id=person.id,
        channel=intake.channel,
        created_by=principal.id,
        urgent=result.urgent,
    )
    _fill(db, consultation, person, intake, texts, result)
    db.add(consultation)
    db.flush()
    audit.record(db, principal, "create", "consultation", consultation.id, basis="intake")
    case = _share_and_refer(db, principal, town, consultation, person, intake, result)
    if result.urgent:
        raise_alert(
            db,
            principal,
            result,
            consultation_id=consultation.id,
            case_id=case.id if case else None,
        )
    return consultation


def _held(db: Session, consultation_id: str) -> Consultation | None:
    """The consultation, locked until the transaction ends (None when there is none)."""
    if not storable(consultation_id):
        return None
    return db.get(Consultation, consultation_id, with_for_update=True)


def _complete(
    db: Session, principal: Principal, intake: ConsultationIn, consultation: Consultation | None
) -> Consultation:
    """The urgent consultation `intake.completes`, completed by this intake.

    Only its sender may complete it, for the same person. It stays urgent (its alert is the
    duty team's to close); the texts, contact and triage become the whole intake's; the
    answer to the consent question is recorded; a body the fuller picture routes to, and
    not yet referred, gets a referral (the first one stands).
    """
    texts = intake.all_texts()
    town = load_municipality(intake.municipality)
    person_id = db.scalar(_identity_query(intake).with_only_columns(ChannelIdentity.person_id))
    if (
        consultation is None
        or consultation.municipality != intake.municipality
        or consultation.created_by != principal.id
        or consultation.person_id != person_id
        or not consultation.urgent
    ):
        raise ApiError(
            409,
            "not_completable",
            "Only an urgent consultation you handed in for this person can be completed.",
        )
    result = triage("\n".join(texts), intake.municipality, intake.area)
    person = db.get_one(Person, consultation.person_id)
    _fill(db, consultation, person, intake, texts, result)
    audit.record(db, principal, "update", "consultation", consultation.id, basis="intake")
    _share_and_refer(db, principal, town, consultation, person, intake, result)
    return consultation


def _fill(
    db: Session,
    consultation: Consultation,
    person: Person,
    intake: ConsultationIn,
    texts: list[str],
    result: TriageResult,
) -> None:
    """What the intake says, on the consultation and its person."""
    if intake.contact.name:
        person.name = intake.contact.name
    if intake.contact.phone:
        person.phone = intake.contact.phone
    if intake.household:
        _replace_household(db, person, intake.household)
    consultation.texts = texts
    consultation.area = result.area
    consultation.about = intake.about
    consultation.contact = intake.contact.model_dump(exclude={"name", "phone"})
    consultation.triage = result.to_dict()
    consultation.route = result.route
    consultation.compound = result.compound
    consultation.domains = list(result.domains)
    consultation.patterns = list(result.patterns)


def _share_and_refer(
    db: Session,
    principal: Principal,
    town: Municipality,
    consultation: Consultation,
    person: Person,
    intake: ConsultationIn,
    result: TriageResult,
) -> Case | None:
    """The consent as answered, the case when compound, and the referral to the routed
    body unless this consultation was referred to it already. Returns the case."""
    # The routed body (for a compound case, the coordinator) first, then the bodies involved.
    recipients = [result.body.id] + [b.id for b in result.involved if b.id != result.body.id]
    agreed = intake.consent.share_with_bodies
    db.add(
        Consent(
            municipality=intake.municipality,
            person_id=person.id,
            consultation_id=consultation.id,
            purpose="referral",
            recipients=recipients if agreed else [],
            legal_basis=CONSENT,
            agreed=agreed,
            shown_text=intake.consent.shown_text,
            captured_via=intake.consent.captured_via,
            expires_at=intake.consent.expires_at,
        )
    )
    case, opened = None, False
    if result.compound:
        case, opened = _open_case(db, person, consultation.urgent, result.domains, result.patterns)
        consultation.case_id = case.id
        for earlier in consultation.referrals:
            earlier.case_id = earlier.case_id or case.id
    if all(r.body_id != result.body.id for r in consultation.referrals):
        now = utcnow()
        urgent = consultation.urgent
        referral = Referral(
            municipality=intake.municipality,
            consultation_id=consultation.id,
            case_id=case.id if case else None,
            body_id=result.body.id,
            urgent=urgent,
            disclosure_basis=CONSENT if agreed else VITAL_INTEREST if urgent else None,
            created_at=now,
            due_at=acknowledgement_due(now, town.acknowledge_business_days, urgent),
        )
        consultation.referrals.append(referral)
        db.flush()
        audit.record(
            db, principal, "create", "referral", referral.id, basis=referral.disclosure_basis
        )
    if case is not None:
        action = "create" if opened else "update"  # a person's open case grows
        audit.record(db, principal, action, "case", case.id, basis="compound")
    return case


def person_for_identity(db: Session, who: ChannelUserIn) -> Person:
    """The person behind this channel identity; created on first contact."""
    query = _identity_query(who)
    identity = db.scalar(query)
    if identity is None:
        person = Person(municipality=who.municipality)
        db.add(person)
        db.flush()
        try:
            with db.begin_nested():  # two first messages at once: one identity wins
                db.add(
                    ChannelIdentity(
                        person_id=person.id,
                        municipality=who.municipality,
                        channel=who.channel,
                        external_id=who.channel_user_id,
                    )
                )
        except IntegrityError:
            db.delete(person)
            identity = db.scalar(query)
    return identity.person if identity else person


def _identity_query(who: ChannelUserIn) -> Select[tuple[ChannelIdentity]]:
    return select(ChannelIdentity).where(
        ChannelIdentity.municipality == who.municipality,
        ChannelIdentity.channel == who.channel,
        ChannelIdentity.external_id == who.channel_user_id,
    )


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
) -> tuple[Case, bool]:
    """The person's open case gains what this consultation adds; else a new case (True)."""
    case = db.scalar(
        select(Case).where(Case.person_id == person.id, Case.status != "closed").limit(1)
    )
    opened = case is None
    if case is None:
        case = Case(municipality=person.municipality, person_id=person.id)
        db.add(case)
    case.urgent = case.urgent or urgent
    case.domains = sorted(set(case.domains or []) | set(domains))
    case.patterns = sorted(set(case.patterns or []) | set(patterns))
    db.flush()
    return case, opened
