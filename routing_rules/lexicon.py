"""Phrase matching on tokens: by normalized form, and by reading for kana spellings.

A rule's phrase is written in plain Japanese and tokenized once at load, so it matches the
same way as the texts do (子供/子ども/こども/ｺﾄﾞﾓ share one normalized form). A phrase
matches a run of whole tokens whose normalized forms, joined, spell the phrase's: so
「年取る」 matches 「年取った」 although SudachiPy splits it there. Kana-only spellings
that SudachiPy cannot split (「にんちしょう」) are caught by reading. A phrase can only
start and end where words do, so the search walks the words, not the characters; only
readings hidden inside kana words need an Aho-Corasick pass over the characters.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from typing import Final

import ahocorasick

from routing_rules.text import Token, Word, is_kana, reading_of, tokenize_term

_MIN_READING: Final = 3  # shorter readings (ハハ, チチ) are too ambiguous to match by sound


def _kanji(text: str) -> set[str]:
    return {ch for ch in text if "\u4e00" <= ch <= "\u9fff" or ch == "々"}


class PhraseMatch:
    __slots__ = ("phrase", "start", "end")

    def __init__(self, phrase: int, start: int, end: int) -> None:
        self.phrase = phrase
        self.start = start  # token index
        self.end = end  # token index, exclusive


_Found = set[tuple[int, int, int]]  # (phrase, start, end): one PhraseMatch each at the end


class _Node:
    """A string that some phrase starts with: the phrases it spells, and the strings one
    character longer. A walk over a text's words stops as soon as no phrase can go on."""

    __slots__ = ("pids", "next", "longer")

    def __init__(self) -> None:
        self.pids: tuple[int, ...] = ()
        self.next: dict[str, _Node] = {}
        self.longer = False  # whether `next` holds anything, read without touching it


MAX_STEPS: Final = 256  # memoized steps per word: enough for the nodes a word follows


class _Trie:
    """The phrases' strings, character by character."""

    __slots__ = ("root",)

    def __init__(self, phrases: dict[str, list[int]]) -> None:
        self.root = _Node()
        for spelled, pids in phrases.items():
            node = self.root
            for ch in spelled:
                child = node.next.get(ch)
                if child is None:
                    child = node.next[ch] = _Node()
                    node.longer = True
                node = child
            node.pids = tuple(pids)


def _walk(node: _Node, piece: str) -> _Node | None:
    for ch in piece:
        found = node.next.get(ch)
        if found is None:
            return None
        node = found
    return node


def _step(node: _Node, piece: str, word: Word | None) -> _Node | None:
    """The node `piece` leads to from `node`.

    A word's step from a node depends on the word alone, so it is kept in the word's memo
    (text.Word.steps): a text's words then cost one small lookup each.
    """
    if word is not None:
        known = word.steps.get(node, _UNKNOWN)
        if known is not _UNKNOWN:
            return known  # type: ignore[no-any-return]
    found = _walk(node, piece)
    if word is not None and len(word.steps) < MAX_STEPS:
        word.steps[node] = found
    return found


_UNKNOWN: Final = object()


