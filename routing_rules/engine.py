"""The triage engine: text in, explained triage result out (labels: docs/triage-labels.md)."""

from __future__ import annotations

from functools import cache
from typing import Final

from routing_rules.directory import Municipality, load_municipality
from routing_rules.lexicon import PhraseMatch
from routing_rules.people import Mention, find_people
from routing_rules.result import (
    COMPOUND_PATTERNS,
    DOMAINS,
    PATTERNS,
    Evidence,
    TriageResult,
)
from routing_rules.rules import Rule, RuleSet, Term, compile_rules
from routing_rules.scope import Marks
from routing_rules.text import Token, normalize, tokenize

_PUBLIC: Final = frozenset(DOMAINS) | frozenset(PATTERNS)
_PUBLIC_PATTERNS: Final = frozenset(PATTERNS)
# The label of an urgent result's evidence; a rule that cancels it calms the whole text.
_URGENT: Final = "urgent"


class Hit:
    """A rule that fired, in token positions; a composite hit keeps the hits it used."""

    __slots__ = ("rule", "labels", "start", "end", "urgent", "parts")

    def __init__(
        self,
        rule: Rule | None,  # None for person mentions
        labels: tuple[str, ...],
        start: int,
        end: int,
        urgent: str | None = None,
        parts: tuple[Hit, ...] = (),
    ) -> None:
        self.rule = rule
        self.labels = labels
        self.start = start
        self.end = end
        self.urgent = urgent
        self.parts = parts


@cache
def rules_for(municipality: str) -> RuleSet:
    place = load_municipality(municipality)
    return compile_rules(place.local_rules, name=municipality)


def triage(text: str, municipality: str, area: str | None = None) -> TriageResult:
    place = load_municipality(municipality)
    rules = rules_for(municipality)
    nfkc, origin = normalize(text)
    tokens = tokenize(nfkc)
    marks = Marks(tokens, rules.scopes)
    hits = _atomic_hits(tokens, rules, marks)
    roles = [Mention(h.labels, h.start, h.end) for h in hits if h.labels[0].startswith("role:")]
    people = find_people(nfkc, tokens, roles, rules.people, rules.scopes.not_people)
    hits += [Hit(None, m.labels, m.start, m.end) for m in people]
    hits = _withdraw(_composite_hits(hits, tokens, rules, marks))
    return _result(text, nfkc, origin, tokens, hits, place, rules, area)


# --- words in the text -------------------------------------------------------------------


def _atomic_hits(tokens: list[Token], rules: RuleSet, marks: Marks) -> list[Hit]:
    # Longest match first at each start, so a rule's evidence quotes all the words it saw.
    matches = rules.index.match(tokens)
    starting: dict[int, list[PhraseMatch]] = {}  # token index -> phrase matches there
    ending: dict[int, list[PhraseMatch]] = {}  # token index -> phrase matches ending there
    for m in matches:
        starting.setdefault(m.start, []).append(m)
        ending.setdefault(m.end, []).append(m)
    text = _Text(tokens, starting, rules.gap)
    hits: list[Hit] = []
    seen: set[tuple[str, int]] = set()
    for m in matches:
        terms = rules.first_parts.get(m.phrase)
        if not terms:
            continue
        for rule, term in terms:
            key = (rule.id, m.start)
            if key in seen:
                continue
            for end in text.ends(term, 1, m.end):
                if _cancelled(rule, m.start, end, starting, ending, tokens, marks):
                    continue
                seen.add(key)
                urgent = _urgency(rule, marks, m.start, end)
                hits.append(Hit(rule, rule.labels, m.start, end, urgent))
                break
    return hits


