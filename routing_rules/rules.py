"""Loading the rules: YAML written for welfare officers, compiled once for the engine.

Term syntax (see rules/README.md): a term is plain Japanese. `{name}` stands for any
word of the vocabulary list `name`; `…` allows a short gap inside one clause
(「お金 … 困る」 matches 「お金のことで困ってる」).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from dataclasses import dataclass, field

from routing_rules.compiled import PACKAGE_DIR
from routing_rules.lexicon import PhraseIndex
from routing_rules.text import tokenize, tokenize_term
from routing_rules.yaml_data import read_yaml

RULES_DIR = PACKAGE_DIR / "rules"
_VOCAB_REF = re.compile(r"\{(\w+)\}")
_GAP = "…"


class RuleError(ValueError):
    """A rule file that cannot be compiled: named with its rule id."""


@dataclass(frozen=True, slots=True)
class Term:
    parts: tuple[frozenset[int], ...]  # phrase ids allowed at each part, in order


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    labels: tuple[str, ...]
    description: str
    urgent: str | None = None  # the urgent reason this rule gives, when not hypothetical
    fear_is_enough: bool = False  # urgent even when voiced as a fear (「死にたいと言う」)
    # Atomic rules: words in the text.
    terms: tuple[Term, ...] = ()
    not_after: frozenset[int] = frozenset()  # phrases right before the match that cancel it
    not_before: frozenset[int] = frozenset()  # phrases right after the match that cancel it
    not_in_sentence: frozenset[int] = frozenset()  # phrases anywhere in its sentence that do
    negatable: bool = True
    lasting: bool = False  # a condition: 「以前は精神科に通っていた」 does not make it over
    cancels: tuple[str, ...] = ()  # labels this rule withdraws (「無事でした」 withdraws 安否不明)
    # Composite rules: other labels in the same text.
    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    near: tuple[tuple[str, ...], ...] = ()  # each group has a hit in one sentence
    sequence: tuple[tuple[str, ...], ...] = ()  # in this order, in one `scope`
    scope: str = "sentence"  # clause, sentence or text
    break_on: tuple[str, ...] = ()  # labels that, standing between, break a sequence
    needs: tuple[str, ...] = ()  # one of these must be present for it to fire


def _needs(all_: tuple[str, ...], any_: tuple[str, ...], groups) -> tuple[str, ...]:
    """The labels of which a composite rule needs at least one: a cheap first test (a
    tuple: the engine tests each of a few labels in turn, with no set iterator)."""
    if all_:
        return all_[:1]
    return tuple(dict.fromkeys(groups[0] if groups else any_))


# A cue word as its words, each by the spellings a text's token may match (its key or its
# surface): 「ても」 -> ({て}, {も}); 「て から」 -> ({つう, て}, {から}).
Cue = tuple[frozenset[str], ...]


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: one per rule set
class Scopes:
    """Words that bound what a mention means (negation.yml)."""

    negation: frozenset[str]  # canonical keys that negate (無い)
    bridge_pos: frozenset[str]  # parts of speech a negation may reach across
    bridge_words: frozenset[str]  # content words it may also reach across (様子, 診断)
    listing: frozenset[str]  # 「困窮や虐待」: marks joining nouns a negation reaches
    not_negation_after: tuple[Cue, ...]  # 「…ではないか」: suspicion, not negation
    affirming: frozenset[str]  # 「しか…ない」「だけじゃない」: not a denial
    hypothetical_before: tuple[Cue, ...]
    hypothetical_after: tuple[Cue, ...]
    past_before: tuple[Cue, ...]
    ongoing_after: tuple[Cue, ...]  # 「昔から」: since long ago, still so
    present: tuple[Cue, ...]  # 「今は」: back to the present after a past cue
    past_after: tuple[Cue, ...]  # 「暴力はもう昔のことで」
    mention_only: tuple[Cue, ...]  # 「ひきこもりって言葉」「認知症サポーター講座」
    mention_only_in_clause: tuple[Cue, ...]  # 「虐待防止の研修に参加しました」
    not_people: frozenset[str]  # 「うちの犬が」


@dataclass(frozen=True, slots=True)
class People:
    """Thresholds and words for ages, grades and family roles (people.yml)."""

    elderly_from: int
    adult_from: int
    middle_from: int
    middle_to: int
    kanji_numbers: dict[str, int]
    kana_numbers: dict[str, int]
    age_words: dict[str, int]  # 還暦 60, 米寿 88
    person_nouns: frozenset[str]
    subject_markers: frozenset[str]
    copulas: tuple[Cue, ...]
    self_words: frozenset[str]
    grown_if_writer_elderly: frozenset[str]  # 「87歳。子どもは東京で」: adults
    grown_up_life: frozenset[str]  # 「子どもは東京で働いてます」: adults too
    occupations: frozenset[str]  # 「40代の会社員」: a working adult


@dataclass(frozen=True)
class RuleSet:
    version: str
    index: PhraseIndex
    atomic: tuple[Rule, ...]
    composite: tuple[Rule, ...]
    scopes: Scopes
    people: People
    gap: int
    # phrase id -> the (rule, term) pairs whose first part it is: only matched phrases
    # wake rules up, so triage does not walk every rule for every text.
    first_parts: dict[int, list[tuple[Rule, Term]]] = field(default_factory=dict)


def _expand(part: str, vocab: dict[str, list[str]], rule_id: str) -> list[str]:
    """「{parent} の 介護」 -> every phrase it stands for (母の介護, 父の介護, …)."""
    pieces: list[list[str]] = []
    for element in part.split():
        names = _VOCAB_REF.fullmatch(element)
        if names:
            if names[1] not in vocab:
                raise RuleError(f"{rule_id}: unknown vocabulary {{{names[1]}}}")
            pieces.append(vocab[names[1]])
        else:
            pieces.append([element])
    return [" ".join(p) for p in itertools.product(*pieces)]


def _with_te_iru(phrase: str) -> tuple[str, ...]:
    """A phrase ending in its て form also in the ている form SudachiPy reads as one word:
    「生きて」 matches 「生きてる」 (生き|てる), as 「生きて いる」 already matches it."""
    if phrase.startswith("="):
        return (phrase,)
    keys = tokenize_term(phrase)
    if keys[-1:] not in (("て",), ("で",)):
        return (phrase,)
    longer = phrase + "る"  # 生きて -> 生きてる, 読んで -> 読んでる
    return (phrase, longer) if tokenize_term(longer) == (*keys[:-1], "て居る") else (phrase,)


def _merge(base: list[dict], local: list[dict]) -> list[dict]:
    """A municipality's rule with a known id replaces it (or disables it); others add."""
    rules = {r["id"]: r for r in base}
    for rule in local:
        rules[rule["id"]] = rule
    return [r for r in rules.values() if not r.get("disabled")]


