"""bot.tokenizer.SudachiTokenizer, run inside .venv-rasa (Rasa 3.6 needs Python 3.10).

One subprocess tokenizes every sample and prints JSON; the tests check surfaces, character
offsets on the original text, and lemmas (Sudachi's normalized forms).
"""

from __future__ import annotations

import json

import pytest

from tests.botstack import run_in_rasa_env

SAMPLES = {
    "kanji": "子供のことで相談したいです",
    "halfwidth": "ｺﾄﾞﾓが 学校に行けません。",
    "kana": "こどもの事で申込みたい",
    "fullwidth": "ＡＢＣ町　に住んでます",
    "mode": "認知症の母が引きこもり状態です",
    "long": "毎日つらいです。" * 2500 + "助けて",
}

SCRIPT = r"""
import json, sys
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.training_data.message import Message
from bot.tokenizer import SudachiTokenizer

samples = json.loads(sys.stdin.read())
registered = DefaultV1Recipe._from_registry("bot.tokenizer.SudachiTokenizer")
out = {
    "registered": registered.clazz is SudachiTokenizer,
    "types": sorted(t.name for t in registered.types),
    "trainable": registered.is_trainable,
    "tokens": {},
}
for mode in ("A", "C"):
    tok = SudachiTokenizer.create({"split_mode": mode}, None, None, None)
    for key, text in samples.items():
        tokens = tok.tokenize(Message(data={"text": text}), "text")
        out["tokens"][f"{mode}:{key}"] = [
            [t.text, t.start, t.end, t.lemma, t.data.get("pos")] for t in tokens
        ]
default = SudachiTokenizer.create({}, None, None, None)
out["default_mode"] = str(default.split_mode)
print(json.dumps(out, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def result() -> dict:
    return run_in_rasa_env(SCRIPT, json.dumps(SAMPLES))


def _tokens(result: dict, key: str, mode: str = "C") -> list[list]:
    return result["tokens"][f"{mode}:{key}"]


def test_registered_as_a_message_tokenizer(result: dict) -> None:
    assert result["registered"]
    assert result["types"] == ["MESSAGE_TOKENIZER"]
    assert result["trainable"] is False
    assert result["default_mode"].endswith("C")


def test_surfaces_offsets_and_lemmas(result: dict) -> None:
    assert [t[:4] for t in _tokens(result, "kanji")] == [
        ["子供", 0, 2, "子供"],
        ["の", 2, 3, "の"],
        ["こと", 3, 5, "こと"],
        ["で", 5, 6, "で"],
        ["相談", 6, 8, "相談"],
        ["し", 8, 9, "為る"],
        ["たい", 9, 11, "たい"],
        ["です", 11, 13, "です"],
    ]
    assert _tokens(result, "kanji")[0][4] == "名詞"


def test_spelling_variants_share_a_lemma_and_keep_their_text(result: dict) -> None:
    halfwidth = _tokens(result, "halfwidth")
    # ｺﾄﾞﾓ is four characters (ﾄ + ﾞ); the offsets stay on the text as written
    assert halfwidth[0][:4] == ["ｺﾄﾞﾓ", 0, 4, "子供"]
    # the space is not a token, and the next offset counts it
    assert halfwidth[1][:3] == ["が", 4, 5]
    assert halfwidth[2][:3] == ["学校", 6, 8]
    assert halfwidth[3][3] == "に"
    assert halfwidth[4][3] == "行く"
    kana = _tokens(result, "kana")
    assert kana[0][:4] == ["こども", 0, 3, "子供"]
    assert ["申込み", 6, 9, "申し込む"] in [t[:4] for t in kana]
    fullwidth = _tokens(result, "fullwidth")
    assert fullwidth[0][:4] == ["ＡＢＣ", 0, 3, "ABC"]
    assert "　" not in [t[0] for t in fullwidth]


def test_offsets_slice_the_original_text(result: dict) -> None:
    for key, text in SAMPLES.items():
        for mode in ("A", "C"):
            tokens = _tokens(result, key, mode)
            assert tokens, key
            for surface, start, end, _lemma, _pos in tokens:
                assert text[start:end] == surface
            starts = [t[1] for t in tokens]
            assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_split_mode(result: dict) -> None:
    assert [t[0] for t in _tokens(result, "mode", "C")][:2] == ["認知症", "の"]
    assert [t[0] for t in _tokens(result, "mode", "A")][:3] == ["認知", "症", "の"]
    assert ["引きこもり", 6, 11, "引き籠もり"] in [t[:4] for t in _tokens(result, "mode")]


def test_long_text_is_tokenized_in_chunks(result: dict) -> None:
    # Sudachi refuses more than 49,149 bytes at once; this text has 20,003 characters
    # (about 60,000 bytes), so it is cut into chunks and the offsets still add up.
    tokens = _tokens(result, "long")
    n = len(SAMPLES["long"])
    assert [t[:3] for t in tokens[-2:]] == [["助け", n - 3, n - 1], ["て", n - 1, n]]
    assert [t[0] for t in tokens[:6]] == ["毎日", "つらい", "です", "。", "毎日", "つらい"]
