"""The reach of a mention: negated, over and done, only feared, or only talked about.

Cue words (negation.yml) are found once per text, in one pass; each check on a hit is
then a look at a few positions, so triage stays fast however many rules fire.
"""

from __future__ import annotations

from functools import cache
from typing import Final

from routing_rules.rules import Cue, Scopes
from routing_rules.text import Token

_KINDS: Final = (
    "not_negation_after",
    "hypothetical_before",
    "hypothetical_after",
    "past_before",
    "ongoing_after",
    "present",
    "past_after",
    "mention_only",
    "mention_only_in_clause",
)


@cache
def cue_index(scopes: Scopes) -> dict[str, list[tuple[str, Cue]]]:
    """Each spelling of a cue's first word -> (kind, cue): what to look for at a token."""
    index: dict[str, list[tuple[str, Cue]]] = {}
    for kind in _KINDS:
        for cue in getattr(scopes, kind):
            for spelling in cue[0]:
                index.setdefault(spelling, []).append((kind, cue))
    for word in scopes.not_people:
        index.setdefault(word, []).append(("not_people", (frozenset({word}),)))
    return index


def spelled_at(tokens: list[Token], i: int, cue: Cue) -> bool:
    """Whether the cue's words are the tokens from i on (each by its key or as written)."""
    if i + len(cue) > len(tokens):
        return False
    return all(
        tokens[i + k].key in cue[k] or tokens[i + k].surface in cue[k] for k in range(len(cue))
    )


class Marks:
    """Where each kind of cue starts (and ends) in one text."""

    def __init__(self, tokens: list[Token], scopes: Scopes) -> None:
        self.tokens = tokens
        self.scopes = scopes
        index = cue_index(scopes)
        # kind -> {where a cue starts: where it ends}
        starts: dict[str, dict[int, int]] = {kind: {} for kind in (*_KINDS, "not_people")}
        for i, token in enumerate(tokens):
            found = index.get(token.key)
            if token.surface != token.key:
                as_written = index.get(token.surface)
                if as_written is not None:
                    found = as_written if found is None else found + as_written
            if found is None:
                continue
            for kind, cue in found:
                if spelled_at(tokens, i, cue):
                    starts[kind][i] = i + len(cue)
        self.starts = starts
        # 「昔は」 marks the past; 「昔から」 (the cue runs into an ongoing cue) does not.
        ongoing = starts["ongoing_after"]
        self.past = {i for i, end in starts["past_before"].items() if end not in ongoing}
        self.pets = starts["not_people"]

    def cancelled(
        self, start: int, end: int, negatable: bool, about_people: bool, lasting: bool = False
    ) -> bool:
        """A mention that is not evidence: talked about, about a pet, negated or past.

        `about_people`: a domain's evidence (an age, a condition) said of an animal is none;
        a pet given away is still a sign that matters.
        """
        if end in self.starts["mention_only"]:
            return True
        if about_people and self._in_clause_before(self.pets, start):
            return True
        if self._in_clause_after(self.starts["mention_only_in_clause"], end):
            return True
        if not negatable:
            return False
        if self.negated(end):
            return True
        return not lasting and (
            self._past(start) or self._in_clause_after(self.starts["past_after"], end)
        )

    def negated(self, end: int) -> bool:
        """「認知症ではない」「お金には困っていません」「虐待の様子なし」: negated in its clause."""
        tokens, scopes = self.tokens, self.scopes
        clause = tokens[end - 1].clause
        chained = False  # the token before went on with the mention or a listed item
        for i in range(end, min(len(tokens), end + 8)):
            token = tokens[i]
            if token.clause != clause:
                return False
            if token.key in scopes.negation:
                if tokens[i - 1].key in scopes.affirming:
                    return False  # 「120円しかない」: only, not a denial
                # 「ではないか」「じゃないですかね」: a suspicion, not a denial.
                after = self.starts["not_negation_after"]
                return not any(
                    k in after and tokens[k].clause == clause for k in range(i + 1, i + 4)
                )
            if token.key in scopes.affirming:
                return False
            bridge = not token.key or token.pos in scopes.bridge_pos or token.key in scopes.listing
            listed = token.word.content and tokens[i - 1].key in scopes.listing  # 「困窮や虐待」
            # 「自傷|行為」「介護|放棄」: a noun run on from the mention or an item is one word
            compound = token.pos == "名詞" and tokens[i - 1].pos == "名詞" and (i == end or chained)
            if not (bridge or listed or compound) and token.key not in scopes.bridge_words:
                return False
            chained = listed or compound
        return False

    def hypothetical(self, start: int, end: int) -> bool:
        """「もし倒れたら」「止まりそう」: a fear, not a danger today."""
        tokens = self.tokens
        clause = tokens[start].clause
        after = self.starts["hypothetical_after"]
        for i in range(end, min(len(tokens), end + 4)):
            if tokens[i].clause != clause or tokens[i].surface.isspace():
                break  # a space in a chat message ends the thought
            if i in after and not _hearsay(tokens[i]):
                return True
            if tokens[i].pos == "名詞":
                break  # a later noun's 「ても」 is its own: 「たまってるしチャイム押しても」
        return self._in_clause_before(self.starts["hypothetical_before"], start)

    def _in_clause_before(self, marks: dict[int, int], start: int) -> bool:
        clause = self.tokens[start].clause
        return any(i < start and self.tokens[i].clause == clause for i in marks)

    def _in_clause_after(self, marks: dict[int, int], end: int) -> bool:
        clause = self.tokens[end - 1].clause
        return any(i >= end and self.tokens[i].clause == clause for i in marks)

    def _past(self, start: int) -> bool:
        """「昔は借金があった」: a past cue earlier in the sentence, with no 「今」 between."""
        sentence = self.tokens[start].sentence
        present = self.starts["present"]
        return any(
            i < start
            and self.tokens[i].sentence == sentence
            and not any(i < p <= start for p in present)  # 「昔…長年ひきこもり」: still
            for i in self.past
        )


def _hearsay(token: Token) -> bool:
    """「倒れて動かないそうです」: そう after a finished form reports what was seen (SudachiPy
    tags it a noun); 「止まりそう」 after a stem fears what may come (a 形状詞)."""
    return token.key == "そう" and token.pos == "名詞"
