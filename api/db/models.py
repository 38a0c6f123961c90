"""The records of the referral service (DESIGN.md, Data): SQLAlchemy 2 models.

Ids are random UUID strings: they reveal neither how many consultations a town has nor
the next one's id. Times are stored in UTC and always come back timezone-aware.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware one (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


def _pk() -> Mapped[str]:
    return mapped_column(String(36), primary_key=True, default=new_id)


def _created() -> Mapped[datetime]:
    return mapped_column(default=utcnow)


# --- directory and accounts -----------------------------------------------------------------


class Body(Base):
    """A consultation body, loaded from routing_rules/directories (ids kept)."""

    __tablename__ = "bodies"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    municipality: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    areas: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StaffUser(Base):
    __tablename__ = "staff_users"
    id: Mapped[str] = _pk()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    municipality: Mapped[str] = mapped_column(String(32), index=True)
    body_id: Mapped[str | None] = mapped_column(ForeignKey("bodies.id"))
    display_name: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _created()


class ApiToken(Base):
    """A bearer token, stored as its SHA-256: revoked or expired tokens fail at once."""

    __tablename__ = "api_tokens"
    id: Mapped[str] = _pk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))  # the user's role when issued, or "bot"
    municipality: Mapped[str] = mapped_column(String(32))
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """Failed logins, counted across processes to rate-limit password guessing."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# --- people ---------------------------------------------------------------------------------


class Person(Base):
    __tablename__ = "persons"
    id: Mapped[str] = _pk()
    municipality: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = _created()
    identities: Mapped[list[ChannelIdentity]] = relationship(back_populates="person")


class ChannelIdentity(Base):
    """How a person reached us: a LINE user id, a phone number, a web chat session."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("municipality", "channel", "external_id"),)
    id: Mapped[str] = _pk()
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    municipality: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = _created()
    person: Mapped[Person] = relationship(back_populates="identities")


class Household(Base):
    __tablename__ = "households"
    id: Mapped[str] = _pk()
    municipality: Mapped[str] = mapped_column(String(32), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), unique=True)
    members: Mapped[list[HouseholdMember]] = relationship(
        order_by="HouseholdMember.position", cascade="all, delete-orphan"
    )


class HouseholdMember(Base):
    __tablename__ = "household_members"
    id: Mapped[str] = _pk()
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    relation: Mapped[str] = mapped_column(String(32))  # 本人, 母, 息子, …
    age: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)


class Assignment(Base):
    """An outreach worker assigned to a person: what the worker may see."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("person_id", "staff_user_id"),)
    id: Mapped[str] = _pk()
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    staff_user_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[datetime] = _created()


# --- intake, consent, referrals -----------------------------------------------------------


