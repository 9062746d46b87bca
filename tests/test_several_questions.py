"""Splitting a message into the questions it asks (in-process), and answering each over the real stack."""

import pytest

from bot.settings import Settings
from bot.shop_policy import render_answers
from bot.text.clauses import is_question, split_clauses
from tests.test_rest_conversation import say


@pytest.mark.parametrize(
    ("message", "clauses"),
    [
        ("shop ơi cho hỏi có trả góp ko, với lại có xuất hóa đơn ko", ["có trả góp ko", "có xuất hóa đơn ko"]),
        ("phí ship bao nhiêu và bao lâu thì nhận được hàng?", ["phí ship bao nhiêu", "bao lâu thì nhận được hàng"]),
        ("phi ship bao nhieu va bao lau nhan duoc hang", ["phi ship bao nhieu", "bao lau nhan duoc hang"]),
        ("đổi trả thế nào? bảo hành bao lâu?", ["đổi trả thế nào", "bảo hành bao lâu"]),
        ("phí ship bao nhiêu, còn đổi trả thì sao", ["phí ship bao nhiêu", "đổi trả thì sao"]),
        ("giao hàng mất mấy ngày\nthanh toán bằng thẻ được không", ["giao hàng mất mấy ngày", "thanh toán bằng thẻ"]),
    ],
)
def test_several_questions_are_split_where_customers_join_them(message: str, clauses: list[str]) -> None:
    found = split_clauses(message)
    assert len(found) == len(clauses)
    assert all(expected in clause for expected, clause in zip(clauses, found, strict=True))


@pytest.mark.parametrize(
    "message",
    ["phí ship về Hà Nội bao nhiêu vậy shop", "còn hàng không shop", "mà sao đơn mình lâu vậy", "áo và quần"],
)
def test_one_question_stays_whole(message: str) -> None:
    assert split_clauses(message) == [message]


def test_a_clause_that_tells_is_not_taken_for_a_question() -> None:
    told, complaint = split_clauses("mình đặt áo và quần nhưng chỉ nhận được áo")
    assert not is_question(told) and not is_question(complaint)
    assert is_question("có xuất hóa đơn ko") and is_question("phi ship bn")


def test_two_faq_questions_get_both_answers_in_order(bot_stack: Settings) -> None:
    answers = render_answers()
    replies = [r["text"] for r in say(bot_stack, "shop ơi cho hỏi có trả góp ko, với lại có xuất hóa đơn ko")]
    assert replies == [answers["installment"], answers["invoice"]]
    replies = [r["text"] for r in say(bot_stack, "phí ship bao nhiêu và bao lâu thì nhận được hàng?")]
    assert replies == [answers["shipping_fee"], answers["delivery_time"]]


def test_a_faq_and_an_order_request_get_the_answer_then_the_order_form(bot_stack: Settings) -> None:
    replies = [r["text"] for r in say(bot_stack, "phí ship bao nhiêu vậy, với lại kiểm tra giúp mình đơn DH123456")]
    assert replies[0] == render_answers()["shipping_fee"]
    assert "số điện thoại" in replies[-1] and "DH123456" in replies[-1]


FORM_QUESTIONS = {  # what each order form asks first, when it starts after the answers
    "order_status_form": ("số điện thoại", "mã đơn"),
    "cancel_order_form": ("số điện thoại", "mã đơn"),
    "issue_report_form": ("mô tả", "vấn đề gì", "mã đơn"),
}


def test_measured_on_the_multi_question_set(bot_stack: Settings) -> None:
    """tests/data/multi_questions.yml (42 messages): every topic answered, in order, each once; the form started."""
    import yaml

    from tests.test_conversations import FOLDER

    answers = render_answers()
    cases = yaml.safe_load((FOLDER.parent / "data" / "multi_questions.yml").read_text(encoding="utf-8"))
    failures = []
    for case in cases:
        texts = [r.get("text") or "" for r in say(bot_stack, case["text"])]
        expected = [answers[topic] for topic in case["topics"]]
        started = not case.get("form") or any(q in texts[-1] for q in FORM_QUESTIONS[case["form"]])
        if texts[: len(expected)] != expected or not started or (not case.get("form") and len(texts) != len(expected)):
            failures.append(f"{case['text']!r}: got {[t[:40] for t in texts]}")
    rate = 1 - len(failures) / len(cases)
    print(f"\nmulti-question set: {len(cases) - len(failures)}/{len(cases)} answered completely ({rate:.0%})")
    print("\n".join(failures))
    assert len(cases) >= 40 and rate >= 0.8, failures
