"""Rasa graph component: a message that is nothing but an order number, phone or e-mail is ``inform``.

It runs after the classifiers and only changes their "don't know" answers (the fallback and
``uncovered_question``): a bare detail then gets the bot's "what should I do with this?" and the
order buttons (``utter_inform_ack``), or fills the slot a form asked for, instead of "mình chưa
hiểu". A message the model read as a request ("kiểm tra đơn DH123456") is left alone.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import RuleComponent, override_intent
from bot.text.details import is_mostly_details

INTENT_NAME = "inform"
DETAILS = {"order_number", "phone", "email"}
UNSURE = {"nlu_fallback", "uncovered_question"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DetailReader(RuleComponent):
    """Reads a bare order number, phone or e-mail the model was unsure about as ``inform``."""

    def process(self, messages: list[Message]) -> list[Message]:
        """Overrides an unsure intent when the message is mostly details."""
        for message in messages:
            if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) not in UNSURE:
                continue
            spans = [(e["start"], e["end"]) for e in message.get(ENTITIES) or []
                     if e.get("entity") in DETAILS and "start" in e]  # fmt: skip
            if is_mostly_details(message.get(TEXT) or "", spans):
                override_intent(message, INTENT_NAME)
        return messages
