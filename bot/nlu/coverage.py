"""Rasa graph component: an FAQ answer whose topic's vocabulary does not cover the message is withheld.

Runs after the FallbackClassifier. When the intent is still "faq" but the chosen topic's training questions use
too few of the message's telling syllables (bot/text/coverage.py), or the ResponseSelector itself is
unsure, the intent becomes ``uncovered_question``: the bot says honestly it cannot answer and offers
a person instead of a confident wrong topic. It backs up the trained ``uncovered_question`` class
(data/nlu/uncovered.yml); the thresholds were chosen on held-out data (docs/BENCHMARKS.md).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.intent_override import override_intent
from bot.nlu.model_resources import read_json, write_json
from bot.text.coverage import TopicVocabulary

INTENT_NAME = "uncovered_question"
RETRIEVAL_INTENT = "faq"
VOCABULARY_FILE = "topic_vocabulary.json"
COVERAGE_KEY = "topic_coverage"
FALLBACK_INTENT = "nlu_fallback"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TopicCoverageGuard(GraphComponent):
    """Turns an FAQ prediction the topic's words do not support into ``uncovered_question``."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """rare_share: a syllable used by less than this share of the labels is telling (bot/text/coverage.py)."""
        return {"rare_share": 0.83, "max_coverage": 0.6, "min_selector_confidence": 0.3}

    def __init__(
        self,
        config: dict[str, Any],
        vocabulary: TopicVocabulary,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        """Keeps the thresholds and each label's vocabulary."""
        self._config = config
        self._vocabulary = vocabulary
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TopicCoverageGuard:
        """An untrained guard: no vocabulary yet, so it withholds nothing."""
        return cls(config, TopicVocabulary({}), model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TopicCoverageGuard:
        """The guard with the vocabulary of the data it was trained on."""
        stored = read_json(model_storage, resource, VOCABULARY_FILE) or {}
        vocabulary = TopicVocabulary({label: set(words) for label, words in stored.items()})
        return cls(config, vocabulary, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Learns which syllables each intent and FAQ topic's questions use, and stores them in the model."""
        examples = [
            (m.get(TEXT), m.get(INTENT_RESPONSE_KEY) or m.get(INTENT))
            for m in training_data.intent_examples
            if m.get(TEXT)
        ]
        self._vocabulary = TopicVocabulary.learn(examples)
        stored = {label: sorted(words) for label, words in self._vocabulary.by_label.items()}
        write_json(self._model_storage, self._resource, VOCABULARY_FILE, stored)
        return self._resource

    def _withheld(self, message: Message) -> bool:
        """Whether to withhold the FAQ answer; what it was judged on goes in the output as ``topic_coverage``."""
        if (message.get(INTENT) or {}).get("name") != RETRIEVAL_INTENT:
            return False
        selected = (message.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
        response = selected.get("response") or {}
        topic = response.get("intent_response_key")
        if not topic:
            return False
        confidence = response.get("confidence") or 0.0
        coverage = self._vocabulary.coverage(message.get(TEXT) or "", topic, self._config["rare_share"])
        message.set(COVERAGE_KEY, {"topic": topic, "coverage": coverage, "selector_confidence": confidence},
                    add_to_output=True)  # fmt: skip
        if confidence < self._config["min_selector_confidence"]:
            return True
        return coverage is not None and coverage <= self._config["max_coverage"]

    def process(self, messages: list[Message]) -> list[Message]:
        """Withholds FAQ answers that the message's words do not support."""
        for message in messages:
            if not self._withheld(message):
                continue
            # not one known word: not understood at all, which the fallback handles (and counts)
            known = self._vocabulary.knows_any(message.get(TEXT) or "")
            override_intent(message, INTENT_NAME if known else FALLBACK_INTENT)
        return messages
