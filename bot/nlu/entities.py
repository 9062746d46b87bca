"""Rasa entity extractor wrapping the rule-based spaCy finder in ``bot.text.entities``.

The issue-type phrases from ``data/shop/support.yml`` are stored in the model at
training time, so a model extracts the same issue types wherever it is loaded.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.model_resources import read_json, write_json
from bot.support import issue_synonyms
from bot.text.entities import EntityFinder

SYNONYMS_FILE = "issue_synonyms.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class VietnameseEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Extracts order numbers, mobiles, e-mails and issue types with normalized values."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """No options: the formats are the shop's, the issue types come from data."""
        return {}

    @staticmethod
    def required_packages() -> list[str]:
        """Packages this component imports."""
        return ["spacy"]

    def __init__(
        self,
        issue_synonyms: dict[str, list[str]],
        model_storage: ModelStorage | None = None,
        resource: Resource | None = None,
    ) -> None:
        """Builds the spaCy finder for these issue-type phrases."""
        self._issue_synonyms = issue_synonyms
        self._finder = EntityFinder(issue_synonyms)
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseEntityExtractor:
        """Creates the extractor with the issue types of data/shop/support.yml."""
        return cls(issue_synonyms(), model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> VietnameseEntityExtractor:
        """Loads the extractor with the issue types it was trained with."""
        synonyms = read_json(model_storage, resource, SYNONYMS_FILE)
        if synonyms is None:
            return cls.create(config, model_storage, resource, execution_context)
        return cls(synonyms, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Stores the issue-type phrases in the model."""
        if self._model_storage is None or self._resource is None:
            raise ValueError("train() needs the model storage given to create()")
        write_json(self._model_storage, self._resource, SYNONYMS_FILE, self._issue_synonyms)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds the entities found in each message's text."""
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            found = [
                {
                    ENTITY_ATTRIBUTE_TYPE: e.entity,
                    ENTITY_ATTRIBUTE_VALUE: e.value,
                    ENTITY_ATTRIBUTE_START: e.start,
                    ENTITY_ATTRIBUTE_END: e.end,
                    "confidence_entity": 1.0,
                }
                for e in self._finder.find(text)
            ]
            message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name(found), add_to_output=True)
        return messages
