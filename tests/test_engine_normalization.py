"""Width, kana and spelling variants (SPEC: 子供/子ども/こども/ｺﾄﾞﾓ carry the same meaning),
and evidence offsets that point into the caller's original text."""

from __future__ import annotations

import unicodedata

import pytest

from routing_rules import triage
from routing_rules.text import normalize, tokenize

SEP = " … "  # how a rule over several spans quotes its parts in Evidence.text


def _fired(result, word: str) -> set[tuple[str, str]]:
    """(rule, label) of the evidence that quotes `word` (with the whole tokens around it:
    「がにんちしょう」 when SudachiPy cut 「が|に」 as 「がに」)."""
    return {(e.rule, e.label) for e in result.evidence if word in e.text}


def assert_offsets_point_into(text: str, result) -> None:
    """Every evidence span is a slice of the original text that shows what it quotes."""
    for e in result.evidence:
        assert 0 <= e.start < e.end <= len(text), e
        quoted = text[e.start : e.end]
        if SEP not in e.text:
            assert quoted == e.text, (e, quoted)
            continue
        # A rule over several spans quotes them in order; its span runs from first to last.
        parts = e.text.split(SEP)
        assert quoted.startswith(parts[0]) and quoted.endswith(parts[-1]), (e, quoted)
        at = 0
        for part in parts:
            found = quoted.find(part, at)
            assert found >= 0, (e, quoted, part)
            at = found + len(part)


# --- the same rule, however the word is written ------------------------------------------

CHILD_SPELLINGS = ["子供", "子ども", "こども", "コドモ", "ｺﾄﾞﾓ"]
CHILD_FRAMES = [
    "{}が不登校です",
    "{}の夜泣きがひどくて眠れません",
    "うちの{}、最近ごはんを食べない",
    "{}を一人で育てています",
]


@pytest.mark.parametrize("frame", CHILD_FRAMES)
@pytest.mark.parametrize("spelling", CHILD_SPELLINGS)
def test_child_spellings_hit_the_same_rule(frame, spelling):
    reference = _fired(triage(frame.format("子ども"), "atsuma"), "子ども")
    assert reference, "the reference spelling fires no rule"
    result = triage(frame.format(spelling), "atsuma")
    assert "child" in result.domains
    assert _fired(result, spelling) == reference


DEMENTIA_SPELLINGS = ["認知症", "にんちしょう", "ニンチショウ", "ﾆﾝﾁｼｮｳ"]
# 母 without an age is not elderly by itself: in these frames only the word can make it so.
DEMENTIA_FRAMES = [
    "{}",
    "母は{}です",
    "母が{}で困っています",
    "{}の父のことで相談です",
]


# 「母がにんちしょうで」 is misread by SudachiPy as がに/ん/ち/しょう: the reading search
# inside kana runs must still find it.
@pytest.mark.parametrize("frame", DEMENTIA_FRAMES)
@pytest.mark.parametrize("spelling", DEMENTIA_SPELLINGS)
def test_dementia_spellings_give_elderly_by_the_same_rule(frame, spelling):
    reference = _fired(triage(frame.format("認知症"), "atsuma"), "認知症")
    assert reference, "the reference spelling fires no rule"
    result = triage(frame.format(spelling), "atsuma")
    assert result.domains == ("elderly",)
    assert _fired(result, spelling) == reference


@pytest.mark.parametrize(
    ("text", "word", "label"),
    [
        ("ｷﾞｬｸﾀｲされているかもしれない子がいます", "ｷﾞｬｸﾀｲ", "abuse"),
        ("もうｼﾞｻﾂしたい", "ｼﾞｻﾂ", "suicide_risk"),
        ("夫からのＤＶがひどい", "ＤＶ", "dv"),
        ("息子はＡＤＨＤと言われています", "ＡＤＨＤ", "disability"),
        ("父がﾃﾞｲｻｰﾋﾞｽに行きたがらない", "ﾃﾞｲｻｰﾋﾞｽ", "elderly"),
    ],
)
def test_half_and_full_width_words_are_evidence(text, word, label):
    result = triage(text, "atsuma")
    assert label in result.domains + result.patterns
    assert any(e.label == label and e.text == word for e in result.evidence), result.evidence


@pytest.mark.parametrize(
    ("text", "label", "quoted"),
    [
        # A message spelled all in half-width katakana: words run on into their particles
        # (ｵｯﾄﾆ), which SudachiPy does not know until they are read in hiragana.
        ("ｵｯﾄﾆ ﾏｲﾆﾁ ﾅｸﾞﾗﾚﾙ", "dv", "ﾅｸﾞﾗ"),
        ("ﾏﾏ ﾋﾞｮｳｷ ｲﾓｳﾄﾉ ｾﾜ ｵﾚ ｶﾞｯｺｳ ｲｹﾃﾅｲ", "young_carer", "ｾﾜ"),
        ("ﾑｽｺｶﾞ ﾍﾔｶﾗ ﾃﾞﾃｺﾅｲ 5ﾈﾝ ﾜﾀｼﾓ ﾓｳ 80", "8050", "ﾍﾔｶﾗ ﾃﾞﾃｺﾅｲ"),
    ],
)
def test_a_message_spelled_in_katakana_is_read(text, label, quoted):
    result = triage(text, "atsuma")
    assert label in result.patterns, result.evidence
    assert any(quoted in e.text for e in result.evidence), result.evidence