class PhraseIndex:
    """Every phrase of every rule, by joined normalized forms and by joined readings."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._by_key: dict[str, list[int]] = {}
        self._by_reading: dict[str, list[int]] = {}
        self._by_surface: dict[str, list[int]] = {}
        self._kanji: list[set[str]] = []
        self._frozen: (
            tuple[_Trie, _Trie, _Trie, ahocorasick.Automaton, ahocorasick.Automaton | None] | None
        ) = None

    def add(self, phrase: str) -> int:
        """Register a phrase (plain text) and return its id; the same words, the same id.

        A phrase that starts with 「=」 matches only as written (after NFKC): for names like
        「ここねっと」 that SudachiPy splits differently alone and in a sentence, and for
        forms whose normalized form says too much (「=死のう」 would otherwise be 死ぬ).
        """
        spaced = " ".join(phrase.split())  # spaces are word boundaries: tokenize_term
        phrase = spaced.replace(" ", "")
        if spaced in self._ids:
            return self._ids[spaced]
        pid = self._ids[spaced] = len(self._ids)
        self._frozen = None
        if phrase.startswith("="):
            self._kanji.append(set())
            self._by_surface.setdefault(unicodedata.normalize("NFKC", phrase[1:]), []).append(pid)
            return pid
        self._kanji.append(_kanji(phrase))
        # As a whole and word by word: 「首 を しめる」 alone reads 湿る, in 「首をしめて」 しめる.
        for keys in {"".join(tokenize_term(phrase)), "".join(tokenize_term(spaced))}:
            self._by_key.setdefault(keys, []).append(pid)
        reading = reading_of(phrase)
        # Kanji phrases, and kana ones long enough to find in katakana (「トメラレタ」).
        written_in_kanji = any(not is_kana(c) for c in phrase)
        if len(reading) >= _MIN_READING and (written_in_kanji or len(phrase) >= 4):
            self._by_reading.setdefault(reading, []).append(pid)
        return pid

    def freeze(self) -> None:
        """Build the search tables; call once all phrases are added."""
        inside_words = ahocorasick.Automaton()
        for reading, pids in self._by_reading.items():
            if len(reading) >= _MIN_INSIDE:  # shorter ones never count inside a word
                inside_words.add_word(reading, (len(reading), tuple(pids)))
        inside_words.make_automaton()
        as_written = None  # to tell at once whether any is in a text (when there are any)
        if self._by_surface:
            as_written = ahocorasick.Automaton()
            for spelled in self._by_surface:
                as_written.add_word(spelled, spelled)
            as_written.make_automaton()
        self._frozen = (
            _Trie(self._by_key),
            _Trie(self._by_reading),
            _Trie(self._by_surface),
            inside_words,
            as_written,
        )

    def match(self, tokens: list[Token]) -> list[PhraseMatch]:
        """Every phrase in the tokens, by start, the longest first."""
        if self._frozen is None:
            self.freeze()
        by_key, by_reading, by_surface, inside_words, as_written = self._frozen  # type: ignore[misc]
        found = _find(by_key, tokens, [t.key for t in tokens], compounds=True)
        surfaces = [t.surface for t in tokens]
        written = "".join(surfaces)
        if as_written is not None and next(as_written.iter(written), None) is not None:
            found |= _find(by_surface, tokens, surfaces, by_word=False)  # rare; ABC, abc: one word
        if tokens and any(t.reading for t in tokens):  # tokenize() read kana it misread
            for m in _find(by_reading, tokens, [t.reading for t in tokens]):
                if m in found:
                    continue  # most are: the same words matched by their keys
                # Readings are for kana spellings (「にんちしょう」); 解雇 must not pass for
                # 介護, so a span's kanji must be the phrase's own, and a digit spells no
                # sound (「は3」 is not ハサン, 破産). A particle before a word in kanji is
                # read right: 「母は物を」 holds no 刃物; so is a word's ending before a
                # space (「ﾌｴﾀ ﾄﾞｳｼﾀﾗ」 holds no 多動).
                phrase, start, end = m
                span = "".join(t.surface for t in tokens[start:end])
                kanji = _kanji(span)
                if (
                    not _one_function_word(tokens, start, end)  # しまい (仕舞う) is no 姉妹
                    and any(is_kana(c) for c in span)
                    and not any(c.isdigit() for c in span)
                    and kanji <= self._kanji[phrase]
                    and not (kanji and tokens[start].pos == "助詞")
                    and not (tokens[start].pos == "助動詞" and " " in span)
                ):
                    found.add(m)
            found |= _find_in_kana_runs(inside_words, tokens, written)
        # By start, longest first, then by phrase: one order, whatever the set's.
        ordered = sorted((start, -end, phrase) for phrase, start, end in found)
        return [
            PhraseMatch(phrase, start, -negative_end) for start, negative_end, phrase in ordered
        ]


def _one_function_word(tokens: list[Token], start: int, end: int) -> bool:
    """Whether the span holds a single word that means nothing of its own (with the words
    after it that spell nothing, ます)."""
    spelled = [t for t in tokens[start:end] if t.key]
    return len(spelled) == 1 and not spelled[0].word.content


# Hiragana to katakana; every other kana maps to itself, since a character missing from
# the table costs str.translate a raised and cleared KeyError.
_KATAKANA: Final = str.maketrans(
    {chr(c): chr(c + 0x60 if c <= 0x3096 else c) for c in range(0x3041, 0x3100)}
)
_MIN_INSIDE: Final = 4  # a reading found inside a kana token must be long enough to mean it
_KANA_RUN: Final = re.compile(f"[\u3041-\u30ff]{{{_MIN_INSIDE},}}")  # is_kana() characters


def _unknown_katakana(token: Token) -> bool:
    """A katakana run SudachiPy kept as one word it could not normalize (キュウショクヒ)."""
    surface = token.surface
    return surface == token.key and all("\u30a1" <= ch <= "\u30fc" for ch in surface)


def _find_in_kana_runs(automaton: ahocorasick.Automaton, tokens: list[Token], text: str) -> _Found:
    """Readings inside runs of kana, wherever SudachiPy cut them: 「がに|ん|ち|しょう」 still
    holds ニンチショウ. The match takes the whole tokens it touches. `text` is the tokens'."""
    found: _Found = set()
    starts: list[int] = []  # each token's offset in `text`, once a reading is found
    for run in _KANA_RUN.finditer(text):
        for last, (length, pids) in automaton.iter(run[0].translate(_KATAKANA)):
            last += run.start()
            if not starts:
                starts = [t.start - tokens[0].start for t in tokens]
            first = last + 1 - length
            start = bisect_right(starts, first) - 1
            end = bisect_right(starts, last)
            if end - start == 1 and not _unknown_katakana(tokens[start]):
                continue  # inside one word SudachiPy knew (とうさん in おとうさん is not 倒産)
            if first > starts[start] and not all(map(is_kana, tokens[start].surface)):
                continue  # from a word's kana ending: 受け|られる holds no 蹴られる
            for pid in pids:
                found.add((pid, start, end))
    return found


