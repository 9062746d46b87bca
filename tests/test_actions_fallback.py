"""action_fallback_help with rasa-sdk's own Tracker and CollectingDispatcher."""

import asyncio
import re
import time

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionFallbackHelp, consecutive_fallbacks
from bot.settings import Settings, settings_in_force


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


def test_second_miss_in_a_row_hands_over_to_a_human(tmp_path) -> None:
    bot_reply = {"event": "bot", "text": "?", "timestamp": time.time()}
    events = [user("nlu_fallback"), bot_reply, user("nlu_fallback", "zzkq blarp")]
    # no desk running (nothing listens on the discard port): the hand-over becomes a ticket with the hotline
    with settings_in_force(Settings.under(tmp_path, desk_port=9)):
        said = run_action(events)
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


def test_a_rejected_answer_then_a_miss_hands_over(tmp_path) -> None:
    events = [
        *_answered("faq", "cái bàn gỗ tròn còn hàng ko"),
        *_answered("faq", "ý mình là bàn gỗ tròn màu óc chó ấy"),
        user("nlu_fallback", "zzkq blarp"),
    ]
    with settings_in_force(Settings.under(tmp_path, desk_port=9)):
        said = run_action(events)
    assert said[0]["response"] == "utter_not_understood_handoff"


def test_no_after_a_question_that_was_not_an_answer_is_not_a_rejection() -> None:
    events = [user("greet", "chào shop"), {"event": "action", "name": "utter_greet"}, user("deny", "không phải")]
    assert consecutive_fallbacks(Tracker("c1", {}, {}, events, False, None, {}, "action_listen")) == 0
