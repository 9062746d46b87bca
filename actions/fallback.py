"""What the bot does when it did not understand the customer."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import hand_off

# After this many misunderstood messages in a row the bot hands the customer to
# a human instead of asking them to rephrase yet again.
FALLBACKS_BEFORE_HUMAN = 2


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest customer messages in a row were not understood."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if intent.get("name") != "nlu_fallback":
            break
        count += 1
    return count


class ActionFallbackHelp(Action):
    """Asks to rephrase with topic buttons (one of them a human); hands over on repeated misses."""

    def name(self) -> str:
        return "action_fallback_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if consecutive_fallbacks(tracker) >= FALLBACKS_BEFORE_HUMAN:
            dispatcher.utter_message(response="utter_not_understood_handoff")
            return await hand_off(dispatcher, tracker, "not_understood")
        dispatcher.utter_message(response="utter_ask_rephrase")
        return []
