"""Japanese text preparation: NFKC with a map back to the caller's offsets, and tokens.

Matching runs on SudachiPy's normalized forms and readings of the NFKC text; evidence
must point at the caller's own text, so every NFKC offset can be mapped back.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from typing import NamedTuple
from functools import cache

from sudachipy import Dictionary, SplitMode

# Negation written many ways ends as one key, so a rule says 無い once; politeness
# leaves no trace, and 「止まってる」 spells what 「止まっている」 does (止まる+て+居る).
_CANONICAL = {
    "ない": "無い",
    "ぬ": "無い",
    "ず": "無い",
    "なし": "無い",
    "無し": "無い",
    "ます": "",
    "てる": "て居る",
}
# Punctuation that ends a clause; clauses bound gaps in rules and the reach of a negation.
_CLAUSE_END = frozenset("、。,.!?！？…\n;；")
_SENTENCE_END = frozenset("。.!?！？\n")
# Conjunctive particles that start a new clause (「困ってないけど息子が…」).
_CLAUSE_PARTICLES = frozenset({"けれど", "けれども", "のに", "が"})
# SudachiPy refuses very long input; chunks are cut at sentence ends below this length.
_CHUNK = 1500


# Characters that compose with the one before under NFKC: only they can shorten a text.
_COMPOSING = re.compile("[\u0300-\u036f\u1100-\u11ff\u3099\u309a\uff9e\uff9f]")


def normalize(text: str) -> tuple[str, list[int] | None]:
    """NFKC text and, when lengths can shift, the original offset of each NFKC char.

    The map has one extra entry for the end. None means offsets are unchanged.
    """
    if unicodedata.is_normalized("NFKC", text):
        return text, None
    nfkc = unicodedata.normalize("NFKC", text)
    if len(nfkc) == len(text) and not _COMPOSING.search(text):
        return nfkc, None  # nothing composed, nothing grew: each character maps to itself
    out: list[str] = []
    origin: list[int] = []
    i = 0
    while i < len(text):
        j = i + 1  # a base character and the marks that combine with it map as one
        while j < len(text) and _COMPOSING.match(text[j]):
            j += 1
        piece = unicodedata.normalize("NFKC", text[i:j])
        out.append(piece)
        origin.extend([i] * len(piece))
        i = j
    origin.append(len(text))
    return "".join(out), origin


class Token(NamedTuple):
    surface: str
    key: str  # canonical normalized form: what rules match on
    reading: str  # katakana
    pos: str  # part of speech, first level (名詞, 助詞, …)
    pos2: str
    start: int  # offsets in the NFKC text
    end: int
    clause: int
    sentence: int


@cache
def _tokenizer():  # one per process; SudachiPy's dictionary loads in about a second
    return Dictionary(dict="core").tokenizer()


@cache
def _pos(pos_id: int) -> tuple[str, str]:
    return tuple(Dictionary(dict="core").pos_of(pos_id)[:2])  # type: ignore[return-value]


def _chunks(text: str):
    start = 0
    while start < len(text):
        end = min(len(text), start + _CHUNK)
        if end < len(text):
            cut = max(text.rfind(c, start, end) for c in _SENTENCE_END)
            end = cut + 1 if cut > start else end
        yield start, text[start:end]
        start = end


def tokenize(text: str) -> list[Token]:
    """Tokens of NFKC text with clause and sentence numbers."""
    tokenizer = _tokenizer()
    tokens: list[Token] = []
    clause = sentence = 0
    append = tokens.append
    canonical = _CANONICAL.get
    for offset, chunk in _chunks(text):
        begin = offset  # surfaces are slices of the text, so offsets add up
        for m in tokenizer.tokenize(chunk, SplitMode.C):
            surface = m.surface()
            end = begin + len(surface)
            if surface.isspace():
                if "\n" in surface:
                    clause += 1
                    sentence += 1
                begin = end
                continue
            pos, pos2 = _pos(m.part_of_speech_id())
            norm = m.normalized_form()
            append(
                Token(surface, canonical(norm, norm), m.reading_form(), pos, pos2, begin, end, clause, sentence)
            )
            begin = end
            if surface in _CLAUSE_END or (pos2 == "接続助詞" and norm in _CLAUSE_PARTICLES):
                clause += 1
            if surface in _SENTENCE_END:
                sentence += 1
    if "(" in text or "（" in text:
        _silence_written_ages(tokens)
    return tokens


# 「母(81)の」: an age in brackets is read by people.py from the text; the tokens keep
# no key, so 「母の」 rules still see 母 and の side by side.
_BRACKETED_AGE = re.compile(r"[0-9一二三四五六七八九十小中高歳才代、・,か月ヶカ]+")


def _silence_written_ages(tokens: list[Token]) -> None:
    for i, token in enumerate(tokens):
        if token.pos2 != "括弧開":
            continue
        for j in range(i + 1, min(len(tokens), i + 8)):
            if tokens[j].pos2 == "括弧閉":
                inner = "".join(t.surface for t in tokens[i + 1 : j])
                if inner and _BRACKETED_AGE.fullmatch(inner):
                    for k in range(i, j + 1):
                        tokens[k] = tokens[k]._replace(key="")
                break


def tokenize_term(term: str) -> tuple[str, ...]:
    """The canonical keys of a rule's phrase, tokenized like the texts it must match.

    Spaces in a phrase are token boundaries the author insists on: 「年 取る」 matches
    「年取った」, which SudachiPy splits although it reads 「年取る」 alone as one word.
    """
    return tuple(
        t.key for piece in term.split() for t in tokenize(unicodedata.normalize("NFKC", piece))
    )


def reading_of(term: str) -> str:
    return "".join(
        t.reading for t in tokenize(unicodedata.normalize("NFKC", "".join(term.split())))
    )
