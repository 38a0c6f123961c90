"""How words are read from SudachiPy and how rule phrases are found among them.

The engine reads a dictionary word's forms once per word id and finds phrases by walking
the words of a text; these tests pin down what that must never change.
"""

from __future__ import annotations

import pytest

from routing_rules import text, triage
from routing_rules.lexicon import MAX_STEPS, PhraseIndex, PhraseMatch
from routing_rules.rules import _with_te_iru
from routing_rules.text import Token, normalize, tokenize
from tests.helpers import quoted


def _tokens(text: str) -> list[Token]:
    return tokenize(normalize(text)[0])


# --- words -------------------------------------------------------------------------------


def test_a_word_keeps_its_own_surface_when_its_forms_are_shared():
    # ABC and abc are one dictionary word: the same key, but each token shows its own text.
    first, _, second = _tokens("ABCとabc")
    assert (first.surface, second.surface) == ("ABC", "abc")
    assert first.key == second.key == "ABC"


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        # Numbers SudachiPy joins share one made-up word id; each keeps its own value.
        ("三千五百円と二千円", ["3500", "円", "と", "2000", "円"]),
        # So do unknown katakana words.
        ("キュウショクヒとニンチショウ", ["キュウショクヒ", "と", "ニンチショウ"]),
    ],
)
def test_words_made_up_for_a_text_are_read_from_that_text(text, keys):
    assert [t.key for t in _tokens(text)] == keys
    assert [t.key for t in _tokens(text)] == keys  # and again, once anything was cached


def test_words_that_share_a_slot_take_turns():
    # Words are kept by the low bits of their id; べき and 断水 share a slot, so each
    # pushes the other out and must be read again, never mistaken for it.
    duty = _tokens("するべきだ")[1].word
    cut = _tokens("断水した")[0].word
    assert duty.id != cut.id
    assert duty.id % text._SLOTS == cut.id % text._SLOTS
    for _ in range(2):
        assert [t.key for t in _tokens("するべきだ")] == ["為る", "べし", "だ"]
        assert [t.key for t in _tokens("断水した")] == ["断水", "為る", "た"]


@pytest.mark.parametrize("text", ["隣の家なんだけっど、ばあちゃんが心配だっちゃ", "おら75だけっど"])
def test_tohoku_kedo_is_but_not_kick(text):
    # SudachiPy reads the けっ of 「だけっど」 (but) as 蹴る (kick)
    assert "蹴る" not in [t.key for t in _tokens(text)]
    assert "蹴る" in [t.key for t in _tokens("息子に足をけって、ひどい")]


@pytest.mark.parametrize("text", ["家賃払えねぐて困ってる", "金がねぐて"])
def test_tohoku_negu_is_not(text):
    # SudachiPy reads the ねぐ of 「払えねぐて」 (cannot pay) as 祈ぐ (pray)
    assert "無い" in [t.key for t in _tokens(text)]
    assert "祈ぐ" not in [t.key for t in _tokens(text)]


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("ばあちゃんの姿がここ3日見えねぇ。", True),  # SudachiPy reads ね, the particle, here
        ("何も言わねぇ", True),
        ("あんたもよくするねえ", False),  # after a verb's plain form: the particle ね
        ("今日は寒いねぇ", False),
    ],
)
def test_tohoku_nee_after_a_verb_stem_is_not(text, negated):
    keys = [t.key for t in _tokens(text) if t.surface in ("ねえ", "ねぇ")]
    assert (keys == ["無い"]) is negated, keys


def test_tohoku_deharu_is_to_go_out():
    # 出はる is 出る; SudachiPy reads 出|はっ, and the はる spells nothing
    tokens = _tokens("部屋がら出はってこねぇ")
    assert [t.key for t in tokens if t.key][2:] == ["出る", "て", "来る", "無い"]
    text = "息子が会社やめでがら三年、部屋がら出はってこねぇのっしゃ。おれも七十五だ"
    assert "hikikomori" in triage(text, "tomiya").patterns, quoted(triage(text, "tomiya"))


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("ほとんど家さいて外さ出ねえの", ["家", "に", "居る", "外", "に", "出る"]),
        ("部屋がら出はってこねぇ", ["部屋", "から", "出る"]),
        ("会社やめでがら三年", ["やめ", "から"]),
    ],
)
def test_tohoku_particles_sa_and_gara_are_ni_and_kara(text, keys):
    # SudachiPy reads 外さ as 外す (remove) and 家さい as 家|咲く; the swap keeps offsets
    tokens = _tokens(text)
    found = [t.key for t in tokens]
    assert all(key in found for key in keys), found
    assert tokens[-1].end == len(text)  # offsets still point into the text as written


