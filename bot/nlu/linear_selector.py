"""Which FAQ answer a question asks for: the linear model of bot/nlu/linear_model.py over the topics.

It fills the message's ``response_selector`` exactly as Rasa's ``ResponseSelector`` does, so
``utter_faq`` (Rasa's ``ActionRetrieveResponse``), the coverage guard, the several-questions action,
the console's suggestions and the evaluation read it unchanged. Rasa's ``ResponseSelector`` is not
used: its TensorFlow call per message was 19% of the Rasa server's CPU under load and its 40 epochs
20 s of training, for no better choice of topic (docs/BENCHMARKS.md, "The FAQ topic").
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_model import DEFAULT_CONFIG, LinearComponent, LinearModel
from bot.nlu.model_resources import read_json, write_json

logger = logging.getLogger(__name__)

MODEL_NAME = "linear_selector"
RESPONSES_FILE = "linear_selector_responses.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearResponseSelector(LinearComponent):
    """Picks one retrieval intent's answer ("faq/shipping_fee") with a class-weighted logistic regression."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The retrieval intent whose answers are chosen, how many go in the ranking, the linear settings."""
        return {**DEFAULT_CONFIG, "retrieval_intent": "faq", "ranking_length": 10}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        trained: LinearModel | None = None,
        responses: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        """A trained or loaded model with each topic's responses, or none yet."""
        super().__init__(config, model_storage, resource, trained)
        self._responses = responses or {}

    def train(self, training_data: TrainingData) -> Resource:
        """Learns the topics from the retrieval intent's examples; keeps each topic's responses beside it."""
        retrieval_intent = self._config["retrieval_intent"]
        examples = [
            e for e in training_data.intent_examples
            if e.get(INTENT) == retrieval_intent and e.get(INTENT_RESPONSE_KEY) and e.get(TEXT)
        ]  # fmt: skip
        self._trained = LinearModel.fit(examples, [e.get(INTENT_RESPONSE_KEY) for e in examples], self._config)
        if self._trained is None:
            logger.debug("LinearResponseSelector: fewer than two topics of %s, nothing to learn.", retrieval_intent)
            return self._resource
        self._responses = {
            topic: training_data.responses.get(_utter_action(topic)) or [{TEXT: topic}]
            for topic in self._trained.classes
        }
        self._trained.save(self._model_storage, self._resource, MODEL_NAME)
        write_json(self._model_storage, self._resource, RESPONSES_FILE, self._responses)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearResponseSelector:
        """The stored model and the topics' responses."""
        merged = {**cls.get_default_config(), **config}
        trained = LinearModel.load(model_storage, resource, MODEL_NAME, merged)
        responses = read_json(model_storage, resource, RESPONSES_FILE) if trained else None
        return cls(config, model_storage, resource, trained, responses)

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets ``response_selector[<retrieval intent>]`` on every message, as Rasa's ResponseSelector does."""
        if self._trained is None or not messages:
            return messages
        retrieval_intent = self._config["retrieval_intent"]
        for message, probabilities in zip(messages, self._trained.probabilities(messages), strict=True):
            ranked = sorted(zip(self._trained.classes, probabilities.tolist(), strict=True), key=lambda p: -p[1])
            ranked = ranked[: self._config["ranking_length"]]
            topic, confidence = ranked[0]
            selected = message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}
            selected[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = [retrieval_intent]
            selected[retrieval_intent] = {
                RESPONSE_SELECTOR_PREDICTION_KEY: {
                    RESPONSE_SELECTOR_RESPONSES_KEY: self._responses.get(topic) or [{TEXT: topic}],
                    PREDICTED_CONFIDENCE_KEY: confidence,
                    INTENT_RESPONSE_KEY: topic,
                    RESPONSE_SELECTOR_UTTER_ACTION_KEY: _utter_action(topic),
                },
                RESPONSE_SELECTOR_RANKING_KEY: [
                    {PREDICTED_CONFIDENCE_KEY: p, INTENT_RESPONSE_KEY: name} for name, p in ranked
                ],
            }
            message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selected, add_to_output=True)
        return messages


def _utter_action(topic: str) -> str:
    """ "faq/shipping_fee" -> "utter_faq/shipping_fee", the response Rasa's ``utter_faq`` sends."""
    return f"utter_{topic}"
