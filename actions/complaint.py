"""An upset customer: an apology first, then a person — offered, or at once when it happens again."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import hand_off
from actions.mood import upset_messages

# an upset customer who was already upset earlier in the session is not asked twice
UPSET_MESSAGES_BEFORE_HUMAN = 2


class ActionAnswerComplaint(Action):
    """Apologises; offers a person, or hands over when this is the customer's second upset message."""

    def name(self) -> str:
        return "action_answer_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if upset_messages(tracker) >= UPSET_MESSAGES_BEFORE_HUMAN:
            dispatcher.utter_message(response="utter_apology_handoff")
            return await hand_off(dispatcher, tracker, "complaint")
        dispatcher.utter_message(response="utter_apology_offer_human")
        return []
