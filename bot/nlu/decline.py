"""Rasa graph component: a thank-you that declines ("khỏi đi, cảm ơn bạn") is ``deny``.

Running after the classifiers, it changes only ``thank``, or a fallback whose best guess was ``thank`` or
``deny`` (the two together split the model's confidence): with a word of leaving (bot/text/decline.py)
the message is a no, so a form stops and says nothing was changed instead of thanking and asking again.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import RuleComponent, override_intent
from bot.text.decline import says_leaving

FALLBACK = "nlu_fallback"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DeclineReader(RuleComponent):
    """Reads a thank-you that says "not now / no need" as ``deny``."""

    def process(self, messages: list[Message]) -> list[Message]:
        """Overrides ``thank`` (or a fallback between thanks and a no) when the message also declines."""
        for message in messages:
            if _best_guess(message) in {"thank", "deny"} and says_leaving(message.get(TEXT) or ""):
                override_intent(message, "deny")
        return messages


def _best_guess(message: Message) -> str | None:
    """The intent, or under a fallback the model's first guess; ``deny`` itself only under a fallback."""
    name = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
    if name != FALLBACK:
        return name if name == "thank" else None
    ranking = [r.get(INTENT_NAME_KEY) for r in message.get(INTENT_RANKING_KEY) or []]
    return next((guess for guess in ranking if guess != FALLBACK), None)
