"""The triage engine: text in, explained triage result out (see ../shared SPEC)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from routing_rules.directory import Municipality, load_municipality
from routing_rules.people import Mention, find_people
from routing_rules.result import (
    COMPOUND_PATTERNS,
    DOMAINS,
    PATTERNS,
    Evidence,
    TriageResult,
)
from routing_rules.rules import Cue, Rule, RuleSet, Scopes, Term, compile_rules
from routing_rules.text import Token, normalize, tokenize

_PUBLIC = frozenset(DOMAINS) | frozenset(PATTERNS)


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule that fired, in token positions; a composite hit keeps the hits it used."""

    rule: Rule | None  # None for person mentions
    labels: tuple[str, ...]
    start: int
    end: int
    urgent: str | None = None
    parts: tuple[Hit, ...] = ()


@cache
def rules_for(municipality: str) -> RuleSet:
    place = load_municipality(municipality)
    return compile_rules(place.local_rules, name=municipality)


def triage(text: str, municipality: str, area: str | None = None) -> TriageResult:
    place = load_municipality(municipality)
    rules = rules_for(municipality)
    nfkc, origin = normalize(text)
    tokens = tokenize(nfkc)
    hits = _atomic_hits(tokens, rules)
    roles = [Mention(h.labels, h.start, h.end) for h in hits if h.labels[0].startswith("role:")]
    hits += [
        Hit(None, m.labels, m.start, m.end) for m in find_people(nfkc, tokens, roles, rules.people)
    ]
    hits = _withdraw(_composite_hits(hits, tokens, rules))
    return _result(text, nfkc, origin, tokens, hits, place, rules, area)


# --- words in the text -------------------------------------------------------------------


def _atomic_hits(tokens: Sequence[Token], rules: RuleSet) -> list[Hit]:
    matches = rules.index.match(tokens)
    starting: dict[int, list] = defaultdict(list)  # token index -> phrase matches there
    for m in matches:
        starting[m.start].append(m)
    ending = {(m.end, m.phrase) for m in matches}
    beginning = {(m.start, m.phrase) for m in matches}
    hits: list[Hit] = []
    seen: set[tuple[str, int]] = set()
    for m in matches:
        for rule, term in rules.first_parts.get(m.phrase, ()):
            for end in _chain(term, 1, m.end, tokens, starting, rules.gap):
                key = (rule.id, m.start)
                if key in seen or _cancelled(rule, m.start, end, ending, beginning, tokens, rules):
                    continue
                seen.add(key)
                urgent = rule.urgent
                if urgent and not rule.fear_is_enough and _hypothetical(tokens, m.start, end, rules.scopes):
                    urgent = None
                hits.append(Hit(rule, rule.labels, m.start, end, urgent))
                break
    return hits


def _chain(term: Term, k: int, end: int, tokens: Sequence[Token], starting, gap: int):
    """Ends of every way the parts from k on follow `end` within the gap, in one clause.

    Brackets and numbers (「母(81)の」) do not count against the gap; a verb or adjective
    in it does end it: 「生活には困ってない」 is not 「生活…ない」.
    """
    if k == len(term.parts):
        yield end
        return
    clause = tokens[end - 1].clause
    skipped = 0
    for start in range(end, len(tokens) + 1):
        for m in starting.get(start, ()):
            if m.phrase in term.parts[k]:
                yield from _chain(term, k + 1, m.end, tokens, starting, gap)
        if start == len(tokens) or tokens[start].clause != clause or _predicate(tokens[start]):
            return
        if tokens[start].pos2 not in _FREE_IN_GAP:
            skipped += 1
            if skipped > gap:
                return


_FREE_IN_GAP = frozenset({"括弧開", "括弧閉", "数詞"})


def _predicate(token: Token) -> bool:
    return token.pos in ("動詞", "形容詞") and token.pos2 != "非自立可能"


def _cancelled(rule: Rule, start, end, ending, beginning, tokens, rules: RuleSet) -> bool:
    if tokens[start].clause != tokens[end - 1].clause:
        return True
    if any((start, p) in ending for p in rule.not_after):
        return True
    if any((end, p) in beginning for p in rule.not_before):
        return True
    if rule.not_in_sentence and any(
        tokens[i].sentence == tokens[start].sentence
        for i, p in beginning
        if p in rule.not_in_sentence
    ):
        return True
    scopes = rules.scopes
    if _cue_at_any(tokens, end, scopes.mention_only) or _not_about_people(tokens, start, scopes):
        return True
    return rule.negatable and (_negated(tokens, end, scopes) or _past(tokens, start, scopes))


def _cue_at_any(tokens: Sequence[Token], i: int, cues: tuple[Cue, ...]) -> bool:
    return i < len(tokens) and bool(_cue_at(tokens, i, cues))


