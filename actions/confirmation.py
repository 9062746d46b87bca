"""One confirmation step for everything that changes something: cancelling an order, sending a ticket.

The form asks its question; this reads the answer (bot/text/confirm.py) and leaves exactly one of three
slot values behind: "yes" (go ahead), "no" (nothing changes), or None (ask again). Unclear answers are
asked again twice, then the step ends as "unclear", which changes nothing either. A reply that names a
different order than the one asked about is never a yes to this question.
"""

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.services import shared_finder, shop_teencode
from bot.text.confirm import Reply, classify_reply

MAX_UNCLEAR = 3  # the question, then at most two more asks
CONFIRMED = "yes"


@dataclass(frozen=True)
class QuestionWords:
    """Words that answer this particular question: "huỷ" is yes to "cancel?" but no to "send?"."""

    go: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()


QUESTIONS = {
    "cancel": QuestionWords(go=("huỷ", "hủy", "huỷ bỏ")),
    "ticket": QuestionWords(go=("gửi", "gởi", "gửi yêu cầu"), stop=("huỷ", "hủy", "bỏ", "xoá", "xóa")),
}


def slot_before_latest_message(tracker: Tracker, slot: str) -> Any:
    """A slot's value as it was when the customer's latest message arrived.

    Rasa fills slots from the message (``action_extract_slots``) before the form validates them, so
    ``tracker.get_slot`` already shows the new value; the confirmation is about the old one.
    """
    events = tracker.events or []
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    for event in reversed(events[:last_user]):
        if event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None if events else tracker.get_slot(slot)


def read_confirmation(
    slot: str, question: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    """The slot events for one answer to a confirmation question."""
    text = str((tracker.latest_message or {}).get("text") or value or "")
    asked_about = slot_before_latest_message(tracker, "order_number")
    named = {e.value for e in shared_finder().find(text) if e.entity == "order_number"}
    if named - {asked_about}:
        # another order: order_number's own validation takes over and asks for that order's proof
        return {slot: None}
    words = QUESTIONS[question]
    reply = classify_reply(text, go_words=words.go, stop_words=words.stop, teencode=shop_teencode())
    if reply is Reply.YES:
        return {slot: CONFIRMED, "confirm_unclear": None}
    if reply is Reply.NO:
        return {slot: Reply.NO.value, "confirm_unclear": None}
    unclear = int(tracker.get_slot("confirm_unclear") or 0) + 1
    if unclear >= MAX_UNCLEAR:
        return {slot: Reply.UNCLEAR.value, "confirm_unclear": None}
    dispatcher.utter_message(response="utter_confirm_unclear")
    return {slot: None, "confirm_unclear": unclear}