def test_evidence_quotes_the_tohoku_text_as_written():
    text = "親父(84)と兄貴(45)の二人暮らし。兄貴は仕事やめてから10年、ずっと家さいる"
    result = triage(text, "tomiya")
    assert "8050" in result.patterns
    assert any("家さいる" in e.text for e in result.evidence), [e.text for e in result.evidence]


@pytest.mark.parametrize(
    ("text", "kept"),
    [("小さい子がいる", "小さい"), ("書いて下さい", "下さい"), ("泣きながら話した", "ながら")],
)
def test_standard_sa_and_nagara_are_kept(text, kept):
    assert kept in "".join(t.surface for t in _tokens(text))


def test_a_space_spells_no_sound():
    # SudachiPy reads a space キゴウ; a text typed with spaces between its words must still
    # be read by sound across them
    assert [t.reading for t in _tokens("だれも たずねて こない") if not t.key] == [""] * 2


def test_readings_only_when_kana_may_be_misread():
    assert {t.reading for t in _tokens("母が年取った")} == {""}
    assert [t.reading for t in _tokens("ニンチショウ")] == ["ニンチショウ"]


def test_offsets_add_up_over_chunks_of_a_long_text():
    text = "母は85歳で認知症です。" * 400  # longer than SudachiPy takes at once
    tokens = _tokens(text)
    assert "".join(t.surface for t in tokens) == text
    assert all(text[t.start : t.end] == t.surface for t in tokens)
    assert tokens[-1].sentence == 399


# --- phrases among the words -------------------------------------------------------------


@pytest.fixture(scope="module")
def index() -> tuple[PhraseIndex, dict[str, int]]:
    index = PhraseIndex()
    phrases = ("年取る", "妊娠", "発達", "困る", "認知症", "倒産", "姉妹", "=死ね")
    ids = {p: index.add(p) for p in phrases}
    index.freeze()
    return index, ids


def _found(index: PhraseIndex, text: str) -> list[tuple[int, str]]:
    """(phrase id, the words it covers) for each match."""
    tokens = _tokens(text)
    matches: list[PhraseMatch] = index.match(tokens)
    return [(m.phrase, "|".join(t.surface for t in tokens[m.start : m.end])) for m in matches]


@pytest.mark.parametrize(
    ("text", "phrase", "covered"),
    [
        ("母が年取った", "年取る", "年|取っ"),  # a phrase over words SudachiPy split
        ("妊娠中です", "妊娠", "妊娠中"),  # one suffix short of a noun's end
        ("妊娠中 つわり", "妊娠", "妊娠中| "),  # and so before a space
        ("困ります", "困る", "困り|ます"),  # a word that spells nothing goes along
        ("ははがにんちしょう", "認知症", "がに|ん|ち|しょう"),  # by reading, across cut kana
        ("死ねと言われた", "=死ね", "死ね"),  # only as written
    ],
)
def test_a_phrase_is_found_over_whole_words(index, text, phrase, covered):
    phrases, ids = index
    assert (ids[phrase], covered) in _found(phrases, text)


@pytest.mark.parametrize(
    "text",
    [
        "発達障害",  # 発達 is not a suffix short of 発達障害
        "おとうさんが",  # とうさん inside a word SudachiPy knew is not 倒産
        "死ぬと言われた",  # 「=死ね」 matches only as written
        "ずっと ねて しまいます",  # しまい (仕舞う) is no 姉妹, though it reads シマイ
    ],
)
def test_no_phrase_inside_a_word_that_means_something_else(index, text):
    phrases, _ = index
    assert _found(phrases, text) == []


def test_matches_come_by_start_and_the_longest_first():
    index = PhraseIndex()
    short, long = index.add("介護"), index.add("介護 疲れ")
    index.freeze()
    matches = index.match(_tokens("母の介護疲れと介護"))
    spans = [(m.start, -m.end) for m in matches]
    assert spans == sorted(spans)
    assert [m.phrase for m in matches][:2] == [long, short]


