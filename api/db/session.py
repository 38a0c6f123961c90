"""The database engine and sessions: SQLite by default, PostgreSQL when the URL says so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import sqlalchemy.exc
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.settings import get_settings

SQLITE_WAIT_SECONDS = 30  # how long a writer waits for its turn before giving up


def storable(value: str) -> bool:
    """Whether the database can hold (or compare with) this string: no NUL, valid UTF-8.

    PostgreSQL refuses such a parameter with an error; no record can have it as its id.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if parsed.drivername == "postgresql":  # psycopg 3 is the driver we install
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": SQLITE_WAIT_SECONDS})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the driver, begin transactions (see _begin_immediate).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    # Nearly every transaction writes (an audit event at least). Taking SQLite's write lock
    # at BEGIN makes concurrent writers wait their turn instead of failing on upgrade. The
    # threads of this process queue on a lock first: SQLite's own busy wait polls with
    # sleeps of up to 100 ms, which lets newcomers overtake and makes the slowest request
    # wait close to a second under load. Other processes still meet SQLite's busy wait.
    turn = threading.Lock()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection) -> None:
        if not turn.acquire(timeout=SQLITE_WAIT_SECONDS):
            raise sqlalchemy.exc.OperationalError("BEGIN", None, TimeoutError("database busy"))
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            turn.release()
            raise
        connection.info["has_turn"] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(connection) -> None:
        if connection.info.pop("has_turn", False):
            turn.release()

    return engine


@cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


@cache
def _sessions(url: str) -> sessionmaker[Session]:
    return sessionmaker(engine_for(url), expire_on_commit=False)


def new_session() -> Session:
    return _sessions(get_settings().database_url)()


def get_db() -> Iterator[Session]:
    """FastAPI dependency: one session per request; uncommitted work is rolled back."""
    with new_session() as session:
        yield session
