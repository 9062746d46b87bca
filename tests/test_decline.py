"""A thank-you that says "not now / no need" is a way of leaving (bot/text/decline.py)."""

import pytest

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
