"""Phrase matching on tokens: by normalized form, and by reading for kana spellings.

A rule's term is written in plain Japanese and tokenized once at load, so it matches the
same way as the texts do (子供/子ども/こども/ｺﾄﾞﾓ share one normalized form). Kana-only
spellings that SudachiPy cannot split (「にんちしょう」) are caught by reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from routing_rules.text import Token, reading_of, tokenize_term

_END = ""  # trie key that holds the phrase ids ending at a node
_MIN_READING = 3  # shorter readings (ハハ, チチ) are too ambiguous to match by sound


def _is_kana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u30ff"


def _kanji(text: str) -> set[str]:
    return {ch for ch in text if "\u4e00" <= ch <= "\u9fff" or ch == "々"}


@dataclass(frozen=True, slots=True)
class PhraseMatch:
    phrase: int
    start: int  # token index
    end: int  # token index, exclusive


class PhraseIndex:
    """Every phrase of every rule, in two character tries: normalized forms and readings.

    A phrase matches a run of whole tokens whose normalized forms, joined, spell the
    phrase's: so 「年取る」 matches 「年取った」 although SudachiPy splits it there.
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._by_key: dict = {}
        self._by_reading: dict = {}
        self._kanji: list[set[str]] = []

    def add(self, phrase: str) -> int:
        """Register a phrase (plain text) and return its id; the same text, the same id."""
        phrase = "".join(phrase.split())
        if phrase in self._ids:
            return self._ids[phrase]
        pid = self._ids[phrase] = len(self._ids)
        self._kanji.append(_kanji(phrase))
        _insert(self._by_key, "".join(tokenize_term(phrase)), pid)
        reading = reading_of(phrase)
        if len(reading) >= _MIN_READING and any(not _is_kana(c) for c in phrase):
            _insert(self._by_reading, reading, pid)
        return pid

    def match(self, tokens: Sequence[Token]) -> list[PhraseMatch]:
        found = {
            (m.phrase, m.start, m.end): m
            for m in _walk(self._by_key, tokens, "key", compounds=True)
        }
        for m in _walk(self._by_reading, tokens, "reading"):
            # Readings are for kana spellings (「にんちしょう」「家ちん」); 解雇 must not pass
            # for 介護, so a span's kanji must be the phrase's own.
            span = "".join(t.surface for t in tokens[m.start : m.end])
            if any(map(_is_kana, span)) and _kanji(span) <= self._kanji[m.phrase]:
                found.setdefault((m.phrase, m.start, m.end), m)
        return list(found.values())


def _insert(trie: dict, text: str, pid: int) -> None:
    node = trie
    for ch in text:
        node = node.setdefault(ch, {})
    node.setdefault(_END, []).append(pid)


def _walk(trie: dict, tokens: Sequence[Token], attr: str, compounds: bool = False):
    """Phrases spelled by runs of whole tokens (by their `attr`), from every token start.

    With `compounds`, a phrase of two or more characters may also end one character short
    of a noun's end, as 妊娠 does in 妊娠中 and 督促 in 督促状 (not 発達 in 発達障害).
    """
    n = len(tokens)
    for i in range(n):
        if not tokens[i].key:
            continue  # a token that spells nothing (ます) starts no phrase
        node = trie
        depth = 0
        for j in range(i, n):
            text = getattr(tokens[j], attr)
            noun = compounds and tokens[j].pos == "名詞"
            for k, ch in enumerate(text):
                node = node.get(ch)
                if node is None:
                    break
                depth += 1
                if noun and k == len(text) - 2 and depth >= 2:
                    for pid in node.get(_END, ()):
                        yield PhraseMatch(pid, i, j + 1)
            if node is None:
                break
            for pid in node.get(_END, ()):
                yield PhraseMatch(pid, i, j + 1)
