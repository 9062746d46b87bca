"""The customer's mood as a Rasa graph component, after the intent classifiers.

Every message gets a ``mood`` (``{"label", "score", "cues"}``, see ``bot.text.sentiment``)
set with ``add_to_output``: Rasa copies output properties into the message's parse
data, so the mood is in the ``UserUttered`` event, in ``tracker.latest_message`` for
the actions (the hand-off sends it to the desk) and in the stored events.

An upset message also changes the intent, the way Rasa's own FallbackClassifier
does (the model's intent stays in the ranking): the dialogue is rules on intents,
and a rule on ``complain`` is what apologises and offers a person. An entity or a
slot would need a second rule beside every intent's rule. Only intents that carry
no task are replaced; an order request, a form answer or a yes/no keeps its intent
(and its mood), so an annoyed customer finishing a form is not thrown out of it.
- upset and asking for a person ("giao lâu quá, cho gặp nhân viên") -> request_human;
- a request for a person the model missed (nlu_fallback) -> request_human;
- upset otherwise, on a question/small-talk/unknown intent -> complain.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import RuleComponent, override_intent
from bot.text.sentiment import asks_for_person, score_mood

MOOD = "mood"
COMPLAIN, REQUEST_HUMAN, FALLBACK = "complain", "request_human", "nlu_fallback"
# intents without a task of their own: an upset message with one of these is a complaint
REPLACEABLE = frozenset({
    FALLBACK, "faq", "uncovered_question", "out_of_scope", "greet", "goodbye", "thank", "bot_challenge",
})  # fmt: skip
# intents a request for a person may replace (a task intent keeps its flow unless the customer is upset)
PERSON_REPLACES = frozenset({FALLBACK, "out_of_scope", "uncovered_question", "faq", COMPLAIN})


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class MoodClassifier(RuleComponent):
    """Adds the mood to every message; turns upset messages into complaints or requests for a person."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """No options: the cues are in bot/text/sentiment.py."""
        return {}

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets ``mood`` and, when the rules above say so, the intent."""
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/"):
                continue  # buttons' payloads are no words
            mood = score_mood(text)
            message.set(MOOD, mood.as_dict(), add_to_output=True)
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            wants_person = asks_for_person(text)
            if wants_person and (mood.upset or intent in PERSON_REPLACES):
                _replace_with(message, REQUEST_HUMAN)
            elif mood.upset and intent in REPLACEABLE:
                _replace_with(message, COMPLAIN)
        return messages


def _replace_with(message: Message, name: str) -> None:
    if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) != name:
        override_intent(message, name)