def _not_about_people(tokens: Sequence[Token], start: int, scopes: Scopes) -> bool:
    """「うちの犬が認知症っぽい」: a pet's trouble is not a consultation domain."""
    clause = tokens[start].clause
    i = start - 1
    while i >= 0 and tokens[i].clause == clause:
        if tokens[i].key in scopes.not_people:
            return True
        i -= 1
    return False


def _cue_at(tokens: Sequence[Token], i: int, cues: tuple[Cue, ...]) -> int:
    """The length of the cue that starts at token i, or 0."""
    for cue in cues:
        if tuple(t.key for t in tokens[i : i + len(cue)]) == cue:
            return len(cue)
    return 0


def _negated(tokens: Sequence[Token], end: int, scopes: Scopes) -> bool:
    """「認知症ではない」「お金には困っていません」「虐待の様子なし」: negated in its clause."""
    clause = tokens[end - 1].clause
    for i in range(end, min(len(tokens), end + 8)):
        token = tokens[i]
        if token.clause != clause:
            return False
        if token.key in scopes.negation:
            # 「ではないか」「じゃないですかね」: a suspicion, not a denial.
            return not any(
                _cue_at(tokens, k, scopes.not_negation_after)
                for k in range(i + 1, min(len(tokens), i + 4))
                if tokens[k].clause == clause
            )
        if token.key in scopes.affirming:
            return False
        if token.key and token.pos not in scopes.bridge_pos and token.key not in scopes.bridge_words:
            return False
    return False


def _past(tokens: Sequence[Token], start: int, scopes: Scopes) -> bool:
    """「昔は借金があった」「子どもの頃の話ですが、…」: over, unless 「昔から」 says it still is."""
    sentence = tokens[start].sentence
    i = start - 1
    while i >= 0 and tokens[i].sentence == sentence:
        length = _cue_at(tokens, i, scopes.past_before)
        if length and i + length <= start:
            return not _cue_at(tokens, i + length, scopes.ongoing_after)
        i -= 1
    return False


def _hypothetical(tokens: Sequence[Token], start: int, end: int, scopes: Scopes) -> bool:
    """「もし倒れたら」「止まりそう」: a fear, not a danger today."""
    clause = tokens[start].clause
    for i in range(end, min(len(tokens), end + 4)):
        if tokens[i].clause != clause:
            break
        if _cue_at(tokens, i, scopes.hypothetical_after):
            return True
    i = start - 1
    while i >= 0 and tokens[i].clause == clause:
        if _cue_at(tokens, i, scopes.hypothetical_before):
            return True
        i -= 1
    return False


# --- rules over rules --------------------------------------------------------------------


def _composite_hits(hits: list[Hit], tokens: Sequence[Token], rules: RuleSet) -> list[Hit]:
    by_label: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        for label in hit.labels:
            by_label[label].append(hit)
    for rule in rules.composite:
        parts = _satisfy(rule, by_label, tokens)
        if parts is None:
            continue
        hit = Hit(
            rule,
            rule.labels,
            min(p.start for p in parts),
            max(p.end for p in parts),
            rule.urgent,
            tuple(parts),
        )
        hits.append(hit)
        for label in rule.labels:
            by_label[label].append(hit)
    return hits


def _withdraw(hits: list[Hit]) -> list[Hit]:
    """Drop what a fired rule withdraws: 「無事でした」 after 「姿を見ない」."""
    withdrawn = {label for h in hits if h.rule is not None for label in h.rule.cancels}
    if not withdrawn:
        return hits
    return [h for h in hits if not withdrawn.intersection(h.labels)]


def _satisfy(rule: Rule, by_label, tokens: Sequence[Token]) -> list[Hit] | None:
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


def _in_scope(groups, ordered: bool, rule: Rule, by_label, tokens) -> list[Hit] | None:
    """One hit per group in one sentence (or the text); in order when `ordered`."""
    first, second = ([h for label in g for h in by_label.get(label, ())] for g in groups[:2])
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


def _result(text, nfkc, origin, tokens, hits, place: Municipality, rules, area) -> TriageResult:
    def span(hit: Hit) -> tuple[int, int]:
        start, end = tokens[hit.start].start, tokens[hit.end - 1].end
        return (origin[start], origin[end]) if origin else (start, end)

    evidence: list[Evidence] = []
    domains: set[str] = set()
    patterns: set[str] = set()
    reasons: set[str] = set()
    for hit in hits:
        public = [label for label in hit.labels if label in _PUBLIC]
        if hit.rule is None or not (public or hit.urgent):
            continue
        start, end = span(hit)
        if hit.parts:
            quoted = " … ".join(
                text[slice(*span(p))] for p in sorted(hit.parts, key=lambda p: p.start)
            )
        else:
            quoted = text[start:end]
        for label in public + (["urgent"] if hit.urgent else []):
            evidence.append(Evidence(hit.rule.id, label, hit.rule.description, quoted, start, end))
        domains.update(label for label in public if label in DOMAINS)
        patterns.update(label for label in public if label in PATTERNS)
        if hit.urgent:
            reasons.add(hit.urgent)

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
