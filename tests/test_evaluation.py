"""Metrics of routing_rules.evaluation on hand-made rows whose values are known."""

import json

import pytest

from routing_rules.evaluation import Score, evaluate, load_labelled, misses
from routing_rules.result import BodyRef, Evidence, TriageResult


def row(id_, route, domains, patterns, compound, urgent, text="相談"):
    return {
        "id": id_,
        "text": text,
        "route": route,
        "domains": domains,
        "patterns": patterns,
        "compound": compound,
        "urgent": urgent,
    }


GOLD = [
    row("r1", "coordinator", ["elderly", "disability"], ["8050"], True, True),
    row("r2", "coordinator", ["child"], [], True, False),
    row("r3", "general", [], [], False, False),
]
GOT = [
    row("r1", "elderly", ["elderly"], ["hikikomori", "8050"], True, True),
    row("r2", "child", ["poverty", "child"], [], False, True),
    row("r3", "general", [], [], False, False),
]


@pytest.fixture(scope="module")
def report():
    return evaluate(GOLD, GOT)


def test_route_accuracy(report):
    assert report.total == 3
    assert report.route_correct == 1
    assert report.route_accuracy == pytest.approx(1 / 3)


def test_domain_scores_per_label_and_micro(report):
    assert report.domains["elderly"] == Score(tp=1)
    assert report.domains["disability"] == Score(fn=1)
    assert report.domains["child"] == Score(tp=1)
    assert report.domains["poverty"] == Score(fp=1)
    micro = report.domains_micro
    assert (micro.tp, micro.fp, micro.fn) == (2, 1, 1)
    assert micro.precision == pytest.approx(2 / 3)
    assert micro.recall == pytest.approx(2 / 3)
    assert micro.f1 == pytest.approx(2 / 3)


def test_pattern_scores(report):
    assert report.patterns["8050"].f1 == 1.0
    hikikomori = report.patterns["hikikomori"]
    assert (hikikomori.precision, hikikomori.f1) == (0.0, 0.0)
    assert report.patterns_micro.f1 == pytest.approx(2 / 3)
    # Every SPEC pattern is listed even when nobody used it, and then nothing was wrong.
    assert report.patterns["dv"] == Score()
    assert report.patterns["dv"].f1 == 1.0
    assert report.patterns["dv"].support == 0


def test_compound_f1_counts_true_as_positive(report):
    assert report.compound == Score(tp=1, fp=0, fn=1)
    assert report.compound.precision == 1.0
    assert report.compound.recall == 0.5
    assert report.compound.f1 == pytest.approx(2 / 3)


def test_urgent_recall_and_precision(report):
    assert report.urgent.recall == 1.0
    assert report.urgent.precision == 0.5


def test_misses_list_each_differing_field(report):
    assert [m.id for m in report.misses] == ["r1", "r2"]
    first, second = report.misses
    assert first.diffs == {
        "route": ("coordinator", "elderly"),
        "domains": (["disability", "elderly"], ["elderly"]),
        "patterns": (["8050"], ["8050", "hikikomori"]),
    }
    assert set(second.diffs) == {"route", "domains", "compound", "urgent"}
    assert second.diffs["urgent"] == (False, True)
    assert misses(GOLD, GOT) == list(report.misses)


def test_report_to_dict_is_json_ready(report):
    data = json.loads(json.dumps(report.to_dict()))
    assert data["route_accuracy"] == pytest.approx(1 / 3)
    assert data["domains_micro"]["f1"] == pytest.approx(2 / 3)
    assert data["misses"][0]["diffs"]["route"] == {"expected": "coordinator", "got": "elderly"}


def test_score_with_nothing_to_find_or_claim():
    assert Score(fn=2).precision == 1.0  # nothing claimed, nothing claimed wrongly
    assert Score(fn=2).recall == 0.0
    assert Score(fn=2).f1 == 0.0
    assert Score(fp=1).recall == 1.0
    assert Score(tp=3, fp=1).f1 == pytest.approx(6 / 7)


def test_accepts_triage_results():
    result = TriageResult(
        domains=("elderly",),
        patterns=(),
        compound=False,
        urgent=False,
        route="elderly",
        body=BodyRef("atsuma-houkatsu", "地域包括支援センター"),
        involved=(),
        emergency=(),
        evidence=(Evidence("e1", "elderly", "認知症", "認知症", 2, 5),),
        urgent_reasons=(),
        municipality="atsuma",
        area=None,
        rules_version="test",
    )
    gold = row("x", "elderly", ["elderly"], [], False, False)
    report = evaluate([gold], [result])
    assert report.route_accuracy == 1.0
    assert report.misses == ()


def test_empty_corpus_and_length_mismatch():
    assert evaluate([], []).total == 0
    with pytest.raises(ValueError, match="2 labelled rows but 1 results"):
        evaluate(GOLD[:2], GOT[:1])


def test_load_labelled(tmp_path):
    path = tmp_path / "gold.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in GOLD]
    path.write_text(lines[0] + "\n\n" + lines[1] + "\n", encoding="utf-8")
    assert [r["id"] for r in load_labelled(path)] == ["r1", "r2"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "JSON object"),
        ('{"id": "x", "text": "t"}', "missing field"),
        (
            '{"id": "x", "text": "t", "route": "general", "domains": "elderly",'
            ' "patterns": [], "compound": false, "urgent": false}',
            "domains must be a list",
        ),
    ],
)
def test_load_labelled_names_the_bad_line(tmp_path, line, problem):
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(GOLD[0]) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"gold\.jsonl:2: .*{problem}"):
        load_labelled(path)
