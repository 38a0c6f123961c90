"""Fixtures for tests that need the database: each runs on SQLite and on PostgreSQL.

PostgreSQL is a real server started for the session (api.pgserver); every test starts
from empty tables with the directory's bodies loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.db.migrate import upgrade
from api.db.models import Base, StaffUser
from api.db.session import engine_for
from api.pgserver import temporary_postgres
from api.security import hash_password, issue_token
from api.services.directory import sync_bodies
from api.settings import get_settings

PASSWORD = "correct horse battery staple"
PASSWORD_HASH = hash_password(PASSWORD)  # Argon2 is slow on purpose: hash once per session


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    with temporary_postgres() as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_url(request: pytest.FixtureRequest, tmp_path_factory) -> str:
    """A database with the migrations applied, once per backend per test session."""
    if request.param == "sqlite":
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'tsunagu.db'}"
    else:
        url = request.getfixturevalue("postgres_server")
    upgrade(url)
    return url


def _empty(url: str) -> None:
    engine = engine_for(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
    with Session(engine) as db:
        sync_bodies(db)
        db.commit()


@pytest.fixture
def database_url(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """This test's database (empty tables, bodies loaded), made the app's own."""
    _empty(migrated_url)
    monkeypatch.setenv("TSUNAGU_DATABASE_URL", migrated_url)
    # Tests drive the channel worker themselves (tests/test_channels_*.py).
    monkeypatch.setenv("TSUNAGU_CHANNEL_WORKER", "false")
    get_settings.cache_clear()
    yield migrated_url
    get_settings.cache_clear()


@pytest.fixture
def db(database_url: str) -> Iterator[Session]:
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    from api.main import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


Auth = dict[str, str]


@pytest.fixture
def staff(db: Session) -> Callable[..., Auth]:
    """staff(role, municipality, body=None) -> the Authorization header of a new user."""
    count = 0

    def make(role: str, municipality: str = "atsuma", body: str | None = None) -> Auth:
        nonlocal count
        count += 1
        user = StaffUser(
            username=f"{role}-{municipality}-{count}",
            password_hash=PASSWORD_HASH,
            role=role,
            municipality=municipality,
            body_id=body,
        )
        db.add(user)
        db.flush()
        token, _ = issue_token(db, role=role, municipality=municipality, user=user)
        db.commit()
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def bot(db: Session) -> Callable[[str], Auth]:
    """bot(municipality) -> the Authorization header of a bot service token."""

    def make(municipality: str = "atsuma") -> Auth:
        token, _ = issue_token(db, role="bot", municipality=municipality, label="test bot")
        db.commit()
        return {"Authorization": f"Bearer {token}"}

    return make