class Consultation(Base):
    __tablename__ = "consultations"
    __table_args__ = (UniqueConstraint("idempotency_scope", "idempotency_key"),)
    id: Mapped[str] = _pk()
    municipality: Mapped[str] = mapped_column(String(32), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    texts: Mapped[list[Any]]
    area: Mapped[str | None] = mapped_column(String(64))
    about: Mapped[str | None] = mapped_column(String(32))  # 本人, 家族, 近所の人, …
    contact: Mapped[dict[str, Any]] = mapped_column(default=dict)
    triage: Mapped[dict[str, Any]]
    route: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    compound: Mapped[bool] = mapped_column(Boolean, default=False)
    domains: Mapped[list[Any]] = mapped_column(default=list)
    patterns: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(String(64))  # principal id (user or token)
    idempotency_scope: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = _created()
    referrals: Mapped[list[Referral]] = relationship(
        back_populates="consultation", order_by="Referral.created_at"
    )


class Consent(Base):
    """What the person agreed to share, with whom, for what, on what basis, until when."""

    __tablename__ = "consents"
    id: Mapped[str] = _pk()
    municipality: Mapped[str] = mapped_column(String(32), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    consultation_id: Mapped[str | None] = mapped_column(ForeignKey("consultations.id"))
    purpose: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[list[Any]]  # body ids
    legal_basis: Mapped[str] = mapped_column(String(32))
    agreed: Mapped[bool] = mapped_column(Boolean)
    shown_text: Mapped[str] = mapped_column(Text)
    captured_via: Mapped[str] = mapped_column(String(32))
    captured_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Referral(Base):
    __tablename__ = "referrals"
    id: Mapped[str] = _pk()
    municipality: Mapped[str] = mapped_column(String(32), index=True)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    body_id: Mapped[str] = mapped_column(ForeignKey("bodies.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="sent", index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    disclosure_basis: Mapped[str | None] = mapped_column(String(32))  # None: not disclosed
    due_at: Mapped[datetime]
    created_at: Mapped[datetime] = _created()
    received_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    rejected_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    consultation: Mapped[Consultation] = relationship(back_populates="referrals")
    body: Mapped[Body] = relationship()


class Alert(Base):
    """Urgent danger: the duty queue lists these first until someone acknowledges them."""

    __tablename__ = "alerts"
    id: Mapped[str] = _pk()
    municipality: Mapped[str] = mapped_column(String(32), index=True)
    consultation_id: Mapped[str | None] = mapped_column(ForeignKey("consultations.id"))
    contact_log_id: Mapped[str | None] = mapped_column(ForeignKey("contact_logs.id"))
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = _created()
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(36))


class HandoverRequest(Base):
    """A resident asked to talk to a person (人と話したい): duty staff answer by answer_by."""

    __tablename__ = "handover_requests"
    # One open request per person, across processes: asking again finds the open one.
    __table_args__ = (
        Index(
            "uq_handover_requests_open_person_id",
            "person_id",
            unique=True,
            sqlite_where=text("answered_at IS NULL"),
            postgresql_where=text("answered_at IS NULL"),
        ),
    )
    id: Mapped[str] = _pk()
    municipality: Mapped[str] = mapped_column(String(32), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = _created()
    answer_by: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(36))


# --- cases ----------------------------------------------------------------------------------


class Case(Base):
    """A compound (or urgent) case in the multi-agency coordinator's queue."""

    __tablename__ = "cases"
    id: Mapped[str] = _pk()
    municipality: Mapped[str] = mapped_column(String(32), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    domains: Mapped[list[Any]] = mapped_column(default=list)
    patterns: Mapped[list[Any]] = mapped_column(default=list)
    opened_at: Mapped[datetime] = _created()
    closed_at: Mapped[datetime | None]
    closure_reason: Mapped[str | None] = mapped_column(Text)


class Meeting(Base):
    __tablename__ = "meetings"
    id: Mapped[str] = _pk()
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # support_meeting | multi_agency_meeting
    legal_basis: Mapped[str] = mapped_column(String(32))
    held_on: Mapped[date] = mapped_column(Date)
    decisions: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    attendees: Mapped[list[MeetingAttendee]] = relationship(cascade="all, delete-orphan")


class MeetingAttendee(Base):
    __tablename__ = "meeting_attendees"
    id: Mapped[str] = _pk()
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    body_id: Mapped[str | None] = mapped_column(ForeignKey("bodies.id"))
    name: Mapped[str] = mapped_column(String(100))
    confidentiality_bound: Mapped[bool] = mapped_column(Boolean)


class SupportPlan(Base):
    __tablename__ = "support_plans"
    id: Mapped[str] = _pk()
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), unique=True)
    goals: Mapped[list[Any]] = mapped_column(default=list)
    lead_body_id: Mapped[str | None] = mapped_column(ForeignKey("bodies.id"))
    review_dates: Mapped[list[Any]] = mapped_column(default=list)  # ISO dates
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    tasks: Mapped[list[PlanTask]] = relationship(
        order_by="PlanTask.position", cascade="all, delete-orphan"
    )


class PlanTask(Base):
    __tablename__ = "plan_tasks"
    id: Mapped[str] = _pk()
    plan_id: Mapped[str] = mapped_column(ForeignKey("support_plans.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    body_id: Mapped[str] = mapped_column(ForeignKey("bodies.id"))
    description: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class MonitoringNote(Base):
    __tablename__ = "monitoring_notes"
    id: Mapped[str] = _pk()
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    note: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = _created()


class ContactLog(Base):
    """An outreach worker's visit, call or letter, with a known or an unidentified person."""

    __tablename__ = "contact_logs"
    __table_args__ = (UniqueConstraint("staff_user_id", "client_ref"),)
    id: Mapped[str] = _pk()
    municipality: Mapped[str] = mapped_column(String(32), index=True)
    staff_user_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), index=True)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"), index=True)
    unidentified: Mapped[str | None] = mapped_column(Text)  # a description, when no person
    contacted_at: Mapped[datetime]
    place: Mapped[str | None] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(16))  # visit | phone | letter
    outcome: Mapped[str] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(Text)
    triage: Mapped[dict[str, Any] | None]
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    client_ref: Mapped[str | None] = mapped_column(String(64))  # offline entries: sent once
    created_at: Mapped[datetime] = _created()


# --- audit ----------------------------------------------------------------------------------


class AuditEvent(Base):
    """Append-only and hash-chained: each event's hash covers the previous one's."""

    __tablename__ = "audit_events"
    # A record's history (a case's timeline) is read by object.
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    municipality: Mapped[str | None] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    basis: Mapped[str | None] = mapped_column(String(255))  # purpose or legal basis
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


# --- channels (LINE, SMS, web chat) ---------------------------------------------------------


class Conversation(Base):
    """One resident on one channel of one town: the unit of ordering. The worker that holds
    the lease (lease_owner until lease_until) is the only one processing its messages, so
    Rasa never sees two messages of one sender at once; an expired lease is retaken."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("municipality", "channel", "external_id"),)
    id: Mapped[str] = _pk()
    municipality: Mapped[str] = mapped_column(String(32), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # line | sms | web
    # LINE user id, E.164 phone number, or the SHA-256 of a web chat session token.
    external_id: Mapped[str] = mapped_column(String(128))
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"), index=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)  # SMS STOP, LINE unfollow
    # SMS: the payloads of the last numbered choices, so that "1" maps to the first button.
    choices: Mapped[list[Any] | None] = mapped_column(JSON)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = _created()
    last_inbound_at: Mapped[datetime | None]


class InboundMessage(Base):
    """An event a resident's channel delivered, stored before it is acknowledged; the
    provider's event id (webhookEventId, MessageSid, the page's message id) makes a
    redelivery a no-op."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("channel", "event_id"),
        Index("ix_inbound_messages_pending", "conversation_id", "status", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    municipality: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))
    # text | postback | sticker | image | follow | unfollow | opt_out | opt_in | other
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    reply_token: Mapped[str | None] = mapped_column(String(255))
    event_at: Mapped[datetime]  # the provider's time: order within a conversation
    received_at: Mapped[datetime] = _created()
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(16))  # bot | fallback | notice | none
    urgent: Mapped[bool | None] = mapped_column(Boolean)
    consultation_id: Mapped[str | None] = mapped_column(ForeignKey("consultations.id"))
    processed_at: Mapped[datetime | None]


class OutboundMessage(Base):
    """An answer waiting for (or past) delivery. `key` is the idempotency key: LINE's
    X-Line-Retry-Key, and what the stubs count sends by; `id` orders the web chat stream."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_messages_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    municipality: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    origin: Mapped[str] = mapped_column(String(16))  # bot | fallback | notice | staff
    messages: Mapped[list[Any]]  # [{"text": …, "buttons": [{"title", "payload"}]}]
    reply_token: Mapped[str | None] = mapped_column(String(255))
    reply_until: Mapped[datetime | None]
    # pending | sending | sent | failed | dropped (the resident opted out)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = _created()
    provider_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = _created()
    sent_at: Mapped[datetime | None]
