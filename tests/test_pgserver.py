"""The throwaway PostgreSQL server that tests and benchmarks start themselves."""

import os
import socket
from urllib.parse import urlsplit

import pytest
import sqlalchemy

from api import pgserver


def test_temporary_postgres_serves_and_cleans_up():
    with pgserver.temporary_postgres() as url:
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.connect() as conn:
                query = "SELECT version(), current_database(), "
                query += "current_setting('unix_socket_directories')"
                version, database, tmp = conn.execute(sqlalchemy.text(query)).one()
        finally:
            engine.dispose()
        assert os.path.isdir(tmp)  # the socket directory is the server's temp dir

    assert version.startswith("PostgreSQL")
    assert database == "tsunagu"
    host, port = urlsplit(url).hostname, urlsplit(url).port
    assert host == "127.0.0.1"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, port), timeout=2).close()
    assert not os.path.exists(tmp)


def test_missing_binaries_raise_not_found(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty dir: no initdb, no pg_ctl
    monkeypatch.setattr(pgserver, "DEBIAN_BIN_GLOB", str(tmp_path / "none" / "*" / "bin"))
    with pytest.raises(pgserver.PostgresNotFound, match="postgresql"):
        pgserver.temporary_postgres().__enter__()