class _Text:
    """Where a term's later parts may follow its first, within a gap in one clause."""

    def __init__(
        self, tokens: list[Token], starting: dict[int, list[PhraseMatch]], gap: int
    ) -> None:
        self.tokens = tokens
        self.starting = starting
        self.gap = gap
        self._windows: dict[int, list[PhraseMatch]] = {}

    def ends(self, term: Term, k: int, end: int) -> list[int]:
        """Ends of every way the parts from k on follow `end`."""
        if k == len(term.parts):
            return [end]
        wanted = term.parts[k]
        found: list[int] = []
        for m in self._window(end):
            if m.phrase in wanted:
                found.extend(self.ends(term, k + 1, m.end))
        return found

    def _window(self, end: int) -> list[PhraseMatch]:
        """The phrase matches that may follow a part ending at `end` (computed once).

        Brackets and numbers (「母(81)の」) do not count against the gap; a verb or adjective
        in it does end it: 「生活には困ってない」 is not 「生活…ない」.
        """
        window = self._windows.get(end)
        if window is not None:
            return window
        tokens, window = self.tokens, []
        clause = tokens[end - 1].clause
        skipped = 0
        for start in range(end, len(tokens) + 1):
            window.extend(self.starting.get(start, ()))
            if start == len(tokens) or tokens[start].clause != clause or _predicate(tokens[start]):
                break
            if tokens[start].key and tokens[start].pos2 not in _FREE_IN_GAP:  # spaces are free
                skipped += 1
                if skipped > self.gap:
                    break
        self._windows[end] = window
        return window


_FREE_IN_GAP: Final = frozenset({"括弧開", "括弧閉", "数詞"})


def _predicate(token: Token) -> bool:
    return token.pos in ("動詞", "形容詞") and token.pos2 != "非自立可能"


def _cancelled(
    rule: Rule,
    start: int,
    end: int,
    starting: dict[int, list[PhraseMatch]],
    ending: dict[int, list[PhraseMatch]],
    tokens: list[Token],
    marks: Marks,
) -> bool:
    if tokens[start].clause != tokens[end - 1].clause:
        return True
    if rule.not_after and any(m.phrase in rule.not_after for m in ending.get(start, ())):
        return True
    if rule.not_before and any(m.phrase in rule.not_before for m in starting.get(end, ())):
        return True
    if rule.not_in_sentence and any(
        tokens[i].sentence == tokens[start].sentence
        for i, found in starting.items()
        if any(m.phrase in rule.not_in_sentence for m in found)
    ):
        return True
    about_people = not any(label in _PUBLIC_PATTERNS for label in rule.labels)
    return marks.cancelled(start, end, rule.negatable, about_people, rule.lasting)


# --- rules over rules --------------------------------------------------------------------


def _urgency(
    rule: Rule, marks: Marks, start: int, end: int, parts: tuple[Hit, ...] = ()
) -> str | None:
    """The rule's urgency, unless only feared (「もし止まったら」) where fear is not enough;
    a composite is feared when any of its parts is (「電話してるけど、もし出なかったら」)."""
    if not rule.urgent or rule.fear_is_enough:
        return rule.urgent
    if marks.hypothetical(start, end) or any(marks.hypothetical(p.start, p.end) for p in parts):
        return None
    return rule.urgent


def _composite_hits(
    hits: list[Hit], tokens: list[Token], rules: RuleSet, marks: Marks
) -> list[Hit]:
    by_label: dict[str, list[Hit]] = {}
    for hit in hits:
        for label in hit.labels:
            by_label.setdefault(label, []).append(hit)
    for rule in rules.composite:
        if not any(label in by_label for label in rule.needs):  # few labels: cheap to test
            continue
        parts = _satisfy(rule, by_label, tokens)
        if parts is None:
            continue
        start, end = min(p.start for p in parts), max(p.end for p in parts)
        urgent = _urgency(rule, marks, start, end, tuple(parts))
        hit = Hit(rule, rule.labels, start, end, urgent, tuple(parts))
        hits.append(hit)
        for label in rule.labels:
            by_label.setdefault(label, []).append(hit)
    return hits


def _withdraw(hits: list[Hit]) -> list[Hit]:
    """Drop what a fired rule withdraws: 「無事でした」 after 「姿を見ない」. Withdrawing
    `urgent` keeps every label but calms them all: 「【終結】…」 reports a closed case."""
    withdrawn = {label for h in hits if h.rule is not None for label in h.rule.cancels}
    if not withdrawn:
        return hits
    if _URGENT in withdrawn:
        for hit in hits:
            hit.urgent = None

    def stands(hit: Hit) -> bool:  # a rule over a withdrawn hit falls with it
        return not withdrawn.intersection(hit.labels) and all(map(stands, hit.parts))

    return [h for h in hits if stands(h)]


