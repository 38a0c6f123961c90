"""Rasa's LogisticRegressionClassifier with its regularisation strength configurable.

Rasa 3.6 fixes C=1.0, which is too strong for l2-normalised TF-IDF features of short
messages: on our data 5-fold intent macro F1 rose from 0.88 at C=1 to about 0.91 at C=30
(scripts/nlu-crossval). Everything else, persistence included, is Rasa's own.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import (
    LogisticRegressionClassifier,
)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TunedLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Logistic regression intent classifier; config ``C`` (inverse regularisation)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0}

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))
