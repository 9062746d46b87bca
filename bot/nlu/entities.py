"""Rasa entity extractor wrapping the rule-based spaCy finder in ``bot.text.entities``."""

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

from bot.text.entities import EntityFinder, shared_finder


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class VietnameseEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Extracts order numbers, Vietnamese mobiles and e-mails with normalized values."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """No options: the rules are the shop's formats."""
        return {}

    @staticmethod
    def required_packages() -> list[str]:
        """Packages this component imports."""
        return ["spacy"]

    def __init__(self, finder: EntityFinder) -> None:
        """Wraps a finder built once per process."""
        self._finder = finder

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseEntityExtractor:
        """Creates the extractor (see parent class for full docstring)."""
        return cls(shared_finder())

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
            message.set(
                ENTITIES,
                message.get(ENTITIES, []) + self.add_extractor_name(found),
                add_to_output=True,
            )
        return messages
