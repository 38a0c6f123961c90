"""Japanese text preparation: NFKC with a map back to the caller's offsets, and tokens.

Matching runs on SudachiPy's normalized forms and readings of the NFKC text; evidence
must point at the caller's own text, so every NFKC offset can be mapped back.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from functools import cache
from typing import Any, Final

from sudachipy import Dictionary, SplitMode

# Negation written many ways ends as one key, so a rule says 無い once; politeness
# leaves no trace, and 「止まってる」 spells what 「止まっている」 does (止まる+て+居る).
_CANONICAL: Final = {
    "ない": "無い",
    "ぬ": "無い",
    "ず": "無い",
    "なし": "無い",
    "無し": "無い",
    "無": "無い",  # field notes: 「近所付き合い無」
    "ます": "",
    "てる": "て居る",
    "おる": "居る",  # 「子どもはおりません」: humble いる
}
# Punctuation that ends a clause; clauses bound gaps in rules and the reach of a negation.
_CLAUSE_END: Final = frozenset("、。,.!?！？…\n;；")
SENTENCE_END: Final = frozenset("。.!?！？\n")
# Conjunctive particles that start a new clause (「困ってないけど息子が…」).
_CLAUSE_PARTICLES: Final = frozenset({"けれど", "けれども", "のに", "が"})
_QUOTES: Final = frozenset('「」『』"“”‘’')
# SudachiPy refuses very long input; chunks are cut at sentence ends below this length.
_CHUNK: Final = 1500


# Characters that compose with the one before under NFKC: only they can shorten a text.
_COMPOSING: Final = re.compile("[\u0300-\u036f\u1100-\u11ff\u3099\u309a\uff9e\uff9f]")


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


class Token:
    """One word of a text as the rules see it (a native class once compiled: fast fields)."""

    __slots__ = ("surface", "key", "reading", "start", "end", "clause", "sentence", "word")

    def __init__(
        self,
        surface: str,
        key: str,  # canonical normalized form: what rules match on ("" for silent words)
        reading: str,  # katakana, when the text needs readings
        start: int,  # offsets in the NFKC text
        end: int,
        clause: int,
        sentence: int,
        word: Word,  # what the dictionary says of it, shared by its every use
    ) -> None:
        self.surface = surface
        self.key = key
        self.reading = reading
        self.start = start
        self.end = end
        self.clause = clause
        self.sentence = sentence
        self.word = word

    @property
    def pos(self) -> str:
        """Part of speech, first level (名詞, 助詞, …)."""
        return self.word.pos

    @property
    def pos2(self) -> str:
        return self.word.pos2

    def __repr__(self) -> str:
        return f"Token({self.surface!r}, key={self.key!r}, clause={self.clause})"


@cache
def _dictionary() -> Dictionary:  # one per process: SudachiPy's dictionary loads in about a second
    return Dictionary(dict="core")


_local = threading.local()
# The word fields the rules read (the surface is always there); SudachiPy then leaves the
# others (dictionary form, splits, synonyms) unparsed.
_FIELDS: Final = {"pos", "normalized_form", "reading_form"}


def _tokenizer():
    """A tokenizer per thread: SudachiPy refuses concurrent use of one (API worker threads)."""
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        tokenizer = _local.tokenizer = _dictionary().tokenizer(SplitMode.C, fields=_FIELDS)
    return tokenizer


_POS: Final[dict[int, tuple[str, str]]] = {}  # part-of-speech id -> its first two levels


def _pos(pos_id: int) -> tuple[str, str]:
    pos = _POS.get(pos_id)
    if pos is None:
        levels = _dictionary().pos_of(pos_id)
        pos = _POS[pos_id] = (levels[0], levels[1])
    return pos


_FUNCTION_POS: Final = frozenset({"助詞", "助動詞", "補助記号"})


class Word:
    """What the dictionary says of a word, wherever it occurs: its forms and part of speech."""

    __slots__ = ("id", "norm", "key", "reading", "pos", "pos2", "content", "steps")

    def __init__(self, word_id: int, norm: str, reading: str, pos: tuple[str, str]) -> None:
        self.id = word_id
        self.norm = norm
        self.key = _CANONICAL.get(norm, norm)
        self.reading = reading  # katakana
        self.pos, self.pos2 = pos
        # A word that means something of its own (not a particle, ending or symbol).
        self.content = self.pos not in _FUNCTION_POS and self.pos2 != "非自立可能"
        # Where the word leads in the lexicon's tries, by node (lexicon._step): it depends
        # on the word alone, so it is worked out once.
        self.steps: dict[object, Any] = {}


# A dictionary word's forms depend on its id alone, so each is read from SudachiPy once
# (its surface may differ: ABC/abc share an id). Ids from _MADE_UP on are words SudachiPy
# built for this text (unknown words, joined numbers: 三千五百 is 3500): never kept.
# The words are kept by the low bits of their id, one per slot: a lookup reads one slot,
# where a dict would also read its entry and its key; two words that share a slot (rare
# among the few thousand a town's texts use) take turns, and are read again.
_SLOTS: Final = 1 << 18
_WORDS: Final[list[Word | None]] = [None] * _SLOTS
_MADE_UP: Final = 0xF000_0000


def _word(morpheme) -> Word:
    word_id: int = morpheme.word_id()
    slot = word_id & (_SLOTS - 1)
    word = _WORDS[slot]
    if word is None or word.id != word_id:
        word = Word(
            word_id,
            morpheme.normalized_form(),
            morpheme.reading_form(),
            _pos(morpheme.part_of_speech_id()),
        )
        if word_id < _MADE_UP:
            _WORDS[slot] = word
    return word


def is_kana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u30ff"


def _chunks(text: str) -> Iterator[str]:
    if len(text) <= _CHUNK:
        yield text
        return
    start = 0
    while start < len(text):
        end = min(len(text), start + _CHUNK)
        if end < len(text):
            cut = max(text.rfind(c, start, end) for c in SENTENCE_END)
            end = cut + 1 if cut > start else end
        yield text[start:end]
        start = end


# Tohoku particles SudachiPy splits into other words: 「家さいる」 (家|さい) is 家にいる,
# 「外さ出ねえ」 (外す) is 外に出ない, 「部屋がら」 is 部屋から. 富谷市 is in Miyagi. さ is に
# only between a noun's kanji and a verb (not 小さい, 下さい); がら is から only after a
# kanji or a て/で form (not ながら). Each swap keeps the length, so offsets hold.
# (Each branch starts with its particle: the scan then stops only at さ and が.)
_TOHOKU_PARTICLE: Final = re.compile(
    "さ(?=[行い居出来帰入戻寄逃泊住立締])(?<=[\u4e00-\u9fff]さ)(?<![小下]さ)|がら(?<=[\u4e00-\u9fffでて]がら)"
)


def _standard_particles(text: str) -> str:
    return _TOHOKU_PARTICLE.sub(lambda m: "に" if m[0] == "さ" else "から", text)


def tokenize(text: str, readings: bool = False) -> list[Token]:
    """Tokens of NFKC text with clause and sentence numbers.

    Whitespace stays as tokens with no key, so that a newline can end a sentence.
    Readings are filled in when asked, or when kana may have been misread.
    """
    tokenizer = _tokenizer()
    if "さ" in text or "がら" in text:
        text = _standard_particles(text)
    tokens: list[Token] = []
    # Surfaces are slices of the text, so offsets add up; a clause or sentence ends after
    # its closing token, so each token's number counts the ends before it.
    start = clause = sentence = 0
    misread = previous_kana = False
    katakana: list[tuple[int, int]] = []  # spans of words SudachiPy did not know, in katakana
    fused = False  # whether one of them runs on into a particle or an ending: ムスコガ
    for chunk in _chunks(text):
        begin = 0
        for m in tokenizer.tokenize(chunk):  # a Morpheme object per word: two calls each
            end: int = m.end()
            surface = chunk[begin:end]
            begin = end
            word = _word(m)
            key = word.key
            if not surface or surface.isspace() or surface in _QUOTES:
                # Whitespace spells nothing (a line break still ends a sentence); quotes are
                # dropped: 「『死にたい』と言う」 reads as 「死にたいと言う」.
                key = ""
                # A space between kana words (「もって いって」, as elderly writers type) is no
                # reason to trust them more; a line break or a quote is.
                previous_kana = previous_kana and surface == " "
            else:
                # Kana SudachiPy split into pieces (ごみ|やしき, に|ん|ち|しょう: two kana
                # words in a row, or a one-kana word) or did not know (ニンチショウ): only
                # such a text needs a search by reading.
                kana = word.content and is_kana(surface[0])
                if kana and (
                    previous_kana
                    or len(surface) == 1
                    or (len(surface) >= 3 and surface == word.key)
                ):
                    misread = True
                previous_kana = kana
            stop = start + len(surface)
            if word.id >= _MADE_UP and _spelled_in_katakana(surface):
                katakana.append((start, stop))
                fused = fused or surface.endswith(_FUSED_ENDINGS)
            tokens.append(Token(surface, key, "", start, stop, clause, sentence, word))
            breaks_line = "\n" in surface
            if (
                surface in _CLAUSE_END
                or breaks_line
                or (word.pos2 == "接続助詞" and word.norm in _CLAUSE_PARTICLES)
            ):
                clause += 1
            if surface in SENTENCE_END or breaks_line:
                sentence += 1
            start = stop
    if fused:  # and a text spelled in kana is searched by reading too
        return tokenize(_as_hiragana(text, katakana), readings=True)
    if readings or misread:  # readings serve only kana SudachiPy misread: most texts need none
        for token in tokens:
            if token.key:  # a space spells no sound either (SudachiPy reads it キゴウ)
                token.reading = token.word.reading
    if "(" in text:
        _silence_written_ages(tokens)
    if " " in text:
        _read_after_te(tokens)
    if _TOHOKU_WORDS.search(text):
        _read_tohoku(tokens)
    return tokens


# A message spelled in katakana (half-width on old phones: 「ﾑｽｺｶﾞ ﾍﾔｶﾗ ﾃﾞﾃｺﾅｲ」) leaves
# SudachiPy words it does not know, run on into their particles and endings: ムスコガ.
# Spelled in hiragana, they read as words (むすこ|が: 息子). A word alone (ニンチショウ) is
# found by its reading as it is; a long vowel mark is a loanword's (ヤングケアラー), which
# SudachiPy knows better in katakana. The swap keeps the length, so offsets hold.
_HIRAGANA: Final = str.maketrans({chr(c): chr(c - 0x60) for c in range(0x30A1, 0x30F7)})
_FUSED_ENDINGS: Final = (
    *"ガニノハモヲトデヘルタテダ",
    *("カラ", "マデ", "ナイ", "マス", "デス"),
)


def _spelled_in_katakana(surface: str) -> bool:
    return len(surface) >= 2 and "ー" not in surface and all("ァ" <= c <= "ヶ" for c in surface)


def _as_hiragana(text: str, spans: list[tuple[int, int]]) -> str:
    pieces, done = [], 0
    for start, stop in spans:
        pieces += [text[done:start], text[start:stop].translate(_HIRAGANA)]
        done = stop
    return "".join(pieces) + text[done:]


def _read_after_te(tokens: list[Token]) -> None:
    """「もって いって」: after a て form, いく is 行く (持って行く); SudachiPy, seeing the space,
    reads 言う, which never follows て."""
    previous = None
    for token in tokens:
        if token.key == "言う" and previous is not None and previous.key == "て":
            token.key = "行く"
        if token.key:
            previous = token


# The words _read_tohoku reads anew: a text holding none of them is left as it is.
_TOHOKU_WORDS: Final = re.compile("けっど|ねぐ|てける|ねえ|ねぇ|出は")


def _read_tohoku(tokens: list[Token]) -> None:
    """Tohoku words SudachiPy takes for rare standard ones. 富谷市 is in Miyagi.

    「なんだけっど」「そうだけっども」 mean だけど (but), not 蹴る (kick), which a violence rule
    must not see; 「肩もみしてける」 means してくれる (does for me), not 蹴る either;
    「払えねぐて」「金ねぐなった」 mean ない (not), not 祈ぐ (pray); in 「夜中に出はって」 出はる is
    出る (go out), and SudachiPy reads 出|はっ: the はる spells nothing.
    """
    for i, token in enumerate(tokens):
        if token.surface == "けっ" and i + 1 < len(tokens) and tokens[i + 1].surface == "ど":
            token.key = "けれど"
        elif token.surface == "ける" and i and tokens[i - 1].surface == "て":
            token.key = "呉れる"
        elif token.surface == "ねぐ" and token.key == "祈ぐ":
            token.key = "無い"
        elif token.key == "はる" and i and tokens[i - 1].surface == "出":
            token.key = ""
        elif token.surface in ("ねえ", "ねぇ") and i and _negates(tokens[i - 1]):
            token.key = "無い"  # 「食うもんねえ」「見えねぇ」: not the particle ね


def _negates(before: Token) -> bool:
    """Whether ねえ after this word is Tohoku 「ない」: after a noun (「金ねぇ」; もん, もの, is
    tagged a particle), or after a verb not in its plain form (「見えねぇ」「言わねぇ」), where
    the particle ね (「するねえ」) cannot stand."""
    if before.pos == "名詞" or before.key == "もの":
        return True
    return before.pos == "動詞" and before.surface[-1] not in _PLAIN_VERB_ENDINGS


_PLAIN_VERB_ENDINGS: Final = frozenset("うくぐすつぬぶむる")


# 「母(81)の」: an age in brackets is read by people.py from the text; the tokens keep
# no key, so 「母の」 rules still see 母 and の side by side.
_BRACKETED_AGE: Final = re.compile(r"[0-9一二三四五六七八九十小中高歳才代、・,か月ヶカ]+")


def _silence_written_ages(tokens: list[Token]) -> None:
    for i, token in enumerate(tokens):
        if token.pos2 != "括弧開":
            continue
        for j in range(i + 1, min(len(tokens), i + 8)):
            if tokens[j].pos2 == "括弧閉":
                inner = "".join(t.surface for t in tokens[i + 1 : j])
                if inner and _BRACKETED_AGE.fullmatch(inner):
                    for k in range(i, j + 1):
                        tokens[k].key = ""
                break


@cache  # a phrase is read for its ている form, for the index, and by each town's rules
def tokenize_term(term: str) -> tuple[str, ...]:
    """The canonical keys of a rule's phrase, tokenized like the texts it must match.

    Spaces in a phrase are token boundaries the author insists on: 「年 取る」 matches
    「年取った」, which SudachiPy splits although it reads 「年取る」 alone as one word.
    """
    return tuple(
        t.key for piece in term.split() for t in tokenize(unicodedata.normalize("NFKC", piece))
    )


def reading_of(term: str) -> str:
    text = unicodedata.normalize("NFKC", "".join(term.split()))
    return "".join(t.reading for t in tokenize(text, readings=True))
