"""The worker: stored messages to the bot, one conversation at a time, in order.

A worker claims a conversation that has pending messages by taking its lease (PostgreSQL:
SELECT … FOR UPDATE SKIP LOCKED, so several processes never pick the same one; SQLite has
one writer at a time anyway). While it holds the lease it alone processes that
conversation's messages, oldest first: so Rasa never sees two messages of one sender at
once. A killed worker's lease expires and another worker takes the message again.

Each message: the urgent check (the triage rules, no model), then Rasa's REST channel. When
Rasa is down or slow, the resident gets a fixed answer and the message becomes a
consultation for staff (api/services/intake.py, idempotent on the message). The answers and
"processed" are committed together, and only while the lease is still ours.

Logs name counts, ids and outcomes; never a resident's words, name or number.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from api.access import Principal
from api.channels import texts
from api.channels.outbox import enqueue, outbound_queued
from api.channels.rasa import BotUnavailable, ask_bot
from api.channels.render import Answer, answer, choice_payload, from_rasa
from api.db.models import ChannelIdentity, Conversation, InboundMessage, utcnow
from api.db.session import engine_for
from api.services.intake import ConsentIn, ConsultationIn, submit
from api.settings import Settings, get_settings
from routing_rules import triage

log = logging.getLogger(__name__)

# After this many tries a message skips the bot (it may be what breaks it); after MAX_TRIES
# it is set aside as failed, for staff to see, instead of blocking its conversation.
BOT_TRIES = 3
MAX_TRIES = 8


class LeaseLost(Exception):
    """Another worker took this conversation (our lease had expired): drop our result."""


@dataclass(frozen=True)
class Pending:
    """A message and what processing it needs, read in one short transaction."""

    id: int
    conversation_id: str
    municipality: str
    channel: str
    external_id: str
    kind: str
    text: str | None
    choices: list[str] | None
    attempts: int

    @property
    def sender(self) -> str:
        return f"{self.channel}:{self.external_id}"


@dataclass
class Outcome:
    answers: list[Answer]
    origin: str  # bot | fallback | notice | none
    urgent: bool | None = None
    consultation_id: str | None = None


def worker_id() -> str:
    return f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """One worker loop (a thread of `tsunagu worker`, which each API process starts)."""

    def __init__(self, settings: Settings | None = None, name: str | None = None) -> None:
        self.settings = settings or get_settings()
        self.name = name or worker_id()
        self.sessions = sessionmaker(engine_for(self.settings.database_url), expire_on_commit=False)
        self.http = httpx.Client()
        self.lease = timedelta(seconds=self.settings.worker_lease_seconds)

    def close(self) -> None:
        self.http.close()

    # --- claiming ---------------------------------------------------------------------------

    def claim(self) -> str | None:
        """A conversation with pending messages and no live lease, now leased to us."""
        now = utcnow()
        pending = select(InboundMessage.conversation_id).where(InboundMessage.status == "pending")
        query = (
            select(Conversation)
            .where(
                Conversation.id.in_(pending),
                or_(Conversation.lease_until.is_(None), Conversation.lease_until < now),
            )
            .order_by(Conversation.last_inbound_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        with self.sessions() as db:
            conversation = db.scalar(query)
            if conversation is None:
                return None
            conversation.lease_owner, conversation.lease_until = self.name, now + self.lease
            db.commit()
            return conversation.id

    def release(self, conversation_id: str) -> None:
        with self.sessions() as db:
            conversation = db.get(Conversation, conversation_id, with_for_update=True)
            if conversation is not None and conversation.lease_owner == self.name:
                conversation.lease_owner, conversation.lease_until = None, None
            db.commit()

    def run_once(self) -> int:
        """Claims one conversation and processes its pending messages; how many."""
        conversation_id = self.claim()
        if conversation_id is None:
            return 0
        done = 0
        try:
            while self.process_next(conversation_id):
                done += 1
        except LeaseLost:
            log.warning("worker %s: lease on a conversation was lost", self.name)
            return done
        self.release(conversation_id)
        return done

    def run(self, stop: threading.Event) -> None:
        """Until stop is set: process, else wait a poll interval (the webhooks store in
        another process; the database is what they share)."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception as exc:  # a database restart, …: wait and try again
                log.warning("worker %s: %s", self.name, type(exc).__name__)
                busy = 0
                stop.wait(self.settings.worker_poll_seconds * 2)
            if not busy:
                stop.wait(self.settings.worker_poll_seconds)

    # --- processing -------------------------------------------------------------------------

    def process_next(self, conversation_id: str) -> bool:
        """Processes the conversation's oldest pending message; False when there is none."""
        pending = self._next_pending(conversation_id)
        if pending is None:
            return False
        outcome = self._decide(pending)
        self._finish(pending, outcome)
        return True

    def _next_pending(self, conversation_id: str) -> Pending | None:
        with self.sessions() as db:
            conversation = db.get(Conversation, conversation_id)
            if conversation is None or conversation.lease_owner != self.name:
                raise LeaseLost
            message = db.scalar(
                select(InboundMessage)
                .where(
                    InboundMessage.conversation_id == conversation_id,
                    InboundMessage.status == "pending",
                )
                .order_by(InboundMessage.event_at, InboundMessage.id)
                .limit(1)
            )
            if message is None:
                return None
            message.attempts += 1
            conversation.lease_until = utcnow() + self.lease
            pending = Pending(
                id=message.id,
                conversation_id=conversation_id,
                municipality=conversation.municipality,
                channel=conversation.channel,
                external_id=conversation.external_id,
                kind=message.kind,
                text=message.text,
                choices=conversation.choices,
                attempts=message.attempts,
            )
            db.commit()
            return pending

    def _decide(self, m: Pending) -> Outcome:
        if m.attempts > MAX_TRIES:
            return Outcome([answer(texts.RECEIVED)], "failed")  # staff see it as failed
        if m.kind == "other":
            return Outcome([answer(texts.NOT_TEXT)], "notice")
        if m.kind == "follow":
            return Outcome([answer(texts.WELCOME)], "notice")
        if m.kind == "opt_in":
            return Outcome([answer(texts.SMS_RESUMED)], "notice")
        if m.kind not in ("text", "postback") or not (m.text or "").strip():
            return Outcome([], "none")  # unfollow, opt_out: recorded when stored
        text = m.text or ""
        payload = text if m.kind == "postback" else choice_payload(text, m.choices)
        # The urgent check runs on the resident's own words, before and without the bot.
        result = triage(text, m.municipality) if payload is None else None
        urgent = bool(result and result.urgent)
        try:
            if m.attempts > BOT_TRIES:
                raise BotUnavailable("too many tries")
            replies = ask_bot(
                self.http,
                self.settings.rasa_url,
                m.sender,
                payload or text,
                {"municipality": m.municipality, "channel": m.channel, "message_id": m.id},
                self.settings.rasa_timeout_seconds,
            )
        except BotUnavailable as exc:
            log.warning("message %d: bot unavailable (%s): fixed answer", m.id, exc)
            answers = [answer(texts.RECEIVED)]
            if urgent and result is not None:
                answers.insert(0, answer(texts.emergency_text(result)))
            consultation_id = self._file(m, text) if payload is None else None
            return Outcome(answers, "fallback", urgent, consultation_id)
        answers = from_rasa(replies)
        if urgent and result is not None:
            # The bot runs the same rules; should its answer lack the lines, add them.
            said = "".join(a["text"] for a in answers)
            if not any(line.number in said for line in result.emergency):
                answers.insert(0, answer(texts.emergency_text(result)))
        return Outcome(answers, "bot", urgent)

    def _file(self, m: Pending, text: str) -> str:
        """The message as a consultation for staff; the same message always gives the same
        one (Idempotency-Key), so a retaken message files nothing twice."""
        principal = Principal(
            id=f"channels:{m.municipality}",
            role="bot",
            municipality=m.municipality,
            username="channels",
            body_id=None,
        )
        intake = ConsultationIn(
            municipality=m.municipality,
            channel=m.channel,  # type: ignore[arg-type]
            channel_user_id=m.sender,  # as the bot's actions name the resident
            text=text,
            consent=ConsentIn(
                share_with_bodies=False, shown_text=texts.FALLBACK_CONSENT, captured_via=m.channel
            ),
        )
        with self.sessions() as db:
            consultation, _ = submit(db, principal, intake, f"inbound-{m.id}")
            return consultation.id

    def _finish(self, m: Pending, outcome: Outcome) -> None:
        with self.sessions() as db:
            conversation = db.get(Conversation, m.conversation_id, with_for_update=True)
            if conversation is None or conversation.lease_owner != self.name:
                db.rollback()
                raise LeaseLost
            message = db.get(InboundMessage, m.id)
            assert message is not None
            if message.status != "pending":
                db.rollback()
                return
            enqueue(db, conversation, outcome.answers, origin=outcome.origin, inbound=message)
            now = utcnow()
            message.status = "failed" if outcome.origin == "failed" else "done"
            message.outcome, message.urgent = outcome.origin, outcome.urgent
            message.consultation_id, message.processed_at = outcome.consultation_id, now
            conversation.lease_until = now + self.lease
            if conversation.person_id is None:
                conversation.person_id = _person_of(db, conversation)
            db.commit()
        if outcome.answers:
            outbound_queued.set()


def _person_of(db: Session, conversation: Conversation) -> str | None:
    identity = db.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.municipality == conversation.municipality,
            ChannelIdentity.channel == conversation.channel,
            ChannelIdentity.external_id == f"{conversation.channel}:{conversation.external_id}",
        )
    )
    return identity.person_id if identity else None
