"""Several writers at once, as with several API processes: no duplicates, an unbroken chain."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal
from api.db.models import Consultation, Person
from api.db.session import engine_for
from api.services.intake import ConsultationIn, submit
from tests.intake import COMPOUND, ELDERLY, intake

BOT = Principal(id="token:test", role="bot", municipality="atsuma", username=None, body_id=None)


def _submit(url: str, body: dict, key: str | None) -> tuple[str, bool]:
    with Session(engine_for(url), expire_on_commit=False) as db:
        consultation, outcome = submit(db, BOT, ConsultationIn(**body), key)
        return consultation.id, outcome == "created"


def test_one_idempotency_key_creates_one_consultation(database_url, db):
    with ThreadPoolExecutor(6) as pool:
        results = list(
            pool.map(lambda _: _submit(database_url, intake(COMPOUND), "retry-1"), range(12))
        )
    assert len({cid for cid, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert db.scalar(select(func.count()).select_from(Consultation)) == 1


def test_first_messages_at_once_make_one_person(database_url, db):
    with ThreadPoolExecutor(6) as pool:
        list(
            pool.map(lambda _: _submit(database_url, intake(ELDERLY, user="U-new"), None), range(8))
        )
    assert db.scalar(select(func.count()).select_from(Person)) == 1
    assert db.scalar(select(func.count()).select_from(Consultation)) == 8


def test_the_audit_chain_stays_linear_under_concurrent_writes(database_url, db):
    texts = [intake(ELDERLY, user=f"U{i}") for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda body: _submit(database_url, body, None), texts))
    report = audit.verify(db)
    assert report.ok and report.events == 16 * 2
