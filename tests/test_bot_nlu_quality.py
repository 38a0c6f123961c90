"""The bot's intent model meets its quality target: 5-fold cross-validation intent macro
F1 of at least 0.90 (issue 4), measured by scripts/nlu-crossval on data/nlu with
config.yml, the urgent check left out (it is rules, not learning)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_intent_macro_f1_in_cross_validation(tmp_path: Path) -> None:
    if not (ROOT / ".venv-rasa" / "bin" / "rasa").exists():
        pytest.skip(".venv-rasa is absent (make bot-env builds it)")
    proc = subprocess.run(
        [str(ROOT / "scripts" / "nlu-crossval"), "--folds", "5", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    macro = float(re.search(r"intent macro F1:\s+([0-9.]+)", proc.stdout).group(1))
    assert macro >= 0.90, proc.stdout
    # every intent is learned, not only the big ones
    per_intent = dict(re.findall(r"^\s+(\w+)\s+f1=([0-9.]+)", proc.stdout, re.M))
    assert len(per_intent) >= 14
    assert min(float(f1) for f1 in per_intent.values()) >= 0.75, proc.stdout