def _satisfy(rule: Rule, by_label: dict[str, list[Hit]], tokens: list[Token]) -> list[Hit] | None:
    """The hits that satisfy a composite rule, or None."""
    if any(by_label.get(label) for label in rule.none):
        return None
    parts: list[Hit] = []
    for label in rule.all:
        if not by_label.get(label):
            return None
        parts.append(by_label[label][0])
    if rule.any:
        found = next((by_label[label][0] for label in rule.any if by_label.get(label)), None)
        if found is None:
            return None
        parts.append(found)
    for groups, ordered in ((rule.near, False), (rule.sequence, True)):
        if groups:
            found_group = _in_scope(groups, ordered, rule, by_label, tokens)
            if found_group is None:
                return None
            parts.extend(found_group)
    return parts


def _in_scope(
    groups: tuple[tuple[str, ...], ...],
    ordered: bool,
    rule: Rule,
    by_label: dict[str, list[Hit]],
    tokens: list[Token],
) -> list[Hit] | None:
    """One hit per group in one sentence (or the text); in order when `ordered`."""
    first, second = [[h for label in g for h in by_label.get(label, ())] for g in groups[:2]]
    breaks = [h for label in rule.break_on for h in by_label.get(label, ())]
    for a in first:
        for b in second:
            if a is b:
                continue
            if rule.scope != "text" and not _same(rule.scope, tokens[a.start], tokens[b.start]):
                continue
            if ordered and not a.start < b.start:
                continue
            lo, hi = sorted((a.start, b.start))
            if ordered and any(lo < h.start < hi for h in breaks):
                continue
            return [a, b]
    return None


def _same(scope: str, a: Token, b: Token) -> bool:
    return a.clause == b.clause if scope == "clause" else a.sentence == b.sentence


# --- the result --------------------------------------------------------------------------


def _span(hit: Hit, tokens: list[Token], origin: list[int] | None) -> tuple[int, int]:
    """A hit's span in the caller's text."""
    start, end = tokens[hit.start].start, tokens[hit.end - 1].end
    return (origin[start], origin[end]) if origin else (start, end)


def _result(
    text: str,
    nfkc: str,
    origin: list[int] | None,
    tokens: list[Token],
    hits: list[Hit],
    place: Municipality,
    rules: RuleSet,
    area: str | None,
) -> TriageResult:
    evidence: list[Evidence] = []
    domains: set[str] = set()
    patterns: set[str] = set()
    reasons: set[str] = set()
    for hit in hits:
        rule = hit.rule
        if rule is None:
            continue
        public = [label for label in hit.labels if label in _PUBLIC]
        if not (public or hit.urgent):
            continue
        start, end = _span(hit, tokens, origin)
        if hit.parts:
            parts = sorted(hit.parts, key=lambda p: p.start)
            quoted = " … ".join(text[slice(*_span(p, tokens, origin))] for p in parts)
        else:
            quoted = text[start:end]
        if hit.urgent:
            public.append(_URGENT)
            reasons.add(hit.urgent)
        for label in public:
            evidence.append(Evidence(rule.id, label, rule.description, quoted, start, end))
            if label in DOMAINS:
                domains.add(label)
            elif label in PATTERNS:
                patterns.add(label)

    compound = len(domains) >= 2 or bool(patterns & COMPOUND_PATTERNS)
    route = "coordinator" if compound else (next(iter(domains)) if domains else "general")

    written = place.find_area(nfkc)
    used_area = place.resolve_area(area) or (written[0] if written else None)
    if route == "general":
        body = place.body(place.general_window)
    else:
        body = place.body_for(route, used_area)
    involved = (
        tuple(place.body_for(d, used_area).ref for d in DOMAINS if d in domains) if compound else ()
    )
    return TriageResult(
        domains=tuple(d for d in DOMAINS if d in domains),
        patterns=tuple(p for p in PATTERNS if p in patterns),
        compound=compound,
        urgent=bool(reasons),
        route=route,
        body=body.ref,
        involved=involved,
        emergency=place.emergency_lines(reasons, domains | patterns),
        evidence=tuple(sorted(evidence, key=lambda e: (e.start, e.rule, e.label))),
        urgent_reasons=tuple(sorted(reasons)),
        municipality=place.id,
        area=used_area,
        rules_version=rules.version,
    )
