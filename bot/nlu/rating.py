"""Rasa graph component: a message that is only a 1-5 rating is a rating (``rate_service``).

It runs after the classifiers, so a bare "5" or "năm sao" that the intent model left to the fallback becomes
``rate_service`` with the score as the ``csat_score`` entity. Whether there was a conversation to
rate is the desk's to say (actions/handoff.py ``ActionRecordCsat``): without one the customer is
asked to rephrase, as before.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import RuleComponent, override_intent
from bot.text.rating import rating_in

INTENT_NAME = "rate_service"
ENTITY = "csat_score"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RatingReader(RuleComponent):
    """Reads bare ratings ("5", "5*", "4 sao", "năm sao", "⭐⭐⭐") as ``rate_service``."""

    def process(self, messages: list[Message]) -> list[Message]:
        """Overrides the intent of a message that is nothing but a rating."""
        for message in messages:
            score = rating_in(message.get(TEXT) or "")
            if score is None:
                continue
            override_intent(message, INTENT_NAME)
            entity = {"entity": ENTITY, "value": str(score), "start": 0, "end": len(message.get(TEXT)),
                      "confidence_entity": 1.0, "extractor": type(self).__name__}  # fmt: skip
            others = [e for e in message.get(ENTITIES) or [] if e.get("entity") != ENTITY]
            message.set(ENTITIES, [*others, entity], add_to_output=True)
        return messages
