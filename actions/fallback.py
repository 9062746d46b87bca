"""What the bot does when it did not understand the customer."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.attachments import GOT_IT_OFFER_PERSON, OFFER_BUTTONS, sent_in, what
from actions.handoff import hand_off
from bot.text.rejection import is_rejection

# After this many misunderstood messages in a row the bot hands the customer to
# a human instead of asking them to rephrase yet again.
FALLBACKS_BEFORE_HUMAN = 2
# The bot's answers to a question: a customer can reject these as beside the point.
ANSWERS = {"utter_faq", "action_answer_other_questions", "utter_out_of_scope"}


def _last_action(events: list[dict[str, Any]]) -> str | None:
    """The bot's last action before these events end, not counting listening."""
    for event in reversed(events):
        if event.get("event") == "action" and event.get("name") != "action_listen":
            return event.get("name")
        if event.get("event") == "user":
            return None
    return None


def rejects_answer(events: list[dict[str, Any]], index: int) -> bool:
    """Whether the customer message at ``index`` says the answer just before it was wrong."""
    if not is_rejection(events[index].get("text") or ""):
        return False
    return _last_action(events[:index]) in ANSWERS


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest customer messages in a row were misunderstood.

    A message is misunderstood when the NLU fell back, and also when it got a
    confident answer that the next message rejects ("không phải", "ý mình là…"):
    no threshold catches such an answer, the customer does. The rejection itself
    neither counts nor breaks the run.

    A picture or file (an ``nlu_fallback`` without words, actions/attachments.py) is no misunderstanding:
    it ends the run.
    """
    events = list(tracker.events)
    count = 0
    rejected_by_next = False
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") != "user":
            continue
        if sent_in(event):
            break
        intent = (event.get("parse_data") or {}).get("intent") or {}
        rejection = rejects_answer(events, index)
        if intent.get("name") == "nlu_fallback" or rejected_by_next:
            count += 1
        elif not rejection:
            break
        rejected_by_next = rejection
    return count


class ActionFallbackHelp(Action):
    """Asks to rephrase with topic buttons (one of them a human); hands over on repeated misses.

    Also runs when the customer rejects an answer (data/stories/rules.yml), and for a picture or file sent
    outside a form: acknowledged, with a report or a person on offer.
    """

    def name(self) -> str:
        return "action_fallback_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        sent = sent_in(tracker.latest_message)
        if sent:
            dispatcher.utter_message(text=GOT_IT_OFFER_PERSON.format(what=what(sent)), buttons=OFFER_BUTTONS)
            return []
        if consecutive_fallbacks(tracker) >= FALLBACKS_BEFORE_HUMAN:
            dispatcher.utter_message(response="utter_not_understood_handoff")
            return await hand_off(dispatcher, tracker, "not_understood")
        events = list(tracker.events)
        latest = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=None)
        if latest is not None and rejects_answer(events, latest):
            dispatcher.utter_message(response="utter_answer_rejected")
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return []
