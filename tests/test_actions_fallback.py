"""action_fallback_help with rasa-sdk's own Tracker and CollectingDispatcher."""

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionFallbackHelp


def user(intent: str, text: str = "...") -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": 0.2}}}


def run_action(events: list[dict]) -> list[dict]:
    tracker = Tracker("c1", {}, events[-1]["parse_data"], events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionFallbackHelp().run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_first_miss_asks_to_rephrase() -> None:
    [message] = run_action([user("greet"), {"event": "bot", "text": "chào"}, user("nlu_fallback")])
    assert message["response"] == "utter_ask_rephrase"


def test_second_miss_in_a_row_offers_a_human() -> None:
    events = [user("nlu_fallback"), {"event": "bot", "text": "?"}, user("nlu_fallback")]
    [message] = run_action(events)
    assert message["response"] == "utter_offer_human"


def test_an_understood_message_resets_the_count() -> None:
    events = [user("nlu_fallback"), user("faq"), {"event": "bot", "text": "..."}, user("nlu_fallback")]
    [message] = run_action(events)
    assert message["response"] == "utter_ask_rephrase"
