"""The rule files themselves: every term can match its own words, ids are unique, and
every label a rule uses is produced somewhere."""

import re

import pytest
import yaml

from routing_rules.engine import _atomic_hits, rules_for
from routing_rules.rules import RULES_DIR
from routing_rules.scope import Marks
from routing_rules.text import normalize, tokenize
from routing_rules.yaml_data import DuplicateKeyError, read_yaml

RULE_FILES = ("concepts", "domains", "patterns", "urgency")


def _load(stem: str) -> dict:
    return yaml.safe_load((RULES_DIR / f"{stem}.yml").read_text(encoding="utf-8"))


VOCAB = {name: entry["words"] for name, entry in _load("vocab")["vocab"].items()}
SPECS = [spec for stem in RULE_FILES for spec in _load(stem)["rules"]]


def _examples(term: str) -> list[str]:
    """The plain words of a term (the first word of each vocabulary), with each gap closed
    and with each gap holding a particle: a gap is where a few words may stand."""
    text = re.sub(r"\{(\w+)\}", lambda m: VOCAB[m[1]][0], term).lstrip("=")
    return ["".join(text.replace("…", filler).split()) for filler in (" ", "も")]


def _fires(rule_id: str, text: str) -> bool:
    tokens, rules = tokenize(normalize(text)[0]), rules_for("atsuma")
    hits = _atomic_hits(tokens, rules, Marks(tokens, rules.scopes))
    return any(h.rule.id == rule_id for h in hits)


def test_every_term_matches_its_own_words():
    """A term that cannot match even its own words is a typo or a tokenization trap."""
    terms = [(spec["id"], term) for spec in SPECS for term in spec.get("terms", ())]
    assert len(terms) > 500
    broken = [
        (rid, term)
        for rid, term in terms
        if not any(_fires(rid, example + "。") for example in _examples(term))
    ]
    assert not broken, f"terms that never match: {broken}"


def test_rule_ids_are_unique():
    ids = [spec["id"] for spec in SPECS]
    assert len(ids) == len(set(ids))


def test_every_rule_says_what_it_is_for_in_japanese():
    for spec in SPECS:
        assert re.search(r"[ぁ-んァ-ン一-龥]", spec["description"]), spec["id"]


def test_every_label_a_composite_rule_reads_is_produced():
    produced = {label for spec in SPECS for label in _labels(spec)}
    produced |= {"person:elderly", "person:minor", "person:middle", "person:adult_child"}
    produced |= {"person:minor_subject", "person:minor_topic", "self:minor", "self:elderly"}
    for spec in SPECS:
        read = [*spec.get("all", ()), *spec.get("any", ()), *spec.get("none", ())]
        read += [label for group in spec.get("near", ()) for label in group]
        read += [label for group in spec.get("sequence", ()) for label in group]
        missing = [label for label in read if label not in produced]
        assert not missing, f"{spec['id']} reads labels nothing produces: {missing}"


def _labels(spec: dict) -> list[str]:
    labels = spec.get("labels") or spec.get("label")
    return [labels] if isinstance(labels, str) else list(labels)


def test_a_municipality_can_add_replace_and_disable_rules():
    from routing_rules.rules import compile_rules

    local = {
        "vocab": {"parent": ["おっかあ"]},
        "rules": [
            {
                "id": "local.test.word",
                "label": "poverty",
                "description": "テスト",
                "terms": ["ぴんち"],
            },
            {
                "id": "eld.dementia",
                "label": "elderly",
                "description": "差し替え",
                "terms": ["もうろく"],
            },
            {"id": "pat.isolation", "disabled": True},
        ],
    }
    rules = compile_rules(local, name="test")
    by_id = {rule.id: rule for rule in (*rules.atomic, *rules.composite)}
    assert "local.test.word" in by_id
    assert by_id["eld.dementia"].description == "差し替え"
    assert "pat.isolation" not in by_id
    assert rules.version != rules_for("atsuma").version


def test_no_cue_that_cancels_evidence_is_a_bare_verb():
    """A cue like 「手伝う」 alone would silence every word before it in its clause."""
    scopes = rules_for("atsuma").scopes
    words = yaml.safe_load((RULES_DIR / "negation.yml").read_text(encoding="utf-8"))
    for kind in ("mention_only", "mention_only_in_clause", "past_after"):
        for written, cue in zip(words[kind], getattr(scopes, kind), strict=True):
            tokens = tokenize(normalize(written.replace(" ", ""))[0])
            bare_verb = len(cue) == 1 and tokens and tokens[0].pos == "動詞"
            assert not bare_verb, f"{kind}: {written!r} is a bare verb"


def test_a_key_written_twice_in_a_rule_is_an_error_naming_its_line(tmp_path):
    # YAML alone keeps the last of two 「not_before:」 and silently drops the first.
    path = tmp_path / "urgency.yml"
    path.write_text(
        "rules:\n  - id: urg.x\n    not_before: [a]\n    terms: [b]\n    not_before: [c]\n",
        encoding="utf-8",
    )
    with pytest.raises(DuplicateKeyError, match=r"line 5: 「not_before」"):
        read_yaml(path)
