"""The tsunagu command: readable and JSON triage, JSON-lines batches, eval, bench."""

import json

import pytest
from typer.testing import CliRunner

import routing_rules
from api.cli import app
from routing_rules import triage
from routing_rules.result import LABEL_NAMES_JA, ROUTES

TEXT = "母が認知症で、50代の息子は仕事をやめてからずっと家にこもっています"


@pytest.fixture
def runner():
    return CliRunner()


def as_json(result) -> dict:
    return json.loads(json.dumps(result.to_dict()))


def test_triage_prints_a_readable_answer(runner):
    expected = triage(TEXT, "atsuma")
    out = runner.invoke(app, ["triage", TEXT, "--municipality", "atsuma"])
    assert out.exit_code == 0, out.output
    assert "振り分け先" in out.stdout
    assert LABEL_NAMES_JA[expected.route] in out.stdout
    assert expected.body.name in out.stdout
    assert expected.evidence, "the test text should give evidence"
    for ev in expected.evidence:
        assert ev.rule in out.stdout
        assert f"({ev.start}–{ev.end})" in out.stdout


def test_triage_json(runner):
    out = runner.invoke(app, ["triage", TEXT, "-m", "atsuma", "--area", "成田", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == as_json(triage(TEXT, "atsuma", "成田"))
    assert "成田" in out.stdout  # ensure_ascii=False: Japanese stays readable


def test_triage_unknown_municipality(runner):
    out = runner.invoke(app, ["triage", TEXT, "-m", "nowhere"])
    assert out.exit_code == 2
    assert "atsuma" in out.stderr


def test_triage_needs_text_or_jsonl(runner):
    assert runner.invoke(app, ["triage", "-m", "atsuma"]).exit_code == 2


def test_triage_jsonl_round_trips_ids_and_reports_bad_lines(runner, tmp_path):
    lines = [
        json.dumps({"id": "a", "text": TEXT}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "b"}),
        json.dumps({"id": "c", "text": "秘密の話", "municipality": "nowhere"}, ensure_ascii=False),
        "",
        json.dumps({"id": 7, "text": TEXT, "municipality": "tomiya"}, ensure_ascii=False),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = runner.invoke(app, ["triage", "--jsonl", str(path), "-m", "atsuma"])
    assert out.exit_code == 1
    written = [json.loads(line) for line in out.stdout.splitlines()]
    assert [w["id"] for w in written] == ["a", 7]
    assert written[0] == {"id": "a", **as_json(triage(TEXT, "atsuma"))}
    assert written[1]["municipality"] == "tomiya"
    for number in (2, 3, 4):
        assert f"line {number}:" in out.stderr
    assert "秘密" not in out.stderr


def test_triage_jsonl_all_good_exits_0(runner, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "x", "text": TEXT}, ensure_ascii=False), encoding="utf-8")
    out = runner.invoke(app, ["triage", "--jsonl", str(path), "-m", "atsuma"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["id"] == "x"


@pytest.fixture
def labelled(tmp_path):
    """Two rows: one labelled as the engine answers, one with route and urgent changed."""
    got = triage(TEXT, "atsuma")
    fields = {
        "domains": list(got.domains),
        "patterns": list(got.patterns),
        "compound": got.compound,
        "urgent": got.urgent,
        "route": got.route,
    }
    other_route = next(r for r in ROUTES if r != got.route)
    rows = [
        {"id": "r1", "text": TEXT, **fields},
        {"id": "r2", "text": TEXT, **fields, "route": other_route, "urgent": not got.urgent},
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path, got, other_route


def test_eval_prints_the_metrics_and_misses(runner, labelled):
    path, got, other_route = labelled
    out = runner.invoke(app, ["eval", str(path)], env={"COLUMNS": "120"})
    assert out.exit_code == 0, out.output
    for metric in (
        "route accuracy",
        "domain F1",
        "pattern F1",
        "compound F1",
        "urgent recall",
        "urgent precision",
    ):
        assert metric in out.stdout
    assert "0.500 (1/2)" in out.stdout
    assert "Misses: 1" in out.stdout
    assert "r2" in out.stdout
    assert f"route: expected {other_route}, got {got.route}" in out.stdout


def test_eval_json(runner, labelled):
    path, got, other_route = labelled
    out = runner.invoke(app, ["eval", str(path), "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["route_accuracy"] == 0.5
    assert report["compound"]["f1"] == 1.0
    [miss] = report["misses"]
    assert miss["id"] == "r2"
    assert set(miss["diffs"]) == {"route", "urgent"}
    assert miss["diffs"]["route"] == {"expected": other_route, "got": got.route}


def test_eval_bad_file_is_a_clear_error(runner, tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": "x"}\n', encoding="utf-8")
    out = runner.invoke(app, ["eval", str(path)])
    assert out.exit_code == 2
    assert "gold.jsonl:1" in out.stderr


def test_bench_triage_json(runner, tmp_path):
    path = tmp_path / "texts.jsonl"
    path.write_text(
        "\n".join(json.dumps({"id": i, "text": TEXT}, ensure_ascii=False) for i in range(3)),
        encoding="utf-8",
    )
    out = runner.invoke(app, ["bench", "triage", "--file", str(path), "--repeat", "2", "--json"])
    assert out.exit_code == 0, out.output
    figures = json.loads(out.stdout)
    assert (figures["texts"], figures["rounds"]) == (3, 2)
    assert figures["ratio"] > 0
    assert figures["ratio"] == pytest.approx(
        figures["triage_texts_per_s"] / figures["bare_texts_per_s"]
    )
    assert figures["engine"] == ("compiled (mypyc)" if routing_rules.COMPILED else "pure Python")
