"""The `tsunagu` command: serve the API, triage texts, evaluate and benchmark the engine;
migrate the database, manage staff accounts and service tokens, verify the audit chain.

Staff read the triage answer, so it is in Japanese; the metrics are for developers.
Error messages never repeat a consultation text: a line is named by its number.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from routing_rules import TriageResult, UnknownMunicipality, municipality_ids, triage
from routing_rules.evaluation import Report, Score, evaluate, load_labelled
from routing_rules.result import LABEL_NAMES_JA

app = typer.Typer(
    help="tsunagu: triage and referral for 重層的支援体制整備事業.",
    no_args_is_help=True,
    add_completion=False,
)
bench_app = typer.Typer(help="Measure performance.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")

MunicipalityOpt = Annotated[
    str | None, typer.Option("--municipality", "-m", help="Municipality id, e.g. atsuma.")
]
AreaOpt = Annotated[str | None, typer.Option("--area", "-a", help="Catchment area, e.g. 成田.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a readable answer.")]


def _out() -> Console:
    # Made per command, not at import, so it binds to the stdout in use (tests swap it).
    return Console(highlight=False)


def _fail(message: str, code: int = 2) -> typer.Exit:
    Console(stderr=True, highlight=False).print(f"[red]error:[/] {escape(message)}")
    return typer.Exit(code)


def _name(label: str) -> str:
    return LABEL_NAMES_JA.get(label, label)


def _names(labels: Any) -> str:
    return "、".join(_name(x) for x in labels) or "なし"


def _unknown(municipality: str) -> str:
    return f"unknown municipality {municipality!r}; known: {', '.join(sorted(municipality_ids()))}"


def _write_json(data: Any) -> None:
    # Not through Rich: JSON must come out byte-exact, unwrapped and without markup.
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


# --- serve ---------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [default: settings]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: settings]")] = None,
) -> None:
    """Run the HTTP API (uvicorn)."""
    import uvicorn

    from api.db.migrate import upgrade
    from api.settings import get_settings

    settings = get_settings()
    upgrade()  # the schema is always current before the first request
    uvicorn.run("api.main:app", host=host or settings.host, port=port or settings.port)


@app.command()
def worker(
    threads: Annotated[int | None, typer.Option(help="Worker threads [default: settings]")] = None,
) -> None:
    """Run the channel worker and the outbox delivery (stops on SIGTERM or Ctrl-C). Any
    number may run beside the API processes: they share the work through the database."""
    import logging
    import signal
    import threading

    from api.channels import runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    stop = runtime.start(threads=threads)
    done.wait()
    stop()


@app.command()
def stub(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1")] = 9000,
) -> None:
    """Local stand-ins for the LINE and Twilio APIs and Rasa's REST channel, for tests and
    benchmarks (TSUNAGU_LINE_API_BASE, TSUNAGU_TWILIO_API_BASE, TSUNAGU_RASA_URL)."""
    import uvicorn

    uvicorn.run("api.channels.stubs:app", host="127.0.0.1", port=port, log_level="warning")


# --- triage --------------------------------------------------------------------------------


def print_result(console: Console, result: TriageResult) -> None:
    """The readable answer, in Japanese, with the evidence that decided it."""
    e = escape
    console.print(f"[bold]振り分け先:[/] {e(_name(result.route))} → {e(result.body.name)}")
    if result.involved:
        console.print(f"関係機関: {e('、'.join(b.name for b in result.involved))}")
    console.print(f"分野: {e(_names(result.domains))}")
    console.print(f"パターン: {e(_names(result.patterns))}")
    console.print(f"複合: {'はい' if result.compound else 'いいえ'}")
    if result.urgent:
        reasons = f"（{e(_names(result.urgent_reasons))}）" if result.urgent_reasons else ""
        console.print(f"[bold red]緊急: はい[/]{reasons}")
        for line in result.emergency:
            console.print(f"  ☎ {e(line.name)} {e(line.number)}")
    else:
        console.print("緊急: いいえ")
    place = f"{result.municipality}" + (f"（{result.area}）" if result.area else "")
    console.print(f"自治体: {e(place)}  ルール版: {e(result.rules_version)}")
    if not result.evidence:
        console.print("根拠: なし（総合相談へ）")
        return
    console.print("根拠:")
    for ev in result.evidence:
        console.print(
            f"  [cyan]{e(ev.rule)}[/] {e(_name(ev.label))} 「{e(ev.text)}」"
            f" ({ev.start}–{ev.end}) {e(ev.description)}",
            soft_wrap=True,
        )


def _triage_jsonl(path: Path, municipality: str | None, area: str | None) -> int:
    """Triage each line; report a bad line on stderr by number and go on. Returns failures."""
    err = Console(stderr=True, highlight=False)
    failures = 0
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                if not line.strip():
                    continue
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("a line must be a JSON object")
                if "id" not in row:
                    raise ValueError("missing field: id")
                if not isinstance(row.get("text"), str):
                    raise ValueError("missing field or not a string: text")
                where = row.get("municipality", municipality)
                if not where or not isinstance(where, str):
                    raise ValueError("no municipality: give --municipality or a string field")
                line_area = row.get("area", area)
                if line_area is not None and not isinstance(line_area, str):
                    raise ValueError("area must be a string")
                result = triage(row["text"], where, line_area or None)
            except UnicodeDecodeError:
                message = "not valid UTF-8"
            except json.JSONDecodeError as exc:
                message = f"not valid JSON ({exc.msg})"
            except UnknownMunicipality:
                message = _unknown(str(where))
            except ValueError as exc:
                message = str(exc)
            else:
                _write_json({"id": row["id"], **result.to_dict()})
                continue
            failures += 1
            err.print(f"[red]error:[/] {escape(str(path))} line {number}: {escape(message)}")
    return failures


@app.command("triage")
def triage_command(
    text: Annotated[str | None, typer.Argument(help="The consultation text.")] = None,
    municipality: MunicipalityOpt = None,
    area: AreaOpt = None,
    as_json: JsonOpt = False,
    jsonl: Annotated[
        Path | None,
        typer.Option(
            "--jsonl",
            help="Triage a JSON-lines file (id, text, optional municipality/area per line); "
            "writes one JSON line per input.",
        ),
    ] = None,
) -> None:
    """Triage one text, or every line of a JSON-lines file."""
    if (text is None) == (jsonl is None):
        raise _fail("give either a TEXT or --jsonl FILE")
    if jsonl is not None:
        if _triage_jsonl(jsonl, municipality, area):
            raise typer.Exit(1)
        return
    assert text is not None
    if not municipality:
        raise _fail("--municipality is required; known: " + ", ".join(sorted(municipality_ids())))
    try:
        result = triage(text, municipality, area)
    except UnknownMunicipality:
        raise _fail(_unknown(municipality)) from None
    if as_json:
        _write_json(result.to_dict())
    else:
        print_result(_out(), result)


# --- eval ----------------------------------------------------------------------------------


def _score_row(table: Table, name: str, score: Score) -> None:
    table.add_row(
        name,
        f"{score.precision:.3f}",
        f"{score.recall:.3f}",
        f"{score.f1:.3f}",
        str(score.support),
    )


def _score_table(title: str, scores: dict[str, Score], micro: Score) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("label", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, score in scores.items():
        _score_row(table, f"{label} {_name(label)}", score)
    _score_row(table, "micro", micro)
    return table


def print_report(console: Console, report: Report) -> None:
    summary = Table(title="Triage evaluation", title_justify="left", show_header=False)
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    summary.add_row("texts", str(report.total))
    summary.add_row(
        "route accuracy",
        f"{report.route_accuracy:.3f} ({report.route_correct}/{report.total})",
    )
    summary.add_row("domain F1 (micro)", f"{report.domains_micro.f1:.3f}")
    summary.add_row("pattern F1 (micro)", f"{report.patterns_micro.f1:.3f}")
    summary.add_row("compound F1", f"{report.compound.f1:.3f}")
    summary.add_row("urgent recall", f"{report.urgent.recall:.3f}")
    summary.add_row("urgent precision", f"{report.urgent.precision:.3f}")
    console.print(summary)
    console.print(_score_table("Domains", report.domains, report.domains_micro))
    console.print(_score_table("Patterns", report.patterns, report.patterns_micro))
    console.print(f"[bold]Misses: {len(report.misses)}[/]")
    for miss in report.misses:
        console.print(f"[cyan]{escape(miss.id)}[/] {escape(miss.text)}", soft_wrap=True)
        for key, (expected, got) in miss.diffs.items():
            console.print(f"    {key}: expected {escape(str(expected))}, got {escape(str(got))}")


@app.command("eval")
def eval_command(
    files: Annotated[list[Path], typer.Argument(help="Labelled JSON-lines file(s) (SPEC fields).")],
    municipality: Annotated[
        str, typer.Option("--municipality", "-m", help="Default when a line names none.")
    ] = "atsuma",
    as_json: JsonOpt = False,
) -> None:
    """Score the engine on labelled files: route accuracy, F1s, urgent recall, misses."""
    rows = []
    for file in files:
        try:
            rows += load_labelled(file)
        except OSError as exc:
            raise _fail(f"cannot read {file}: {exc.strerror}") from None
        except ValueError as exc:
            raise _fail(str(exc)) from None
    results = []
    for row in rows:
        where = row.get("municipality", municipality)
        try:
            results.append(triage(row["text"], where, row.get("area")))
        except UnknownMunicipality:
            raise _fail(f"row {row['id']}: {_unknown(where)}") from None
    report = evaluate(rows, results)
    if as_json:
        _write_json(report.to_dict())
    else:
        print_report(_out(), report)


# --- bench ---------------------------------------------------------------------------------


@bench_app.command("triage")
def bench_triage(
    file: Annotated[
        list[Path] | None,
        typer.Option("--file", "-f", help="JSON-lines file(s) [default: tests/corpus/*.jsonl]"),
    ] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Timed rounds of each side.")] = 5,
    municipality: Annotated[str, typer.Option("--municipality", "-m")] = "atsuma",
    area: AreaOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Triage throughput vs bare SudachiPy tokenization (target ratio >= 0.40)."""
    from rich.progress import Progress

    from api import bench

    files = file or bench.default_files()
    if not files:
        raise _fail(f"no corpus in {bench.DEFAULT_CORPUS}; give --file")
    try:
        texts = bench.load_texts(files)
    except (OSError, ValueError, KeyError) as exc:
        raise _fail(f"cannot read texts: {exc}") from None
    if municipality not in municipality_ids():
        raise _fail(_unknown(municipality))
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("measuring", total=repeat)
        result = bench.run(
            texts, municipality, area, rounds=repeat, on_round=lambda _: progress.advance(task)
        )
    if as_json:
        _write_json(result.to_dict())
        return
    table = Table(
        title=f"{result.texts} texts, {result.chars:,} chars, {result.rounds} rounds",
        title_justify="left",
    )
    table.add_column("")
    table.add_column("bare SudachiPy", justify="right")
    table.add_column("triage()", justify="right")
    table.add_row("texts/s", f"{result.bare_texts_per_s:,.0f}", f"{result.triage_texts_per_s:,.0f}")
    table.add_row("chars/s", f"{result.bare_chars_per_s:,.0f}", f"{result.triage_chars_per_s:,.0f}")
    table.add_row(
        "mean µs/text", f"{result.bare_us_per_text:,.1f}", f"{result.triage_us_per_text:,.1f}"
    )
    console = _out()
    console.print(table)
    verdict = "[green]meets[/]" if result.ratio >= bench.TARGET_RATIO else "[red]below[/]"
    console.print(
        f"ratio triage/bare: [bold]{result.ratio:.2f}[/] ({verdict} target {bench.TARGET_RATIO})"
    )
    console.print(f"Python {result.python}, {result.cpus} CPUs, engine {result.engine}")