def _find(
    trie: _Trie,
    tokens: list[Token],
    pieces: list[str],
    compounds: bool = False,
    by_word: bool = True,
) -> _Found:
    """Phrases spelled by runs of whole words: the pieces of tokens[start:end], joined.

    A word that spells nothing (ます) never starts a phrase and goes with the one before.
    With `compounds`, a phrase may also end one suffix short of a noun's end, as 妊娠 does
    in 妊娠中 and 督促 in 督促状 (not 子 in 子供, nor 発達 in 発達障害). `by_word`: each
    piece is its word's own key or reading, so the word's memo may serve the steps.
    """
    found: _Found = set()
    count = len(pieces)
    for start in range(count):
        if not pieces[start]:
            continue
        node = trie.root
        k = start
        while k < count:
            piece = pieces[k]
            k += 1
            if not piece:
                continue
            token = tokens[k - 1]
            word = token.word if by_word else None
            if word is not None and piece is not word.key and piece is not word.reading:
                word = None  # a key read anew for this text (ねえ as 無い): not the word's memo
            if compounds and _compound(piece, token):
                short = _walk(node, piece[:-1])  # rare: not worth a memo
                # a one-character phrase never stands for part of a longer word
                if short is not None and short.pids and (len(piece) >= 3 or k - 1 != start):
                    end = _after_silent(pieces, k)  # 「妊娠中 夫に」: as a whole word's match
                    for pid in short.pids:
                        found.add((pid, start, end))
            reached = _step(node, piece, word)
            if reached is None:
                break
            node = reached
            if node.pids:
                end = _after_silent(pieces, k)
                for pid in node.pids:
                    found.add((pid, start, end))
            if not node.longer:
                break
    return found


def _after_silent(pieces: list[str], end: int) -> int:
    """`end` moved past the words that spell nothing right after it."""
    while end < len(pieces) and not pieces[end]:
        end += 1
    return end


# Suffixes that leave a word's meaning as it was: 妊娠中, 督促状, 介護者, 虐待死, 受診歴, 電気代,
# 自閉スペクトラム症, 子供達, 傷病手当金.
_COMPOUND_TAILS: Final = frozenset("中状者死歴費代後時等率症達金")


def _compound(piece: str, token: Token) -> bool:
    return token.pos == "名詞" and len(piece) >= 2 and piece[-1] in _COMPOUND_TAILS
