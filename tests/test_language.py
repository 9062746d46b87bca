"""English and other languages are told apart from Vietnamese, also Vietnamese typed without diacritics."""

import pytest

from bot.text.language import Language, detect

VIETNAMESE = [
    "phi ship bao nhieu", "don hang cua minh dau", "ok", "hello shop", "hi shop oi", "thank you shop",
    "shop co ship COD khong", "size M con ko", "check don hang giup minh", "minh muon order 2 cai",
    "cho minh hoi how much", "mau do con ko", "can doi size thi lam sao", "the nao vay shop",
    "ao nay to qua", "an uong gi chua", "ship ve Da Nang bn", "co freeship ko ad", "link san pham dau ad",
    "inbox minh nhe", "sale ko shop", "yes", "no", "sorry shop nha", "DH123456", "0912345678",
    "phí ship bao nhiêu", "how much là bao nhiêu tiền", "review sp di ad", "co voucher ko", "bye shop",
    "minh can gap nhan vien", "con hang in stock ko", "ok shop", "oke", "alo", "hello", "hi",
]  # fmt: skip
ENGLISH = [
    "how much is shipping to Hanoi?", "where is my order DH123456", "can i return this", "Do you ship to Da Nang?",
    "I want to talk to a person", "what are your opening hours", "how long does delivery take",
    "is shipping free", "Can I pay by card?", "I would like a refund please", "hi, do you speak english?",
    "my order has not arrived yet", "thank you so much for your help", "how do I cancel my order",
]  # fmt: skip
OTHER = ["运费多少钱？", "配送需要多长时间", "배송비는 얼마예요?", "ค่าส่งเท่าไหร่", "Сколько стоит доставка?"]


@pytest.mark.parametrize("text", VIETNAMESE)
def test_vietnamese_with_or_without_diacritics_and_loanwords_stays_vietnamese(text: str) -> None:
    assert detect(text) is Language.VIETNAMESE


@pytest.mark.parametrize("text", ENGLISH)
def test_english_questions_are_english(text: str) -> None:
    assert detect(text) is Language.ENGLISH


@pytest.mark.parametrize("text", OTHER)
def test_other_scripts_are_another_language(text: str) -> None:
    assert detect(text) is Language.OTHER
