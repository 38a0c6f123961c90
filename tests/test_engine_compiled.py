"""The engine compiled by mypyc (`make compile`) is the one in use, and it decides exactly
as the pure-Python sources do (routing_rules/compiled.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import routing_rules
from routing_rules import compiled, triage
from routing_rules.evaluation import load_labelled

ROOT = Path(__file__).parent.parent
CORPUS_FILES = sorted((ROOT / "tests" / "corpus").glob("*.jsonl"))
# Beyond the corpus: widths, kana, brackets, blank and very long text, odd characters.
EDGE_TEXTS = [
    "ｺﾄﾞﾓが学校に行けません",
    "にんちしょうの母（８５）と、働いていない息子(52)",
    "",
    "   \n\n",
    "死にたい\u3000もう無理。" * 400,
    "母 (81) の介護と、中2の息子の子育て",
    "ｶﾞｽが止められました\u0301",
]

_PURE = """
import json, sys
import routing_rules
assert not routing_rules.COMPILED
texts = json.load(sys.stdin)
print(json.dumps([routing_rules.triage(t, "atsuma").to_dict() for t in texts]))
"""


@pytest.mark.skipif(os.environ.get("TSUNAGU_PURE_PYTHON") == "1", reason="pure Python asked")
def test_the_compiled_modules_are_in_use() -> None:
    assert routing_rules.COMPILED, "no fresh mypyc build: run `make compile`"
    for name in compiled.MODULES:
        module = sys.modules[f"routing_rules.{name}"]
        assert Path(module.__file__).suffix == ".so", module.__file__


def test_a_stale_build_is_never_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stamp = tmp_path / "SOURCES"
    monkeypatch.setattr(compiled, "STAMP", stamp)
    stamp.write_text(compiled.source_digest())
    assert compiled.is_fresh()
    stamp.write_text("0" * 64)  # built from other sources
    assert not compiled.is_fresh()
    stamp.unlink()
    assert not compiled.is_fresh()
    assert not compiled.activate([])


def test_compiled_and_pure_python_decide_alike() -> None:
    texts = [row["text"] for path in CORPUS_FILES for row in load_labelled(path)] + EDGE_TEXTS
    pure = subprocess.run(
        [sys.executable, "-c", _PURE],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TSUNAGU_PURE_PYTHON": "1"},
    )
    assert pure.returncode == 0, pure.stderr
    expected = json.loads(pure.stdout)
    assert len(expected) == len(texts) > 1800
    for text, want in zip(texts, expected, strict=True):
        assert json.loads(json.dumps(triage(text, "atsuma").to_dict())) == want, text