@bench_app.command("channels")
def bench_channels(
    requests: Annotated[int, typer.Option(min=10, help="Webhooks per run.")] = 500,
    concurrency: Annotated[int, typer.Option(min=1, help="Concurrent senders.")] = 8,
    backend: Annotated[str, typer.Option(help="sqlite or postgresql (ignored with --url)")] = (
        "sqlite"
    ),
    url: Annotated[
        str | None, typer.Option(help="A running server's LINE webhook URL (else: start one)")
    ] = None,
    secret: Annotated[str | None, typer.Option(help="Its channel secret (with --url)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Signed LINE webhooks: acknowledgements per second and p50/p99 latency, with the bot
    fast and with the bot stalled (a server, stubs and a database of its own unless --url)."""
    from api.channels import bench

    if url:
        if not secret:
            raise _fail("--url needs --secret (the town's LINE channel secret)")
        runs = [bench.measure("as running", url, secret, requests, concurrency)]
    else:
        if backend not in ("sqlite", "postgresql"):
            raise _fail("--backend is sqlite or postgresql")
        runs = bench.run_local(backend, requests, concurrency)
    if as_json:
        _write_json([r.to_dict() | {"backend": backend} for r in runs])
        return
    table = Table(title=f"LINE webhook acknowledgements ({url or backend})")
    for column in ("bot", "requests", "concurrency", "failures", "acks/s", "p50 ms", "p99 ms"):
        table.add_column(column, justify="right")
    for run in runs:
        table.add_row(*(str(v) for v in run.to_dict().values()))
    _out().print(table)


@bench_app.command("intake")
def bench_intake(
    requests: Annotated[int, typer.Option(min=10, help="Consultations per backend.")] = 500,
    concurrency: Annotated[int, typer.Option(min=1, help="Client threads.")] = 4,
    municipality: Annotated[str, typer.Option("--municipality", "-m")] = "atsuma",
    as_json: JsonOpt = False,
) -> None:
    """Consultations created per second and p50/p99 latency, SQLite and PostgreSQL."""
    from rich.progress import Progress

    from api import bench, bench_intake

    if municipality not in municipality_ids():
        raise _fail(_unknown(municipality))
    corpus = bench.load_texts(bench.default_files())
    texts = [corpus[i % len(corpus)] for i in range(requests)]
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("posting consultations", total=2 * (requests + 1))
        results = bench_intake.run_both(
            texts,
            municipality=municipality,
            concurrency=concurrency,
            on_done=lambda: progress.advance(task),
        )
    if as_json:
        _write_json([r.to_dict() for r in results])
        return
    table = Table(
        title=f"POST /api/v1/consultations over HTTP, {requests} per backend, "
        f"{concurrency} clients, one uvicorn process",
        title_justify="left",
    )
    for column in ("backend", "consultations/s", "p50 ms", "p99 ms", "failures"):
        table.add_column(column, justify="left" if column == "backend" else "right")
    for r in results:
        table.add_row(
            r.backend,
            f"{r.per_second:,.1f}",
            f"{r.percentile(50):,.1f}",
            f"{r.percentile(99):,.1f}",
            str(r.failures),
        )
    console = _out()
    console.print(table)
    console.print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs")


# --- database, accounts, tokens, audit -------------------------------------------------------
# Only `db upgrade` (and `serve`) migrate; the other commands refuse a database whose schema
# is missing or behind, so a typo in TSUNAGU_DATABASE_URL never creates an empty database.

db_app = typer.Typer(help="The database: apply the migrations.", no_args_is_help=True)
users_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="Service tokens (the bot's).", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")

UPGRADE_HINT = "run tsunagu db upgrade"


def _err() -> Console:
    return Console(stderr=True, highlight=False)


def _cli_actor(municipality: str | None) -> Any:
    """Who acts from the command line: the operating-system user, with admin powers."""
    import getpass

    from api.audit import Actor

    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers)
        name = "unknown"
    return Actor(f"cli:{name}"[:64], "admin", municipality)


@contextmanager
def _database() -> Iterator[Any]:
    """A session on the configured database; account errors become clear exits (code 2)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from api.accounts import AccountError
    from api.db.migrate import alembic_config
    from api.db.session import engine_for
    from api.settings import get_settings

    url = get_settings().database_url
    parsed = make_url(url)
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file and file != ":memory:" and not Path(file).exists():
        # Connecting would create an empty file.
        raise _fail(f"no database at {file}; {UPGRADE_HINT}")
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        # The URL may hold a password: name the failure, not the address.
        raise _fail(f"cannot reach the database ({type(exc).__name__})") from None
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    if current is None:
        raise _fail(f"the database has no schema; {UPGRADE_HINT}")
    if current != head:
        raise _fail(f"the database schema is at {current}, not {head}; {UPGRADE_HINT}")
    with Session(engine, expire_on_commit=False) as db:
        try:
            yield db
        except AccountError as exc:
            db.rollback()
            raise _fail(exc.message) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations and sync the bodies from the municipality directories."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import func, select
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from api.db.migrate import upgrade
    from api.db.models import Body
    from api.db.session import engine_for
    from api.settings import get_settings

    url = get_settings().database_url
    try:
        upgrade(url)
        with engine_for(url).connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
        with Session(engine_for(url)) as db:
            bodies = db.scalar(select(func.count()).select_from(Body).where(Body.active))
    except SQLAlchemyError as exc:
        raise _fail(f"cannot upgrade the database ({type(exc).__name__})") from None
    _out().print(f"database at revision {revision}; {bodies} active bodies from the directories")


def _read_password(from_stdin: bool) -> str:
    if not from_stdin:
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    raw = sys.stdin.read()
    # `echo pw | tsunagu …` adds one newline; any other character is part of the password.
    for ending in ("\r\n", "\n"):
        if raw.endswith(ending):
            return raw[: -len(ending)]
    return raw


UsernameOpt = Annotated[str, typer.Option("--username", "-u", help="The sign-in name.")]
RoleOpt = Annotated[
    str, typer.Option("--role", "-r", help="admin, coordinator, body_staff, outreach.")
]
BodyOpt = Annotated[
    str | None, typer.Option("--body", "-b", help="Body id, e.g. atsuma-houkatsu (body_staff).")
]


@users_app.command("add")
def users_add(
    username: UsernameOpt,
    role: RoleOpt,
    municipality: Annotated[str, typer.Option("--municipality", "-m", help="e.g. atsuma.")],
    body: BodyOpt = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    display_name: Annotated[str | None, typer.Option(help="The name staff see.")] = None,
) -> None:
    """Add a staff user (Argon2-hashed password, at least 12 characters)."""
    from api import accounts

    with _database() as db:
        password = _read_password(password_stdin)
        user = accounts.create_user(
            db,
            _cli_actor(municipality),
            username=username,
            password=password,
            role=role,
            municipality=municipality,
            body_id=body,
            display_name=display_name,
        )
        db.commit()
    where = municipality + (f", {body}" if body else "")
    _out().print(f"added {escape(username)} ({role}, {escape(where)}), id {user.id}")


@users_app.command("remove")
def users_remove(username: UsernameOpt) -> None:
    """Deactivate a user and revoke their tokens at once (the record stays for the audit)."""
    from api import accounts

    with _database() as db:
        user = accounts.find_user(db, username)
        revoked = accounts.deactivate_user(db, _cli_actor(user.municipality), user)
        db.commit()
    _out().print(f"deactivated {escape(username)}; {revoked} token(s) revoked")


@users_app.command("set-role")
def users_set_role(username: UsernameOpt, role: RoleOpt, body: BodyOpt = None) -> None:
    """Change a user's role; the tokens issued under the old role stop working at once."""
    from api import accounts

    with _database() as db:
        user = accounts.find_user(db, username)
        old = user.role
        accounts.update_user(
            db,
            _cli_actor(user.municipality),
            user,
            role=role,
            body_id=body if body is not None else accounts.KEEP,
        )
        db.commit()
    body_note = f", body {escape(user.body_id)}" if user.body_id else ""
    _out().print(f"{escape(username)}: {old} -> {user.role}{body_note}")


@tokens_app.command("create")
def tokens_create(
    municipality: Annotated[str, typer.Option("--municipality", "-m", help="e.g. atsuma.")],
    role: Annotated[str, typer.Option("--role", "-r", help="The service role.")] = "bot",
    days: Annotated[
        int | None, typer.Option(min=1, help="Lifetime in days [default: settings, 365].")
    ] = None,
    label: Annotated[str | None, typer.Option(help="A name to find and revoke it by.")] = None,
) -> None:
    """Print a new service token: the token alone on standard output, notes on stderr."""
    from api import accounts

    with _database() as db:
        token, record = accounts.create_service_token(
            db,
            _cli_actor(municipality),
            role=role,
            municipality=municipality,
            days=days,
            label=label,
        )
        db.commit()
    sys.stdout.write(token + "\n")
    named = f" labelled {escape(label)}" if label else ""
    _err().print(
        f"token {record.id} ({role}, {municipality}){named}, "
        f"expires {record.expires_at:%Y-%m-%d %H:%M} UTC; it is shown only once"
    )


@tokens_app.command("revoke")
def tokens_revoke(
    label: Annotated[
        str | None, typer.Option(help="Revoke every live token with this label.")
    ] = None,
    token_id: Annotated[
        str | None, typer.Option("--id", help="Revoke the token with this id.")
    ] = None,
) -> None:
    """Revoke service tokens by label, or one token by id; effective on the next request."""
    from api import accounts

    if (label is None) == (token_id is None):
        raise _fail("give --label or --id")
    with _database() as db:
        # The audit event is filed under the token's own municipality (set per event).
        revoked = accounts.revoke_tokens(db, _cli_actor(None), label=label, token_id=token_id)
        db.commit()
    _out().print(f"revoked {len(revoked)} token(s): {', '.join(t.id for t in revoked)}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 naming the first event that does not verify."""
    from api.audit import verify

    with _database() as db:
        report = verify(db)
    if report.ok:
        _out().print(f"audit chain intact: {report.events} events")
        return
    _err().print(
        f"[red]audit chain broken[/] at seq {report.broken_at} "
        f"({report.events} events before it verify)"
    )
    raise typer.Exit(1)


if __name__ == "__main__":  # `python -m api.cli`: how an API process starts its worker
    app()
