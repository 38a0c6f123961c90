"""Scoring triage results against a labelled corpus (SPEC fields), for `tsunagu eval` and tests.

Pure functions: the caller runs triage and prints. Where a ratio has an empty denominator
(nothing predicted, or nothing to find) it counts as 1.0, because nothing was got wrong;
F1 is 2tp / (2tp + fp + fn), which agrees with the harmonic mean wherever that is defined.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routing_rules.result import DOMAINS, PATTERNS, TriageResult

# The fields a labelled row carries and a result is compared on, in display order.
FIELDS = ("route", "domains", "patterns", "compound", "urgent")
_SET_FIELDS = frozenset({"domains", "patterns"})


@dataclass(frozen=True, slots=True)
class Score:
    """Counts for one binary decision or one label; the ratios derive from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else 1.0

    @property
    def support(self) -> int:
        """How many rows the gold labels mark positive."""
        return self.tp + self.fn

    def __add__(self, other: Score) -> Score:
        return Score(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def to_dict(self) -> dict[str, float | int]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "support": self.support,
        }


@dataclass(frozen=True, slots=True)
class Miss:
    """A row where at least one field differs: field -> (expected, got)."""

    id: str
    text: str
    diffs: dict[str, tuple[Any, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "diffs": {k: {"expected": e, "got": g} for k, (e, g) in self.diffs.items()},
        }


@dataclass(frozen=True, slots=True)
class Report:
    total: int
    route_correct: int
    domains: dict[str, Score]
    patterns: dict[str, Score]
    compound: Score
    urgent: Score
    misses: tuple[Miss, ...] = field(default=())

    @property
    def route_accuracy(self) -> float:
        return self.route_correct / self.total if self.total else 1.0

    @property
    def domains_micro(self) -> Score:
        return sum(self.domains.values(), Score())

    @property
    def patterns_micro(self) -> Score:
        return sum(self.patterns.values(), Score())

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "route_accuracy": self.route_accuracy,
            "route_correct": self.route_correct,
            "domains": {k: v.to_dict() for k, v in self.domains.items()},
            "domains_micro": self.domains_micro.to_dict(),
            "patterns": {k: v.to_dict() for k, v in self.patterns.items()},
            "patterns_micro": self.patterns_micro.to_dict(),
            "compound": self.compound.to_dict(),
            "urgent": self.urgent.to_dict(),
            "misses": [m.to_dict() for m in self.misses],
        }


def load_labelled(path: str | Path) -> list[dict[str, Any]]:
    """Read a labelled JSON-lines file; blank lines are skipped, a bad line raises ValueError."""
    rows: list[dict[str, Any]] = []
    with Path(path).open(encoding="utf-8-sig") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            problem = _row_problem(row)
            if problem:
                raise ValueError(f"{path}:{number}: {problem}")
            rows.append(row)
    return rows


def _row_problem(row: Any) -> str | None:
    if not isinstance(row, dict):
        return "a line must be a JSON object"
    missing = [k for k in ("id", "text", *FIELDS) if k not in row]
    if missing:
        return f"missing field(s): {', '.join(missing)}"
    if not isinstance(row["text"], str):
        return "text must be a string"
    for key in _SET_FIELDS:
        if not isinstance(row[key], list):
            return f"{key} must be a list"
    for key in ("compound", "urgent"):
        if not isinstance(row[key], bool):
            return f"{key} must be true or false"
    return None


def _as_dict(result: TriageResult | Mapping[str, Any]) -> Mapping[str, Any]:
    return result.to_dict() if isinstance(result, TriageResult) else result


def _value(record: Mapping[str, Any], key: str) -> Any:
    # Sets compare without order; shown sorted so a miss reads the same every run.
    return sorted(record[key]) if key in _SET_FIELDS else record[key]


def _binary(gold: bool, got: bool) -> Score:
    return Score(tp=int(gold and got), fp=int(got and not gold), fn=int(gold and not got))


def _label_scores(
    gold: Sequence[set[str]], got: Sequence[set[str]], known: Sequence[str]
) -> dict[str, Score]:
    labels = list(known) + sorted(set().union(*gold, *got) - set(known))
    scores = {}
    for label in labels:
        total = Score()
        for g, p in zip(gold, got, strict=True):
            total += _binary(label in g, label in p)
        scores[label] = total
    return scores


def misses(
    rows: Sequence[Mapping[str, Any]], results: Sequence[TriageResult | Mapping[str, Any]]
) -> list[Miss]:
    """The rows whose result differs from the labels in any of FIELDS, in input order."""
    found = []
    for row, result in zip(rows, results, strict=True):
        got = _as_dict(result)
        diffs = {}
        for key in FIELDS:
            expected, actual = _value(row, key), _value(got, key)
            if expected != actual:
                diffs[key] = (expected, actual)
        if diffs:
            found.append(Miss(id=str(row["id"]), text=row["text"], diffs=diffs))
    return found


def evaluate(
    rows: Sequence[Mapping[str, Any]], results: Sequence[TriageResult | Mapping[str, Any]]
) -> Report:
    """Score results (TriageResult or its to_dict()) against rows, matched by position."""
    if len(rows) != len(results):
        raise ValueError(f"{len(rows)} labelled rows but {len(results)} results")
    got = [_as_dict(r) for r in results]
    compound = Score()
    urgent = Score()
    for row, res in zip(rows, got, strict=True):
        compound += _binary(bool(row["compound"]), bool(res["compound"]))
        urgent += _binary(bool(row["urgent"]), bool(res["urgent"]))
    return Report(
        total=len(rows),
        route_correct=sum(row["route"] == res["route"] for row, res in zip(rows, got, strict=True)),
        domains=_label_scores(
            [set(r["domains"]) for r in rows], [set(r["domains"]) for r in got], DOMAINS
        ),
        patterns=_label_scores(
            [set(r["patterns"]) for r in rows], [set(r["patterns"]) for r in got], PATTERNS
        ),
        compound=compound,
        urgent=urgent,
        misses=tuple(misses(rows, got)),
    )