def _as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def compile_rules(local: dict | None = None, name: str = "base") -> RuleSet:
    """Compile the base rules, with a municipality's additions and overrides."""
    local = local or {}
    files = sorted(RULES_DIR.glob("*.yml"))
    raw = {p.stem: read_yaml(p) or {} for p in files}
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.read_bytes())
    digest.update(repr(local).encode())

    vocab = {name: list(entry["words"]) for name, entry in raw["vocab"]["vocab"].items()}
    for name, words in (local.get("vocab") or {}).items():
        vocab[name] = [*vocab.get(name, []), *words]

    index = PhraseIndex()
    gap = int(raw["negation"]["gap_tokens"])

    def phrases(items, rule_id) -> frozenset[int]:
        return frozenset(
            index.add(v)
            for item in _as_tuple(items)
            for p in _expand(item, vocab, rule_id)
            for v in _with_te_iru(p)
        )

    specs = _merge(
        [r for stem in ("concepts", "domains", "patterns", "urgency") for r in raw[stem]["rules"]],
        list(local.get("rules") or []),
    )
    atomic: list[Rule] = []
    composite: list[Rule] = []
    for spec in specs:
        rule_id = spec["id"]
        common = {
            "id": rule_id,
            "labels": _as_tuple(spec.get("labels") or spec.get("label")),
            "description": spec["description"],
            "urgent": spec.get("urgent"),
            "fear_is_enough": bool(spec.get("fear_is_enough")),
            "cancels": _as_tuple(spec.get("cancels")),
        }
        if not common["labels"]:
            raise RuleError(f"{rule_id}: no label")
        if "terms" in spec:
            terms = tuple(
                Term(tuple(phrases(part.strip(), rule_id) for part in term.split(_GAP)))
                for term in spec["terms"]
            )
            atomic.append(
                Rule(
                    **common,
                    terms=terms,
                    not_after=phrases(spec.get("not_after"), rule_id),
                    not_before=phrases(spec.get("not_before"), rule_id),
                    not_in_sentence=phrases(spec.get("not_in_sentence"), rule_id),
                    negatable=spec.get("negatable", True),
                    lasting=bool(spec.get("lasting")),
                )
            )
        else:
            all_, any_ = _as_tuple(spec.get("all")), _as_tuple(spec.get("any"))
            near = tuple(_as_tuple(g) for g in spec.get("near", ()))
            sequence = tuple(_as_tuple(g) for g in spec.get("sequence", ()))
            composite.append(
                Rule(
                    **common,
                    all=all_,
                    any=any_,
                    none=_as_tuple(spec.get("none")),
                    near=near,
                    sequence=sequence,
                    scope=spec.get("scope", "sentence"),
                    break_on=_as_tuple(spec.get("break_on")),
                    needs=_needs(all_, any_, near or sequence),
                )
            )

    neg = raw["negation"]
    scopes = Scopes(
        negation=frozenset(neg["negation"]),
        bridge_pos=frozenset(neg["bridge_pos"]),
        bridge_words=_words(neg["bridge_words"]),
        listing=_words(neg["listing"]),
        not_negation_after=_cues(neg["not_negation_after"]),
        affirming=_words(neg["affirming"]),
        hypothetical_before=_cues(neg["hypothetical_before"]),
        hypothetical_after=_cues(neg["hypothetical_after"]),
        past_before=_cues(neg["past_before"]),
        ongoing_after=_cues(neg["ongoing_after"]),
        present=_cues(neg["present"]),
        past_after=_cues(neg["past_after"]),
        mention_only=_cues(neg["mention_only"]),
        mention_only_in_clause=_cues(neg["mention_only_in_clause"]),
        not_people=_words(neg["not_people"]),
    )
    ppl = raw["people"]
    people = People(
        elderly_from=ppl["ages"]["elderly_from"],
        adult_from=ppl["ages"]["adult_from"],
        middle_from=ppl["ages"]["middle_from"],
        middle_to=ppl["ages"]["middle_to"],
        kanji_numbers=dict(ppl["kanji_numbers"]),
        kana_numbers=dict(ppl["kana_numbers"]),
        age_words=dict(ppl["age_words"]),
        person_nouns=_words(ppl["person_nouns"]),
        subject_markers=_words(ppl["subject_markers"]),
        copulas=_cues(ppl["copulas"]),
        self_words=_words(ppl["self_words"]),
        grown_if_writer_elderly=_words(ppl["grown_if_writer_elderly"]),
        grown_up_life=_words(ppl["grown_up_life"]),
        occupations=_words(ppl["occupations"]),
    )
    version = f"{raw['vocab']['version']}+{name}.{digest.hexdigest()[:10]}"
    first_parts: dict[int, list[tuple[Rule, Term]]] = {}
    for rule in atomic:
        for term in rule.terms:
            for pid in term.parts[0]:
                first_parts.setdefault(pid, []).append((rule, term))
    index.freeze()
    return RuleSet(
        version=version,
        index=index,
        atomic=tuple(atomic),
        composite=tuple(composite),
        scopes=scopes,
        people=people,
        gap=gap,
        first_parts=first_parts,
    )


def _cues(words: list[str]) -> tuple[Cue, ...]:
    return tuple(_cue(w) for w in words)


def _cue(words: str) -> Cue:
    """A cue's words as a sentence would read them. SudachiPy reads kana oddly alone
    (「し」 as き, 「ば」 as ばっ, 「て」 as つう), so each word may also match as written;
    the words are read together, unless SudachiPy joins two the author kept apart (「年 前」)."""
    pieces = words.split()
    together = tokenize(unicodedata.normalize("NFKC", "".join(pieces)))
    ends = set(itertools.accumulate(len(p) for p in pieces))
    if not ends <= {t.end for t in together}:
        together = [t for p in pieces for t in tokenize(unicodedata.normalize("NFKC", p))]
    return tuple(frozenset({t.key, t.surface}) for t in together)


def _words(words: list[str]) -> frozenset[str]:
    """Single words, written as SudachiPy normalizes them (居る, 有る, 為る, こと)."""
    return frozenset(words)
