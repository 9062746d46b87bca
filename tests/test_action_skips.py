"""Rasa skips the action-server call after an FAQ answer when the message asked one thing
(bot/rasa_plugins/action_skips.py), and makes it when the message asked several."""

import asyncio

import aiohttp
import pytest

from bot.rasa_plugins.action_endpoint import KeptSessionEndpoint
from bot.sandbox import free_port


def _call(endpoint: KeptSessionEndpoint, action: str, text: str) -> object:
    body = {"next_action": action, "sender_id": "web:x", "tracker": {"latest_message": {"text": text}}}
    return asyncio.run(endpoint.request(json=body, method="post"))


def test_a_one_question_faq_needs_no_action_server_and_two_questions_still_reach_it() -> None:
    nobody_listens = KeptSessionEndpoint(f"http://127.0.0.1:{free_port()}/webhook")
    assert _call(nobody_listens, "action_answer_other_questions", "phí ship về Hà Nội bao nhiêu vậy") == {
        "events": [],
        "responses": [],
    }
    with pytest.raises(aiohttp.ClientError):
        _call(nobody_listens, "action_answer_other_questions", "có trả góp không shop? xuất hóa đơn được ko")
    with pytest.raises(aiohttp.ClientError):
        _call(nobody_listens, "action_order_status", "kiểm tra đơn DH123456 giúp mình")
