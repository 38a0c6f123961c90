"""The append-only audit log: who read or changed what, on what basis, hash-chained.

Events are written in the caller's transaction, so a request whose audit write fails
fails as a whole. Writers are serialized (PostgreSQL: a transaction-level advisory lock;
SQLite: BEGIN IMMEDIATE already serializes writers), so the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.db.models import AuditEvent, utcnow
from api.db.session import storable

GENESIS = "0" * 64
# The longest id the log can hold (AuditEvent.object_id); a longer one names no record.
_ID_CHARS: int = AuditEvent.__table__.c.object_id.type.length
_CHAIN_LOCK = 0x7475_6E61  # "tuna": the advisory lock id that serializes the chain

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


@dataclass(frozen=True, slots=True)
class Actor:
    """Whoever acts: a staff user, a service token, or the command line."""

    id: str
    role: str
    municipality: str | None


def _digest(event: AuditEvent) -> str:
    fields = {
        "seq": event.seq,
        "at": event.at.isoformat(timespec="microseconds"),
        "actor": event.actor,
        "role": event.role,
        "municipality": event.municipality,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "basis": event.basis,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    db: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | None = None,
    *,
    basis: str | None = None,
    municipality: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the current transaction (flushed at once)."""
    return _append(db, actor, action, object_type, [object_id], basis, municipality)[0]


def denied(db: Session, actor: Actor, object_type: str, object_id: str) -> None:
    """An attempt to reach a record outside the actor's scope, or one that does not exist
    (the caller answers 404 to both alike). Committed here: the request then fails."""
    if storable(object_id) and len(object_id) <= _ID_CHARS:
        record(db, actor, "denied", object_type, object_id, basis="scope")
        db.commit()


def record_reads(
    db: Session, actor: Actor, object_type: str, ids: Iterable[str], *, basis: str | None = None
) -> None:
    """One event per object listed: a list view discloses each record it shows."""
    _append(db, actor, "read", object_type, list(ids), basis, None)


def _append(
    db: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_ids: list[str | None],
    basis: str | None,
    municipality: str | None,
) -> list[AuditEvent]:
    """Chain one event per object after the last one: one lock and one lookup for all."""
    if not object_ids:
        return []
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _CHAIN_LOCK})
    last = db.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    seq, previous = (last.seq, last.hash) if last else (0, GENESIS)
    events = []
    for object_id in object_ids:
        seq += 1
        event = AuditEvent(
            seq=seq,
            at=utcnow(),
            actor=actor.id,
            role=actor.role,
            municipality=municipality or actor.municipality,
            action=action,
            object_type=object_type,
            object_id=object_id,
            basis=basis,
            request_id=request_id.get(),
            prev_hash=previous,
        )
        event.hash = previous = _digest(event)
        events.append(event)
    db.add_all(events)
    db.flush()
    return events


@dataclass(frozen=True, slots=True)
class ChainReport:
    events: int
    broken_at: int | None  # the first seq whose hash or link does not verify

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(db: Session, batch: int = 1000) -> ChainReport:
    """Recompute every hash and link, in order."""
    previous, count, after = GENESIS, 0, 0
    while True:
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not events:
            return ChainReport(count, None)
        for event in events:
            linked = event.seq == count + 1 and event.prev_hash == previous
            if not linked or _digest(event) != event.hash:
                return ChainReport(count, event.seq)
            previous, count, after = event.hash, count + 1, event.seq
