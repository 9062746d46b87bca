"""Rasa graph component: a message not in Vietnamese gets the intent ``other_language``.

The classifiers are trained on Vietnamese only, so "how much is shipping to Hanoi?" used to get a
confident, random Vietnamese FAQ answer. Running after them, this overrides the intent of English
(or non-Latin-script) messages; the dialogue answers in English (actions/english.py). Which
messages count is decided by the words (bot/text/language.py), erring towards Vietnamese.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import RuleComponent, override_intent
from bot.text.language import Language, detect

INTENT_NAME = "other_language"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LanguageDetector(RuleComponent):
    """Marks messages written in English or another script as ``other_language``."""

    def process(self, messages: list[Message]) -> list[Message]:
        """Overrides the intent of a message that is not Vietnamese; the language is in the output."""
        for message in messages:
            language = detect(message.get(TEXT) or "")
            message.set("language", language.value, add_to_output=True)
            if language is Language.VIETNAMESE:
                continue
            override_intent(message, INTENT_NAME)
        return messages
