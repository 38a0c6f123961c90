"""bot.tfidf.TfidfFeaturizer and bot.classifier.TunedLogisticRegressionClassifier, run
inside .venv-rasa (Rasa 3.6 needs Python 3.10).

One subprocess trains both on a small set of messages in a real Rasa model storage, loads
them back as a new process of Rasa would, and prints JSON for the checks below.
"""

from __future__ import annotations

import pytest

from tests.botstack import run_in_rasa_env

SCRIPT = r"""
import json, sys, tempfile
from pathlib import Path
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.tokenizer import SudachiTokenizer
from bot.tfidf import TfidfFeaturizer
from bot.classifier import TunedLogisticRegressionClassifier

storage = LocalModelStorage(Path(tempfile.mkdtemp()))
context = ExecutionContext(GraphSchema({}), "test")
tokenizer = SudachiTokenizer.create({}, storage, Resource("tok"), context)
examples = {
    "affirm": ["はい", "そうです", "おねがいします", "ＯＫです"],
    "deny": ["いいえ", "ちがいます", "やめてください", "だめです"],
    "consult": ["子供のことで困っています", "お金がなくて困っています", "母の介護がつらい"],
}
messages = [Message(data={"text": t, "intent": i}) for i, ts in examples.items() for t in ts]
data = TrainingData(messages)
tokenizer.process_training_data(data)

config = {"min_ngram": 1, "max_ngram": 3}
featurizer = TfidfFeaturizer.create(config, storage, Resource("tfidf"), context)
featurizer.train(data)
featurizer.process_training_data(data)
classifier = TunedLogisticRegressionClassifier.create(
    {"C": 30}, storage, Resource("lr"), context)
classifier.train(data)

loaded = TfidfFeaturizer.load(config, storage, Resource("tfidf"), context)
loaded_classifier = TunedLogisticRegressionClassifier.load(
    {"C": 30}, storage, Resource("lr"), context)

def features(component, text):
    message = Message(data={"text": text})
    tokenizer.process([message])
    component.process([message])
    sequence, sentence = message.get_sparse_features("text")
    return message, sequence, sentence.features.toarray()[0]

def shared(a, b):
    return int(((features(loaded, a)[2] > 0) & (features(loaded, b)[2] > 0)).sum())

trained = features(featurizer, "こどものことで困っています")[2]
reloaded = features(loaded, "こどものことで困っています")[2]
message = features(loaded, "ｺﾄﾞﾓのことで")[0]
loaded_classifier.process([message])
out = {
    "same_after_load": trained.tolist() == reloaded.tolist(),
    "no_sequence_features": features(loaded, "はい")[1] is None,
    "norm": float((reloaded ** 2).sum()),
    # 子供/こども share a lemma and a reading; unrelated words share no lemma or reading
    "shared_kanji_kana": shared("子供", "こども"),
    "shared_unrelated": shared("子供", "いいえ"),
    "C": loaded_classifier.clf.C,
    "predictions": {},
}
for text in ("ﾊｲ", "いいえ、やめてください", "ｺﾄﾞﾓのことで困っています"):
    m = Message(data={"text": text})
    tokenizer.process([m]); loaded.process([m]); loaded_classifier.process([m])
    out["predictions"][text] = m.get("intent")["name"]
empty = TfidfFeaturizer.load(config, storage, Resource("never-trained"), context)
m = Message(data={"text": "はい"}); tokenizer.process([m]); empty.process([m])
out["untrained_adds_nothing"] = m.get_sparse_features("text") == (None, None)
print(json.dumps(out, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def result() -> dict:
    return run_in_rasa_env(SCRIPT)


def test_features_survive_persist_and_load(result: dict) -> None:
    assert result["same_after_load"]
    assert result["no_sequence_features"]


def test_each_view_is_l2_normalised(result: dict) -> None:
    # three views (characters, lemmas, readings), each a unit vector
    assert result["norm"] == pytest.approx(3.0, abs=1e-4)


def test_kanji_and_kana_spellings_share_features(result: dict) -> None:
    assert result["shared_kanji_kana"] >= 2  # the lemma and the reading at least
    assert result["shared_kanji_kana"] > result["shared_unrelated"]


def test_classifier_keeps_configured_c_and_predicts(result: dict) -> None:
    assert result["C"] == 30
    assert result["predictions"] == {
        "ﾊｲ": "affirm",
        "いいえ、やめてください": "deny",
        "ｺﾄﾞﾓのことで困っています": "consult",
    }


def test_untrained_featurizer_adds_no_features(result: dict) -> None:
    assert result["untrained_adds_nothing"]
