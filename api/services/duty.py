"""The duty queues' common shape: urgent alerts and requests for a person (人と話したい).

Each is a town's list, open first, then newest first, and each item is taken by someone on
duty once; one place for the order and the town scope, so the two queues cannot drift.
The services (alerts.py, handovers.py) keep their own audit events.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import case as when
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.access import Principal
from api.db.models import Alert, HandoverRequest

BASIS = "duty"  # the audit basis of every read and action on a duty queue

Item = TypeVar("Item", Alert, HandoverRequest)


def queue(
    db: Session,
    principal: Principal,
    model: type[Item],
    done_at: InstrumentedAttribute,
    newest: InstrumentedAttribute,
    done: bool | None,
    limit: int,
) -> list[Item]:
    """The town's items, open (done_at unset) first, then newest first; `done`: None all,
    False only the open ones, True only the done ones."""
    query = select(model).where(model.municipality == principal.municipality)
    if done is not None:
        query = query.where(done_at.is_not(None) if done else done_at.is_(None))
    open_first = when((done_at.is_(None), 0), else_=1)
    query = query.order_by(open_first, newest.desc(), model.id)
    return list(db.scalars(query.limit(limit)).all())


def held(db: Session, principal: Principal, model: type[Item], item_id: str) -> Item | None:
    """The town's item, locked until the transaction ends (two on duty take it once)."""
    query = select(model).where(model.id == item_id, model.municipality == principal.municipality)
    return db.scalar(query.with_for_update())
