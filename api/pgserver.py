"""A throwaway PostgreSQL server for tests and benchmarks.

`temporary_postgres()` creates a cluster in a temp dir, starts it on a free port on
127.0.0.1, yields a SQLAlchemy URL for the database `tsunagu`, and stops and deletes
everything on exit. It needs only the PostgreSQL server binaries (Debian's `postgresql`
package; `make test` installs it via scripts/install-system-deps), not a running service.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg

# Debian installs the server binaries here, off the PATH (only the client wrappers are on it).
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
DATABASE = "tsunagu"
SUPERUSER = "postgres"
# initdb and postgres refuse to run as root; as root we run them as this system user.
SYSTEM_USER = "postgres"
LOG_TAIL_LINES = 30


class PostgresNotFound(RuntimeError):
    """The PostgreSQL server binaries (initdb, pg_ctl) are not installed."""


def find_postgres_bin() -> tuple[str, str]:
    """Paths of initdb and pg_ctl: from PATH, else the newest /usr/lib/postgresql/*/bin."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return initdb, pg_ctl

    def version(bindir: str) -> tuple[int, ...]:
        # Sort "9.6" < "15" numerically, not as strings.
        name = Path(bindir).parent.name
        return tuple(int(part) for part in re.findall(r"\d+", name))

    for bindir in sorted(glob.glob(DEBIAN_BIN_GLOB), key=version, reverse=True):
        initdb, pg_ctl = os.path.join(bindir, "initdb"), os.path.join(bindir, "pg_ctl")
        if os.access(initdb, os.X_OK) and os.access(pg_ctl, os.X_OK):
            return initdb, pg_ctl
    raise PostgresNotFound(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in "
        f"{DEBIAN_BIN_GLOB}: install Debian's `postgresql` package "
        "(apt-get install postgresql), or run `make test`, which installs it."
    )


def _free_port() -> int:
    # The kernel picks a free port; there is a small window before postgres binds it, which
    # is acceptable for tests.
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(cmd: list[str], prefix: list[str], cwd: str) -> subprocess.CompletedProcess[str]:
    # cwd is the temp dir: as the postgres user, the caller's cwd (e.g. /root) may be
    # unreadable, and initdb/pg_ctl fail on that.
    return subprocess.run(prefix + cmd, cwd=cwd, capture_output=True, text=True, check=False)


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no server log: {exc})"


@contextmanager
def temporary_postgres() -> Iterator[str]:
    """Run a private PostgreSQL server; yield `postgresql+psycopg://...` for database tsunagu.

    The server listens only on 127.0.0.1 (a free port) and on a socket in its temp dir, trusts
    every local connection, and is tuned for speed, not durability. On exit it is stopped
    (fast mode) and its temp dir removed, also when the body raised.
    """
    initdb, pg_ctl = find_postgres_bin()

    prefix: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise RuntimeError(
                f"running as root, but there is no `{SYSTEM_USER}` system user to run "
                "PostgreSQL as (initdb refuses root). Debian's `postgresql` package creates "
                "it; install that, or run as a non-root user."
            ) from None
        prefix = ["runuser", "-u", SYSTEM_USER, "--"]

    tmp = tempfile.mkdtemp(prefix="tsunagu-pg-")
    try:
        if owner is not None:
            os.chown(tmp, owner.pw_uid, owner.pw_gid)
        data, log = Path(tmp) / "data", Path(tmp) / "server.log"
        port = _free_port()

        # --no-sync: skip fsyncing the new cluster to disk, for the same reason as fsync=off below.
        base = [initdb, "-D", str(data), "--no-sync", "-A", "trust", "-U", SUPERUSER, "-E", "UTF8"]
        done = _run([*base, "--locale=C.UTF-8"], prefix, tmp)
        if done.returncode != 0:
            # Some systems lack the C.UTF-8 locale; UTF8 with the plain C locale always works.
            # initdb removes the data dir it created when it fails, so we can simply retry.
            shutil.rmtree(data, ignore_errors=True)
            done = _run([*base, "--no-locale"], prefix, tmp)
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}{done.stderr}")

        # Appended settings override initdb's defaults (the last occurrence wins).
        # fsync, synchronous_commit and full_page_writes off: a test cluster is thrown away,
        # so crash safety is worthless and skipping it makes commits much faster.
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(port),
            "unix_socket_directories": f"'{tmp}'",
            "max_connections": "100",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\n# tsunagu temporary_postgres\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

        try:
            done = _run([pg_ctl, "-D", str(data), "-l", str(log), "-w", "start"], prefix, tmp)
            if done.returncode != 0:
                raise RuntimeError(
                    f"pg_ctl start failed:\n{done.stdout}{done.stderr}\n"
                    f"last lines of {log}:\n{_tail(log)}"
                )
            dsn = f"host=127.0.0.1 port={port} user={SUPERUSER} dbname=postgres"
            # CREATE DATABASE cannot run inside a transaction, hence autocommit.
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {DATABASE}")
            yield f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"
        finally:
            # Always try: harmless if the server never started, and it must not outlive us.
            _run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], prefix, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