def test_a_phrase_matches_as_its_words_read_in_a_sentence():
    # 「しめる」 alone reads as 湿る (damp), but as しめる in 「首をしめてくる」: a phrase's
    # spaces are word boundaries, so its words are read one by one as well as whole.
    index = PhraseIndex()
    choke = index.add("首 を しめる")
    index.freeze()
    for written in ("首をしめてくる", "首をしめる"):
        assert [m.phrase for m in index.match(_tokens(written))] == [choke], written
    assert index.add("首  を しめる") == choke  # the same words, the same phrase


def test_a_phrase_in_its_te_form_also_matches_the_te_iru_form_read_as_one_word():
    # SudachiPy reads 払ってる as 払っ|てる (one word, て居る), where 払って is 払っ|て:
    # a rule's 「払って」 is compiled with 「払ってる」 beside it; 「で」 and 「=」 phrases stay.
    assert _with_te_iru("食費 を 払って") == ("食費 を 払って", "食費 を 払ってる")
    assert _with_te_iru("読んで") == ("読んで", "読んでる")
    assert _with_te_iru("公園 で") == ("公園 で",)
    assert _with_te_iru("=死んで") == ("=死んで",)
    result = triage("バイト代で家の食費払ってる", "atsuma")
    assert "poverty" in result.domains, quoted(result)


def test_a_words_remembered_steps_serve_every_rule_set_alike():
    # A word keeps where it led in each rule set's phrases; two sets that share words
    # must still find only their own phrases, whichever ran first.
    first, second = PhraseIndex(), PhraseIndex()
    care = first.add("介護 疲れ")
    tired = second.add("疲れ")
    first.freeze()
    second.freeze()
    text = "母の介護疲れ"
    for _ in range(2):  # the second round takes the remembered steps
        assert [m.phrase for m in first.match(_tokens(text))] == [care]
        assert [m.phrase for m in second.match(_tokens(text))] == [tired]


def test_a_words_remembered_steps_are_bounded():
    index = PhraseIndex()
    for n in range(MAX_STEPS + 10):  # more phrases that go on with の than a word keeps
        index.add(f"語{n}の")
    index.freeze()
    for n in range(MAX_STEPS + 10):
        tokens = _tokens(f"語{n}の")
        assert [m.phrase for m in index.match(tokens)], n  # found, kept in the memo or not
    assert len(_tokens("の")[0].word.steps) <= MAX_STEPS


def test_a_key_read_anew_for_a_text_is_not_taken_from_the_words_memo():
    # 「もって いって」: after a て form the word いって is read as 行く, not SudachiPy's 言う.
    # The word's remembered steps are for 言う, and must not answer for 行く.
    index = PhraseIndex()
    taken = index.add("持って 行く")
    index.add("持って 言う")
    index.freeze()
    tokens = _tokens("つうちょう を もって いって")
    assert tokens[-2].key == "行く"
    tokens[-2].key = tokens[-2].word.key  # walk once as 言う, so the memo holds its step
    index.match(tokens)
    tokens[-2].key = "行く"
    assert taken in [m.phrase for m in index.match(tokens)]


def test_a_digit_spells_no_sound():
    # 「は3」 must not be read ハサン (破産, bankruptcy): readings serve kana, not numbers
    assert "poverty" not in triage("退院予定は3週間後です", "atsuma").domains


def test_a_reading_does_not_start_inside_a_words_kana_ending():
    # 受け|られる: the kana run けられる holds ケラレル (蹴られる, kicked), but it starts
    # inside 受け, a word SudachiPy knew; a kana word cut short still counts (が|にんち…).
    index = PhraseIndex()
    kicked, dementia = index.add("蹴られる"), index.add("認知症")
    index.freeze()
    # (ギャンブル, a katakana word read as written, turns readings on for the text)
    assert _found(index, "ギャンブル依存の治療はどこで受けられるのでしょうか") == []
    assert (dementia, "がに|ん|ち|しょう") in _found(index, "ははがにんちしょう")
    assert kicked in [p for p, _ in _found(index, "ギャンブルで夫にけられる")]
