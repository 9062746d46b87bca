"""A class-weighted linear intent model on TF-IDF n-grams; config.yml's only intent classifier.

A logistic regression with balanced class weights over sublinear TF-IDF of word uni/bigrams (as typed
and without diacritics) and character n-grams trains in seconds, hears rare intents that thousands of
examples of a majority intent drown, and gets pairs such as "chuyến bay và giá vé" (PhoATIS's
"airfare#flight") right. Alone it scored above DIET, and above DIET averaged with it, on PhoATIS and on
the shop's held-out sets, with 30% less of the Rasa server's CPU per message (docs/BENCHMARKS.md,
"PhoATIS"). When an earlier classifier has ranked the intents, the two rankings are averaged with
``linear_weight``.

Rasa's own ``LogisticRegressionClassifier`` is not used: it reads the featurizers' raw counts (no
bigrams from the tokenizer's segmentation, no TF-IDF, no class weights to set) and replaces an earlier
answer instead of blending with it.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_model import DEFAULT_CONFIG, LinearComponent, LinearModel

logger = logging.getLogger(__name__)

MODEL_NAME = "linear_intent"
RANKING_LENGTH = 10


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(LinearComponent):
    """Logistic regression over TF-IDF n-grams, averaged with the previous classifier's ranking."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The shared linear settings (bot/nlu/linear_model.py) and the blend with an earlier classifier."""
        # share of this model in the averaged ranking; the rest is the previous classifier's
        return {**DEFAULT_CONFIG, "linear_weight": 0.3}

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the vectorizers and the class-weighted logistic regression, and stores them."""
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        self._trained = LinearModel.fit(examples, [e.get(INTENT) for e in examples], self._config)
        if self._trained is None:
            logger.debug("LinearIntentClassifier: fewer than two intents, nothing to learn.")
        else:
            self._trained.save(self._model_storage, self._resource, MODEL_NAME)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        """The stored vocabularies, IDF weights and coefficients."""
        merged = {**cls.get_default_config(), **config}
        return cls(config, model_storage, resource, LinearModel.load(model_storage, resource, MODEL_NAME, merged))

    def process(self, messages: list[Message]) -> list[Message]:
        """Averages this model's probabilities with the ranking already on each message."""
        if self._trained is None or not messages:
            return messages
        weight = self._config["linear_weight"]
        for message, probabilities in zip(messages, self._trained.probabilities(messages), strict=True):
            earlier = {r[INTENT_NAME_KEY]: r[PREDICTED_CONFIDENCE_KEY] for r in message.get(INTENT_RANKING_KEY) or []}
            own = dict(zip(self._trained.classes, probabilities.tolist(), strict=True))
            share = weight if earlier else 1.0
            blended = {
                name: share * own.get(name, 0.0) + (1 - share) * earlier.get(name, 0.0) for name in {*own, *earlier}
            }
            ranking = sorted(
                ({INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: p} for name, p in blended.items()),
                key=lambda r: -r[PREDICTED_CONFIDENCE_KEY],
            )[:RANKING_LENGTH]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
