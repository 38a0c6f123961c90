"""The urgent check: the triage rules, not the model, decide whether a message is danger.

Runs last in the NLU pipeline so that its answer wins over every classifier: when the
rules of routing_rules (希死念慮, 虐待, DV, no food or shelter today, …) find urgent danger,
the message's intent becomes ``urgent`` with confidence 1.0, whatever DIET predicted, and
the rules of data/rules.yml give the emergency lines at once. The model's own ranking stays
in ``intent_ranking`` below it. Nothing here is learned, so the check works the same with a
model trained on any data.

The municipality (its local rules add words) comes from the message metadata
(``{"municipality": "tomiya"}``, set by the channels), else the ``municipality`` option,
else ``TSUNAGU_MUNICIPALITY``; when none is known every municipality's rules are asked, so
that danger is never missed for want of a setting.
"""

from __future__ import annotations

import os
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from routing_rules import municipality_ids, triage

URGENT_INTENT = "urgent"


def is_urgent(text: str, municipality: str | None) -> bool:
    """Whether the triage rules find urgent danger in ``text``."""
    known = list(municipality_ids())
    places = [municipality] if municipality in known else known
    return any(triage(text, place).urgent for place in places)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class UrgentDetector(GraphComponent):
    """Sets the intent to ``urgent`` when the triage rules find danger in the text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"municipality": None}

    def __init__(self, config: dict[str, Any]) -> None:
        self._municipality = config.get("municipality") or os.environ.get("TSUNAGU_MUNICIPALITY")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UrgentDetector:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/"):  # empty, or a button's intent payload
                continue
            metadata = message.get("metadata") or {}
            municipality = metadata.get("municipality") or self._municipality
            if not is_urgent(text, municipality):
                continue
            urgent = {"name": URGENT_INTENT, "confidence": 1.0}
            ranking = message.get(INTENT_RANKING_KEY) or []
            ranking = [r for r in ranking if r.get("name") != URGENT_INTENT]
            message.set(INTENT, urgent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [urgent, *ranking], add_to_output=True)
        return messages
