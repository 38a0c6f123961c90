"""Bodies in the database mirror the municipality directories in routing_rules/."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import Body
from routing_rules.directory import load_municipality, municipality_ids


def sync_bodies(db: Session) -> int:
    """Insert or update every directory body; bodies no longer listed become inactive.

    Ids are stable, so referrals keep pointing at the same body across directory edits.
    """
    listed: set[str] = set()
    for municipality in municipality_ids():
        for entry in load_municipality(municipality).bodies:
            listed.add(entry.id)
            body = db.get(Body, entry.id) or Body(id=entry.id)
            body.municipality = municipality
            body.name = entry.name
            body.kind = entry.kind
            body.areas = list(entry.areas)
            body.active = True
            db.add(body)
    for body in db.scalars(select(Body).where(Body.id.not_in(listed))):
        body.active = False
    return len(listed)
