"""Order conversations through the REST webhook with Rasa and the action server running."""

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.orders.demo_shop import orders_table
from bot.sandbox import RestCustomer

pytestmark = pytest.mark.slow  # starts the bot's servers or loads the trained model


@pytest.mark.parametrize(
    "first_message",
    ["kiểm tra giúp mình đơn DH123456 với", "kiem tra don #dh-123456 giup minh"],
)
def test_order_number_in_the_first_message_skips_the_question(bot_stack, first_message) -> None:
    customer = RestCustomer(bot_stack.rasa_url)
    assert "số điện thoại" in customer.says(first_message)
    answer = customer.says("5678")
    assert "DH123456" in answer and "đang giao" in answer and "mã vận đơn" in answer


def test_order_status_asks_for_the_number_then_ownership(bot_stack) -> None:
    customer = RestCustomer(bot_stack.rasa_url)
    assert "mã đơn hàng" in customer.says("don hang cua minh toi dau roi shop")
    assert "số điện thoại" in customer.says("DH123456")
    assert "chưa khớp" in customer.says("0900000000")
    assert "đang giao" in customer.says("sdt 0912 345 678")


def test_unknown_order_three_times_goes_to_a_human(bot_stack) -> None:
    customer = RestCustomer(bot_stack.rasa_url)
    customer.says("kiểm tra đơn hàng giúp mình")
    assert "không tìm thấy đơn DH000001" in customer.says("DH000001")
    assert "không tìm thấy đơn DH000002" in customer.says("DH000002")
    final = customer.says("DH000003")
    assert "Nhân viên có thể tra cứu giúp bạn" in final
    # no agent is logged in to this stack's console: a phone to call back, then the hand-over becomes a ticket
    assert "số điện thoại" in final and "TK-" not in final
    assert re.search(r"yêu cầu gặp nhân viên của bạn \(mã TK-\d{8}-\d{4}\)", customer.says("0912 345 678"))


def test_faq_in_the_middle_of_a_form_is_answered_and_the_form_goes_on(bot_stack) -> None:
    customer = RestCustomer(bot_stack.rasa_url)
    customer.says("kiểm tra đơn DH123456")
    reply = customer.says("à mà phí ship về Đà Nẵng bao nhiêu vậy")
    assert "Phí ship" in reply and "số điện thoại" in reply
    assert "đang giao" in customer.says("5678")


@pytest.mark.parametrize(
    ("start", "leave"),
    [
        ("mình muốn huỷ đơn", "thôi không cần nữa"),
        ("kiểm tra đơn hàng giúp mình", "thôi"),
        ("kiểm tra đơn DH123456", "huỷ"),
        ("đơn DH777888 bị lỗi", "dừng lại"),
    ],
)
def test_customer_can_leave_a_form(bot_stack, start, leave) -> None:
    customer = RestCustomer(bot_stack.rasa_url)
    customer.says(start)
    assert "chưa thực hiện thay đổi nào" in customer.says(leave)
    assert "Chào bạn" in customer.says("chào shop")


def test_report_a_broken_item_and_get_a_ticket_code(bot_stack) -> None:
    customer = RestCustomer(bot_stack.rasa_url)
    # the words that name the problem describe it too: not asked a second time
    asked = customer.says("đơn DH777888 nồi chiên bị vỡ nắp rồi shop ơi")
    # nothing of the order (not even its phone, masked) is shown to someone who has not proven it is theirs
    assert "số điện thoại" in asked and not re.search(r"\d{2}\*+\d{2}", asked)
    summary = customer.says("0987 654 321")
    assert "Hàng lỗi / hư hỏng" in summary and "DH777888" in summary and "nồi chiên bị vỡ nắp" in summary
    assert "09******21" in summary, "the number the customer gave is shown back masked"
    done = customer.says("/affirm")
    assert re.search(r"TK-\d{8}-\d{4}", done) and "Kho vận" in done


def test_report_with_issue_type_chosen_by_button(bot_stack) -> None:
    customer = RestCustomer(bot_stack.rasa_url)
    customer.says("mình muốn khiếu nại đơn DH777888")
    assert [b["title"] for b in customer.buttons][:3] == ["Hàng lỗi / hư hỏng", "Giao sai / thiếu hàng", "Giao chậm"]
    late = next(b["payload"] for b in customer.buttons if b["title"] == "Giao chậm")
    assert "mô tả" in customer.says(late)
    customer.says("Hẹn giao thứ 2 mà giờ chưa thấy đâu")
    customer.says("0987654321")
    assert "Vận chuyển" in customer.says("gửi đi")


