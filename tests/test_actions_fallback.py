"""action_fallback_help with rasa-sdk's own Tracker and CollectingDispatcher."""

import asyncio
import re
import time

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.fallback import ActionFallbackHelp, consecutive_fallbacks


def user(intent: str, text: str = "...") -> dict:
    return {
        "event": "user", "text": text, "timestamp": time.time(),
        "parse_data": {"intent": {"name": intent, "confidence": 0.2}},
    }  # fmt: skip


def run_action(events: list[dict]) -> list[dict]:
    tracker = Tracker("c1", {}, events[-1]["parse_data"], events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionFallbackHelp().run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_first_miss_asks_to_rephrase() -> None:
    [message] = run_action([user("greet"), {"event": "bot", "text": "chào"}, user("nlu_fallback")])
    assert message["response"] == "utter_ask_rephrase"


def test_second_miss_in_a_row_hands_over_to_a_human(monkeypatch, tmp_path) -> None:
    # no desk running: the hand-over becomes a ticket with the hotline
    monkeypatch.setenv("DESK_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CSKH_DATABASE_URL", f"sqlite:///{tmp_path / 'cskh.db'}")
    services.ticket_store.cache_clear()
    bot_reply = {"event": "bot", "text": "?", "timestamp": time.time()}
    events = [user("nlu_fallback"), bot_reply, user("nlu_fallback", "zzkq blarp")]
    said = run_action(events)
    services.ticket_store.cache_clear()
    assert said[0]["response"] == "utter_not_understood_handoff"
    assert re.search(r"mã TK-\d{8}-\d{4}", said[1]["text"]) and "1900 6868" in said[1]["text"]


def test_an_understood_message_resets_the_count() -> None:
    events = [user("nlu_fallback"), user("faq"), {"event": "bot", "text": "..."}, user("nlu_fallback")]
    [message] = run_action(events)
    assert message["response"] == "utter_ask_rephrase"


def _answered(intent: str, text: str, action: str = "action_answer_other_questions") -> list[dict]:
    """A customer message the bot answered confidently."""
    return [
        user(intent, text), {"event": "action", "name": action},
        {"event": "bot", "text": "...", "timestamp": time.time()}, {"event": "action", "name": "action_listen"},
    ]  # fmt: skip


@pytest.mark.parametrize("rejection", ["không phải", "sai rồi", "ko phải cái đó", "ý mình là hỏi cái khác cơ"])
def test_rejecting_a_confident_answer_is_apologised_for_and_counted(rejection: str) -> None:
    events = [*_answered("faq", "shop có bán áo size XXL không"), user("deny", rejection)]
    [message] = run_action(events)
    assert message["response"] == "utter_answer_rejected"
    assert consecutive_fallbacks(Tracker("c1", {}, {}, events, False, None, {}, "action_listen")) == 1


def test_a_rejected_answer_then_a_miss_hands_over(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DESK_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CSKH_DATABASE_URL", f"sqlite:///{tmp_path / 'cskh.db'}")
    services.ticket_store.cache_clear()
    events = [
        *_answered("faq", "cái bàn gỗ tròn còn hàng ko"),
        *_answered("faq", "ý mình là bàn gỗ tròn màu óc chó ấy"),
        user("nlu_fallback", "zzkq blarp"),
    ]
    said = run_action(events)
    services.ticket_store.cache_clear()
    assert said[0]["response"] == "utter_not_understood_handoff"


def test_no_after_a_question_that_was_not_an_answer_is_not_a_rejection() -> None:
    events = [user("greet", "chào shop"), {"event": "action", "name": "utter_greet"}, user("deny", "không phải")]
    assert consecutive_fallbacks(Tracker("c1", {}, {}, events, False, None, {}, "action_listen")) == 0
