"""Several writers at once, as with several API processes: no duplicates, an unbroken chain."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal
from api.db.models import Consent, Consultation, Person, Referral
from api.db.session import engine_for
from api.services.intake import ConsultationIn, Outcome, submit
from tests.intake import COMPOUND, ELDERLY, intake
from tests.rows import count

BOT = Principal(id="token:test", role="bot", municipality="atsuma", username=None, body_id=None)


def _submit(url: str, body: dict, key: str | None) -> tuple[str, Outcome]:
    with Session(engine_for(url), expire_on_commit=False) as db:
        consultation, outcome = submit(db, BOT, ConsultationIn(**body), key)
        return consultation.id, outcome


def test_one_idempotency_key_creates_one_consultation(database_url, db):
    with ThreadPoolExecutor(6) as pool:
        results = list(
            pool.map(lambda _: _submit(database_url, intake(COMPOUND), "retry-1"), range(12))
        )
    assert len({cid for cid, _ in results}) == 1
    assert sum(outcome == "created" for _, outcome in results) == 1
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


def test_a_completion_retried_while_it_runs_completes_once(database_url, db):
    """The bot retries a completion that timed out with the same key, while the first is
    still running: one completion, the rest replays; one consent answer, no second referral."""
    danger, rest = "もう死にたいです", "仕事をなくして家賃が払えません"
    urgent, _ = _submit(database_url, intake(danger, user="U-danger", consent=False), "urgent-1")
    rest = intake(None, user="U-danger", texts=[danger, rest], completes=urgent)
    with ThreadPoolExecutor(6) as pool:
        done = pool.map(lambda _: _submit(database_url, rest, "complete-1"), range(12))
        results = [outcome for _, outcome in done]
    assert sorted(set(results)) == ["completed", "replayed"]
    assert results.count("completed") == 1
    assert count(db, Consent) == 2  # the urgent intake's "not asked", then the answer
    assert count(db, Referral) == 2  # the urgent referral, then the body of the fuller picture
