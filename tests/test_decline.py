"""A thank-you that says "not now / no need" is a way of leaving (bot/text/decline.py)."""

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.decline import DeclineReader
from bot.text.decline import says_leaving


@pytest.mark.parametrize("text", [
    "khỏi đi, cảm ơn bạn", "để sau nhé, cảm ơn shop", "thôi cảm ơn ạ", "ko cần nữa đâu, thanks shop",
    "thoi khoi, cam on nha", "lúc khác mình hỏi, cảm ơn", "cảm ơn, không cần đâu",
])  # fmt: skip
def test_thanks_that_decline_are_leaving(text: str) -> None:
    assert says_leaving(text)


@pytest.mark.parametrize("text", [
    "cảm ơn shop nhiều ạ", "cam on ban, minh cho hang nhe", "thanks shop, tư vấn nhiệt tình quá",
    "cảm ơn shop thời gian qua",
])  # fmt: skip
def test_plain_thanks_are_not_leaving(text: str) -> None:
    assert not says_leaving(text)


def _read(text: str, ranking: list[tuple[str, float]]) -> str:
    intents = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    message = Message({TEXT: text, INTENT: intents[0], INTENT_RANKING_KEY: intents})
    DeclineReader().process([message])
    return message.get(INTENT)["name"]


def test_a_declining_thank_you_the_model_was_unsure_of_is_a_no() -> None:
    # the model split "khỏi đi, cảm ơn bạn" between a no and thanks, below the fallback threshold
    assert _read("khỏi đi, cảm ơn bạn", [("nlu_fallback", 0.6), ("deny", 0.58), ("thank", 0.4)]) == "deny"
    assert _read("khỏi đi, cảm ơn bạn", [("nlu_fallback", 0.6), ("thank", 0.55), ("deny", 0.4)]) == "deny"
    assert _read("để sau nhé, cảm ơn shop", [("thank", 0.9), ("deny", 0.1)]) == "deny"


def test_other_unsure_messages_and_plain_thanks_are_left_alone() -> None:
    assert _read("cảm ơn shop nhiều ạ", [("thank", 0.95)]) == "thank"
    assert _read("khỏi đi, cảm ơn bạn", [("nlu_fallback", 0.6), ("faq", 0.5), ("deny", 0.3)]) == "nlu_fallback"
    assert _read("ừm để xem", [("nlu_fallback", 0.6), ("deny", 0.5)]) == "nlu_fallback"
