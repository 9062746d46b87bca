"""English-speaking customers get the common answers in English, from the shop's policy, and a person on offer."""

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.english import ActionReplyInEnglish


def replies(text: str) -> list[dict]:
    parse = {"text": text, "intent": {"name": "other_language", "confidence": 1.0}}
    events = [{"event": "user", "text": text, "parse_data": parse}]
    tracker = Tracker("web:c1", {}, parse, events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionReplyInEnglish().run(dispatcher, tracker, {}))
    return dispatcher.messages


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("how much is shipping to Hanoi?", "35.000đ"),
        ("How long does delivery take to Da Nang?", "days"),
        ("can I return this if it doesn't fit", "7 days"),
        ("Can I pay by card?", "MoMo"),
    ],
)
def test_common_questions_are_answered_in_english_then_a_person_is_offered(text: str, fact: str) -> None:
    answer, offer = replies(text)
    assert fact in answer["text"] and "ngày" not in answer["text"]
    assert offer["response"] == "utter_other_language"


def test_anything_else_gets_what_the_bot_can_do_and_a_person() -> None:
    assert [m.get("response") for m in replies("where is my order DH123456")] == ["utter_other_language"]
