"""The customer's mood as the NLU left it in each message (bot/nlu/mood.py), read back from the tracker."""

from typing import Any

from rasa_sdk import Tracker

from bot.handoff_protocol import Mood
from bot.text.sentiment import NEUTRAL

CALM = Mood(label=NEUTRAL, score=0.0, cues=[])


def _session_messages(tracker: Tracker) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            messages = []
        elif event.get("event") == "user":
            messages.append(event.get("parse_data") or {})
    return messages


def session_moods(tracker: Tracker) -> list[Mood]:
    """The mood of each customer message of the current session, oldest first."""
    return [parse.get("mood") or CALM for parse in _session_messages(tracker)]


def upset_messages(tracker: Tracker) -> int:
    """Customer messages of the session that were upset, by their words or by the model's complain intent."""
    return sum(
        (parse.get("mood") or CALM).get("label", NEUTRAL) != NEUTRAL
        or (parse.get("intent") or {}).get("name") == "complain"
        for parse in _session_messages(tracker)
    )


def conversation_mood(tracker: Tracker) -> Mood:
    """The most upset message of the session: what an agent should know before opening the conversation."""
    return max(session_moods(tracker), key=lambda mood: mood.get("score", 0), default=CALM)
