"""TF-IDF sentence features for short Japanese messages (Rasa 3.6 graph component).

Rasa's CountVectorsFeaturizer gives raw counts. With a few hundred short messages, a
linear classifier does markedly better on l2-normalised, sublinear TF-IDF (one long
consultation no longer outweighs 「はい」), measured by scripts/nlu-crossval. Three views
of the message, each its own vocabulary:

- characters: n-grams of the NFKC-normalised, lower-cased text as written, so ﾊｲ/ハイ and
  ＯＫ/ok meet, and typos still share most n-grams;
- lemmas: Sudachi's normalized forms from the tokenizer (子供/こども/ｺﾄﾞﾓ → 子供);
- readings: Sudachi's katakana readings, so kanji and kana-only spellings meet.

Only sentence features are produced: they feed LogisticRegressionClassifier, while the
entity extractor reads tokens. The vocabulary and IDF weights are stored as JSON, not
pickles, so a model file cannot carry code.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer

_VIEWS = ("chars", "lemmas", "readings")
_FILE = "tfidf.json"


def _characters(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _words(words: list[str]) -> list[str]:
    # the words are already split (by Sudachi): the analyzer hands them on as they are
    return words


def _vectorizer(view: str, config: dict[str, Any]) -> TfidfVectorizer:
    if view == "chars":
        return TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(config["min_ngram"], config["max_ngram"]),
            preprocessor=_characters,
            sublinear_tf=True,
        )
    return TfidfVectorizer(analyzer=_words, sublinear_tf=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class TfidfFeaturizer(SparseFeaturizer, GraphComponent):
    """Sentence-level TF-IDF of characters, lemmas and readings of the message text."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**SparseFeaturizer.get_default_config(), "min_ngram": 1, "max_ngram": 4}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if not 1 <= config["min_ngram"] <= config["max_ngram"]:
            raise ValueError("TfidfFeaturizer: need 1 <= min_ngram <= max_ngram")

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vectorizers: dict[str, TfidfVectorizer] | None = None,
    ) -> None:
        config = {**self.get_default_config(), **config}
        super().__init__(resource.name, config)  # validates and keeps it as self._config
        self._model_storage = model_storage
        self._resource = resource
        self._vectorizers = vectorizers or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TfidfFeaturizer:
        return cls(config, model_storage, resource)

    @staticmethod
    def _views(message: Message) -> dict[str, Any]:
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        return {
            "chars": message.get(TEXT) or "",
            "lemmas": [t.lemma or t.text for t in tokens],
            "readings": [t.data.get("reading") or t.text for t in tokens],
        }

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.training_examples if m.get(TEXT)]
        views = [self._views(m) for m in examples]
        self._vectorizers = {}
        for view in _VIEWS:
            vectorizer = _vectorizer(view, self._config)
            vectorizer.fit([v[view] for v in views])
            self._vectorizers[view] = vectorizer
        self.persist()
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        if not self._vectorizers:
            return messages
        for message in messages:
            if not message.get(TEXT):
                continue
            views = self._views(message)
            sentence = scipy.sparse.hstack(
                [self._vectorizers[view].transform([views[view]]) for view in _VIEWS]
            ).tocoo()
            self.add_features_to_message(
                sequence=None, sentence=sentence, attribute=TEXT, message=message
            )
        return messages

    def persist(self) -> None:
        state = {
            view: {
                "vocabulary": {term: int(i) for term, i in v.vocabulary_.items()},
                "idf": v.idf_.tolist(),
            }
            for view, v in self._vectorizers.items()
        }
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _FILE).write_text(json.dumps(state, ensure_ascii=False), "utf-8")

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfFeaturizer:
        config = {**cls.get_default_config(), **config}
        try:
            with model_storage.read_from(resource) as directory:
                state = json.loads((directory / _FILE).read_text("utf-8"))
        except ValueError:  # not trained (no training data): features stay off
            return cls(config, model_storage, resource)
        vectorizers = {}
        for view, saved in state.items():
            vectorizer = _vectorizer(view, config)
            vectorizer.vocabulary_ = saved["vocabulary"]
            vectorizer.idf_ = np.asarray(saved["idf"], dtype=np.float64)
            vectorizers[view] = vectorizer
        return cls(config, model_storage, resource, vectorizers)