def test_katakana_words_sudachipy_knows_stay_katakana():
    # a loanword (long vowel mark) and a known word are not respelled
    tokens = tokenize(normalize("ﾔﾝｸﾞｹｱﾗｰのｹｱﾏﾈ")[0])
    assert [t.surface for t in tokens][0] == "ヤングケアラー"
    assert "ケアマネ" in [t.surface for t in tokens]


@pytest.mark.parametrize(
    "text",
    [
        "８５歳の母のことで相談です",
        "母は８５歳です",
        "祖父(８８)が一人で住んでいます",
        "８０代の父",
    ],
)
def test_full_width_ages_give_elderly(text):
    assert "elderly" in triage(text, "atsuma").domains


@pytest.mark.parametrize("text", ["４５歳の母のことで相談です", "母(４８)のことで相談です"])
def test_full_width_ages_are_read_as_numbers(text):
    # A younger parent is not elderly: the digits are read, not just the role.
    assert "elderly" not in triage(text, "atsuma").domains


def test_full_width_grade_gives_child():
    assert "child" in triage("中２の娘のことで相談です", "atsuma").domains


# --- evidence offsets into the original text ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Half-width voiced kana shrink under NFKC (ｷﾞ -> ギ): later spans must still fit.
        ("ﾆﾝﾁｼｮｳの母がｷﾞｬｸﾀｲされている。借金もある", ["借金"]),
        ("ｼﾞｻﾂも考えた。ﾀﾞﾝﾅのDVがひどい", ["DV"]),
        ("ﾃﾞｲｻｰﾋﾞｽを嫌がる父が、最近は徘徊もする", ["徘徊"]),
        ("ﾊﾟﾊﾟもﾏﾏもｷﾞﾘｷﾞﾘ。８５歳の祖母が認知症で、借金もある", ["認知症", "借金"]),
        # A combining voiced mark (NFD text, e.g. pasted from a file name) composes.
        ("ハ\u309aチンコて\u3099借金をして、家賃を滞納しています", ["借金", "滞納"]),
        # Compatibility characters that grow under NFKC (㈱ -> (株)).
        ("㈱を解雇されて、家賃を滞納しています", ["解雇", "滞納"]),
    ],
)
def test_evidence_offsets_point_into_the_original_text(text, expected):
    result = triage(text, "atsuma")
    assert result.evidence, "no evidence to check"
    assert_offsets_point_into(text, result)
    for word in expected:
        spans = [(e.start, e.end) for e in result.evidence if e.text == word]
        assert spans, f"no evidence quotes {word!r}: {result.evidence}"
        assert all(s == text.index(word) and t == s + len(word) for s, t in spans)


def test_offsets_in_a_text_that_needs_no_normalization():
    text = "母(82)と長男(54)の二人暮らし。長男は無職で自室にこもっている"
    result = triage(text, "atsuma")
    assert "8050" in result.patterns
    assert_offsets_point_into(text, result)


# --- normalize() --------------------------------------------------------------------------


def assert_map_is_correct(text: str) -> None:
    nfkc, origin = normalize(text)
    assert nfkc == unicodedata.normalize("NFKC", text)
    if origin is None:  # offsets unchanged: each character maps to itself
        assert len(nfkc) == len(text)
        assert all(unicodedata.normalize("NFKC", c) == n for c, n in zip(text, nfkc, strict=True))
        return
    assert len(origin) == len(nfkc) + 1
    assert origin[0] == 0 and origin[-1] == len(text)
    assert origin == sorted(origin)
    # Each run of NFKC characters with the same origin is the NFKC of its original slice.
    i = 0
    while i < len(nfkc):
        j = i
        while j < len(nfkc) and origin[j] == origin[i]:
            j += 1
        source = text[origin[i] : origin[j]]
        assert unicodedata.normalize("NFKC", source) == nfkc[i:j], (i, j, source)
        i = j


@pytest.mark.parametrize(
    "text",
    ["", "母が認知症です", "abc 123", "子ども食堂に行きたい。", "相談です😥", "ニンチショウ"],
)
def test_normalize_returns_no_map_for_normalized_text(text):
    assert normalize(text) == (text, None)


@pytest.mark.parametrize(
    "text",
    [
        "ﾆﾝﾁｼｮｳ",
        "ｷﾞｬｸﾀｲ",
        "ｺﾄﾞﾓ",
        "８５歳",
        "ＤＶ（ドメスティック・バイオレンス）",
        "ハ\u309aチンコ",
        "㈱と㍻と①",
        "ﾊﾟﾊﾟもﾏﾏもｷﾞﾘｷﾞﾘ。８５歳の祖母",
        "ｶﾞｽ代が払えず、ｶﾞｽが止まった",
        "ﬁle ｱﾊﾟｰﾄ",
    ],
)
def test_normalize_map_points_back_to_the_original(text):
    assert_map_is_correct(text)


def test_normalize_map_of_voiced_half_width_kana():
    assert normalize("ｷﾞｬｸﾀｲ") == ("ギャクタイ", [0, 2, 3, 4, 5, 6])


def test_normalize_map_of_a_growing_character():
    assert normalize("㍻") == ("平成", [0, 0, 1])


def test_normalize_width_only_keeps_offsets():
    nfkc, origin = normalize("ﾆﾝﾁｼｮｳ")
    assert nfkc == "ニンチショウ"
    assert origin is None or origin == list(range(7))
