"""Leaving a form politely when the customer says "thôi", "không cần nữa"."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.records import reset_form_slots


class ActionStopForm(Action):
    """Confirms nothing was changed and forgets the half-filled form."""

    def name(self) -> str:
        return "action_stop_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_form_stopped")
        return [*reset_form_slots(), SlotSet("handoff_pending", None)]  # a declined call back too
