"""Rows as stored now, for tests that check what the app wrote: each read ends at once,
because SQLite writers (the app) wait for an open transaction."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db.models import AuditEvent


def count(db: Session, model, *where) -> int:
    value = db.scalar(select(func.count()).select_from(model).where(*where))
    db.rollback()
    return value or 0


def events(db: Session, action: str, object_type: str, object_id: str | None = None) -> int:
    """Audit events of this action on this kind of object (or this one object)."""
    where = [AuditEvent.action == action, AuditEvent.object_type == object_type]
    if object_id is not None:
        where.append(AuditEvent.object_id == object_id)
    return count(db, AuditEvent, *where)


def fields(db: Session, model, object_id: str, *names: str) -> tuple:
    """Some columns of a row as stored now."""
    db.expire_all()
    row = db.get(model, object_id)
    values = tuple(getattr(row, name) for name in names)
    db.rollback()
    return values
