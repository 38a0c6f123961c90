"""Triage throughput against bare SudachiPy tokenization, on the same texts in one run.

The baseline is the tokenizer alone: SplitMode.C over texts already NFKC-normalized (the
normalization is done before timing, so the baseline is as fast as it can be). Both sides
get a warm-up pass (rule loading, dictionary pages, caches) and are then timed in
alternating rounds, so drift in CPU frequency or load falls on both alike.
"""

from __future__ import annotations

import json
import os
import platform
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sudachipy import Dictionary, SplitMode

import routing_rules
from routing_rules import triage

# triage must reach this share of bare tokenization throughput (issue 2).
TARGET_RATIO = 0.40
DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus"


@dataclass(frozen=True, slots=True)
class BenchResult:
    texts: int
    chars: int
    rounds: int
    bare_seconds: float  # summed over the timed rounds
    triage_seconds: float
    python: str
    cpus: int
    compiled: bool  # the engine's mypyc build (routing_rules/compiled.py) or its sources

    def _per_second(self, amount: int, seconds: float) -> float:
        return amount * self.rounds / seconds if seconds else float("inf")

    @property
    def bare_texts_per_s(self) -> float:
        return self._per_second(self.texts, self.bare_seconds)

    @property
    def triage_texts_per_s(self) -> float:
        return self._per_second(self.texts, self.triage_seconds)

    @property
    def bare_chars_per_s(self) -> float:
        return self._per_second(self.chars, self.bare_seconds)

    @property
    def triage_chars_per_s(self) -> float:
        return self._per_second(self.chars, self.triage_seconds)

    @property
    def bare_us_per_text(self) -> float:
        return self.bare_seconds * 1e6 / (self.texts * self.rounds)

    @property
    def triage_us_per_text(self) -> float:
        return self.triage_seconds * 1e6 / (self.texts * self.rounds)

    @property
    def ratio(self) -> float:
        """triage throughput / bare tokenization throughput."""
        return self.bare_seconds / self.triage_seconds if self.triage_seconds else float("inf")

    def to_dict(self) -> dict[str, float | int | str]:
        return {
            "texts": self.texts,
            "chars": self.chars,
            "rounds": self.rounds,
            "bare_texts_per_s": self.bare_texts_per_s,
            "triage_texts_per_s": self.triage_texts_per_s,
            "bare_chars_per_s": self.bare_chars_per_s,
            "triage_chars_per_s": self.triage_chars_per_s,
            "bare_us_per_text": self.bare_us_per_text,
            "triage_us_per_text": self.triage_us_per_text,
            "ratio": self.ratio,
            "target_ratio": TARGET_RATIO,
            "python": self.python,
            "cpus": self.cpus,
            "engine": self.engine,
        }

    @property
    def engine(self) -> str:
        return engine_name(self.compiled)


def load_texts(paths: Iterable[Path]) -> list[str]:
    """The `text` of every line of the given JSON-lines files, in order."""
    texts = []
    for path in paths:
        with path.open(encoding="utf-8-sig") as lines:
            for line in lines:
                if line.strip():
                    texts.append(json.loads(line)["text"])
    return texts


def default_files() -> list[Path]:
    return sorted(DEFAULT_CORPUS.glob("*.jsonl"))


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def bare_pass(texts: Sequence[str]) -> Callable[[], int]:
    """One pass of bare tokenization over `texts` (NFKC-normalized here, outside the pass)."""
    tokenizer = Dictionary(dict="core").tokenizer()
    mode = SplitMode.C
    normalized = [unicodedata.normalize("NFKC", t) for t in texts]

    def bare() -> int:
        # len() makes SudachiPy hand over the whole morpheme list, as a real caller would.
        return sum(len(tokenizer.tokenize(t, mode)) for t in normalized)

    return bare


def triage_pass(
    texts: Sequence[str], municipality: str, area: str | None = None
) -> Callable[[], int]:
    """One pass of triage() over `texts`."""

    def full() -> int:
        return sum(len(triage(t, municipality, area).evidence) for t in texts)

    return full


def engine_name(compiled: bool) -> str:
    return "compiled (mypyc)" if compiled else "pure Python"


def run(
    texts: Sequence[str],
    municipality: str,
    area: str | None = None,
    rounds: int = 5,
    on_round: Callable[[int], None] | None = None,
) -> BenchResult:
    """Time `rounds` passes of each side over `texts`; on_round(i) after each round."""
    if not texts:
        raise ValueError("no texts to measure")
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    bare = bare_pass(texts)
    full = triage_pass(texts, municipality, area)
    bare()
    full()
    bare_seconds = triage_seconds = 0.0
    for i in range(rounds):
        if i % 2 == 0:
            bare_seconds += _timed(bare)
            triage_seconds += _timed(full)
        else:
            triage_seconds += _timed(full)
            bare_seconds += _timed(bare)
        if on_round:
            on_round(i)
    return BenchResult(
        texts=len(texts),
        chars=sum(len(t) for t in texts),
        rounds=rounds,
        bare_seconds=bare_seconds,
        triage_seconds=triage_seconds,
        python=platform.python_version(),
        cpus=os.cpu_count() or 1,
        compiled=routing_rules.COMPILED,
    )
