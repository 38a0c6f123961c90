"""The `tsunagu` command: serve the API, triage texts, evaluate and benchmark the engine.

Staff read the triage answer, so it is in Japanese; the metrics are for developers.
Error messages never repeat a consultation text: a line is named by its number.
"""

from __future__ import annotations

import json
import sys
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

    from api.settings import get_settings

    from api.db.migrate import upgrade

    settings = get_settings()
    upgrade()  # the schema is always current before the first request
    uvicorn.run("api.main:app", host=host or settings.host, port=port or settings.port)


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
    console.print(f"Python {result.python}, {result.cpus} CPUs")