def test_cancel_a_pending_order_after_confirmation(bot_stack, stack_shop) -> None:
    customer = RestCustomer(bot_stack.rasa_url)
    phone = stack_shop.get("DH654321").phone
    assert "số điện thoại" in customer.says("huy don DH654321 giup minh")
    assert "đầy đủ số điện thoại" in customer.says(phone[-4:]), "last digits may read a status, never cancel"
    assert "xác nhận huỷ" in customer.says(phone)
    assert "đã huỷ đơn DH654321" in customer.says("ừ huỷ đi")
    assert stack_shop.get("DH654321").status.value == "cancelled"


@pytest.mark.parametrize("no", ["thôi để mình giữ lại, không hủy nữa", "không hủy nữa", "ko huy nua dau"])
def test_saying_no_in_words_about_cancelling_keeps_the_order(bot_stack, stack_shop, no) -> None:
    """Finding G.1: these parse as cancel_order, and were once taken for a yes."""
    customer = RestCustomer(bot_stack.rasa_url)
    customer.says("hủy đơn DH333444")
    assert "xác nhận huỷ" in customer.says("0987654321")
    assert "chưa" in customer.says(no)  # "chưa huỷ gì cả" / "chưa thực hiện thay đổi nào"
    assert stack_shop.get("DH333444").status.value == "packing"


def test_a_yes_that_names_another_order_changes_neither(bot_stack, stack_shop) -> None:
    """Finding G.2: ownership of DH111222 proven, then a yes naming DH333444, whose phone was never given."""
    customer = RestCustomer(bot_stack.rasa_url)
    customer.says("huỷ đơn DH111222")
    assert "xác nhận huỷ" in customer.says("0987654321")
    reply = customer.says("ừ đúng rồi, huỷ đơn DH333444 nhé")
    assert "DH333444" in reply and "số điện thoại" in reply, "the other order must be proven first"
    assert "đã huỷ" not in reply
    assert stack_shop.get("DH333444").status.value == "packing"
    assert stack_shop.get("DH111222").status.value == "pending"


def test_guessing_the_last_digits_from_many_senders_locks_the_order(bot_stack, stack_shop) -> None:
    """Finding G.3: 20 guesses, each from a new sender id. After 5 failures the order is for a human only."""
    fixed = ("DH123456", "DH654321", "DH777888", "DH111222", "DH333444")
    with stack_shop._engine.connect() as connection:
        number, phone, status = connection.execute(
            sa.select(orders_table.c.number, orders_table.c.phone, orders_table.c.status)
            .where(orders_table.c.number.not_in(fixed)).limit(1)
        ).one()  # fmt: skip
    wrong = [f"{n:04d}" for n in range(21) if f"{n:04d}" != phone[-4:]][:20]
    replies = []
    for guess in wrong:  # every guess from a fresh conversation: nothing per sender can be reset
        attacker = RestCustomer(bot_stack.rasa_url)
        replies.append(attacker.says(f"kiểm tra đơn {number}") + "\n" + attacker.says(guess))
    assert sum("chưa khớp" in r for r in replies) == 5
    assert all("sai thông tin xác minh nhiều lần" in r for r in replies[5:])
    owner = RestCustomer(bot_stack.rasa_url)  # even the right digits, from a new conversation, reveal nothing now
    answer = owner.says(f"kiểm tra đơn {number}") + "\n" + owner.says(phone[-4:])
    assert "sai thông tin xác minh nhiều lần" in answer
    label = stack_shop.get(number).status.label
    assert f"trạng thái: {label}" not in answer and status


def test_cancel_a_shipped_order_is_explained_with_alternatives(bot_stack) -> None:
    customer = RestCustomer(bot_stack.rasa_url)
    customer.says("hủy đơn DH123456")
    reply = customer.says("0912345678")
    assert "không huỷ được" in reply
    assert {b["title"] for b in customer.buttons} == {"Chính sách đổi trả", "Gặp nhân viên"}


def test_server_logs_hold_no_full_phone_number(bot_stack) -> None:
    """Runs after the conversations above, which sent 0912345678 in several forms."""
    customer = RestCustomer(bot_stack.rasa_url)
    customer.says("kiểm tra đơn DH123456, sđt mình 0912.345.678")
    customer.says("email mình là lan.nguyen@gmail.com")
    logs = Path(bot_stack.tracker_db).parent / "logs"
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in logs.glob("*.log"))
    assert text, "the servers wrote logs"
    digits_only = re.sub(r"[\s.\-]", "", text)
    assert "0912345678" not in digits_only and "912345678" not in digits_only
    assert "lan.nguyen@gmail.com" not in text
    assert "Traceback" not in text, "no error with a dump of the conversation's slots"
