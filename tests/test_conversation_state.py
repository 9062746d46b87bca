"""Replies right for the conversation's state (issue H), in-process with rasa-sdk's Tracker.

Cancellation refusals by status, a proof reused or explained, slot answers checked for what they
are, a call back promised only to a customer who can be reached, and bare ratings.
"""

import asyncio
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff, services
from actions.callback import ActionHandoffCallback, ValidateCallbackForm
from actions.order_actions import ActionAskCancelOwnership, ActionCancelOrder
from actions.order_forms import ValidateCancelOrderForm, ValidateIssueReportForm, ValidateOrderStatusForm
from bot.desk import texts
from bot.desk.hours import DeskConfigFile
from bot.desk.service import Desk
from bot.nlu.order_complaint import OrderComplaintRouter
from bot.paths import PROJECT_ROOT
from bot.text.rating import rating_in
from tests.test_order_actions import backends, prove, run, tracker, validate  # noqa: F401 (backends: autouse)

TICKET = re.compile(r"TK-\d{8}-\d{4}")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def refusal_for(number: str) -> str:
    """What a proven owner hears when asking to cancel ``number``."""
    phone = services.order_backend().get(number).phone
    form = ValidateCancelOrderForm()
    slots = prove(form, number, phone)
    assert slots["ownership_answer"] == "verified"
    _, said = run(ActionCancelOrder(), slots)
    return said[0]["response"]


@pytest.mark.parametrize(
    ("number", "response"),
    [
        ("DH777888", "utter_cannot_cancel_delivered"),
        ("DH999000", "utter_cannot_cancel_cancelled"),
        ("DH123456", "utter_cannot_cancel_shipping"),
        ("DH246810", "utter_cannot_cancel_returned"),
    ],
)
def test_a_refused_cancellation_explains_itself_by_the_order_status(number: str, response: str) -> None:
    assert refusal_for(number) == response


def test_the_refusals_say_different_things() -> None:
    responses = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    cancelled = responses["utter_cannot_cancel_cancelled"][0]["text"]
    assert "đã được huỷ" in cancelled and "đổi trả" not in cancelled
    assert "đổi trả" in responses["utter_cannot_cancel_delivered"][0]["text"]
    assert "đang trên đường" in responses["utter_cannot_cancel_shipping"][0]["text"]


def ask_cancel_phone(number: str) -> str:
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAskCancelOwnership().run(dispatcher, tracker({"order_number": number}), {}))
    return dispatcher.messages[0]["response"]


def test_a_status_proven_with_the_whole_phone_needs_no_second_proof_to_cancel() -> None:
    prove(ValidateOrderStatusForm(), "DH654321", services.order_backend().get("DH654321").phone)
    result, said = validate(ValidateCancelOrderForm(), "order_number", "DH654321")
    assert result["ownership_answer"] == "verified" and said == []


def test_a_status_proven_with_the_last_digits_asks_the_whole_phone_and_says_why() -> None:
    assert ask_cancel_phone("DH654321") == "utter_ask_cancel_order_form_ownership_answer"
    prove(ValidateOrderStatusForm(), "DH654321", services.order_backend().get("DH654321").phone[-4:])
    result, _ = validate(ValidateCancelOrderForm(), "order_number", "DH654321")
    assert result.get("ownership_answer") is None
    assert ask_cancel_phone("DH654321") == "utter_cancel_needs_more_than_last_digits"


@pytest.mark.parametrize("answer", ["đúng rồi", "ok shop", "0912345678", "+84 912 345 678", "0912.345.678"])
def test_a_yes_or_a_phone_is_not_a_description(answer: str) -> None:
    result, said = validate(ValidateIssueReportForm(), "issue_description", answer, text=answer)
    assert result == {"issue_description": None}
    assert said == ["utter_description_not_an_answer"]


@pytest.mark.parametrize("answer", ["đúng rồi", "0912345678"])
def test_a_yes_or_a_phone_does_not_become_the_issue(answer: str) -> None:
    result, _ = validate(ValidateIssueReportForm(), "issue_type", answer, text=answer)
    assert result == {"issue_type": None}


def test_words_that_name_and_describe_the_problem_are_not_asked_again() -> None:
    text = "mình muốn báo đơn DH123456 giao trễ quá, đặt cả tuần rồi chưa nhận"
    result, _ = validate(ValidateIssueReportForm(), "issue_type", "late_delivery", text=text)
    assert result == {"issue_type": "late_delivery", "issue_description": text}
    result, _ = validate(ValidateIssueReportForm(), "issue_type", "giao thiếu hàng", text="giao thiếu hàng")
    assert result == {"issue_type": "wrong_item"}  # only the name: the details are asked


@pytest.mark.parametrize("typed", ["+84 912 345 678", "84912345678", "0912 345 678", "0912.345.678"])
def test_every_written_form_of_a_phone_is_a_contact_phone(typed: str) -> None:
    for form in (ValidateIssueReportForm(), ValidateCallbackForm()):
        result, said = validate(form, "contact_phone", typed, text=typed)
        assert result == {"contact_phone": "0912345678"} and said == []


def closed_desk(tmp_path) -> dict:
    """What the desk answers a hand-off when its hours say it is closed until tomorrow 08:00."""
    tomorrow = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(days=1)
    path = tmp_path / "desk.yml"
    path.write_text(
        f"timezone: Asia/Ho_Chi_Minh\nbusiness_hours:\n  {WEEKDAYS[tomorrow.weekday()]}: ['08:00', '21:00']\n",
        encoding="utf-8",
    )
    desk = Desk(None, None, None, None, DeskConfigFile(path), None)  # closed: nothing else is touched
    answer = desk.open_handoff({"channel": "rest", "sender_id": "web:x", "reason": "customer_request"})
    assert answer["status"] == "closed"
    return answer


def hand_off_with(monkeypatch, desk_answer: dict, slots: dict, sender: str) -> tuple[list[dict], list[str]]:
    monkeypatch.setattr(handoff, "_ask_desk", lambda payload: desk_answer)
    dispatcher = CollectingDispatcher()
    events = asyncio.run(handoff.hand_off(dispatcher, tracker(slots, "cho mình gặp nhân viên", sender=sender), "x"))
    return events, [m.get("text") or m.get("response") for m in dispatcher.messages]


def test_out_of_hours_a_web_customer_is_asked_for_a_phone_before_any_promise(monkeypatch, tmp_path) -> None:
    desk = closed_desk(tmp_path)
    events, said = hand_off_with(monkeypatch, desk, {}, "web:abc")
    assert said == ["Hiện đang ngoài giờ làm việc của nhân viên."]
    assert not TICKET.search(" ".join(said))
    assert {"event": "followup", "timestamp": None, "name": "callback_form"} in events
    pending = next(e["value"] for e in events if e.get("name") == "handoff_pending" and e["value"])

    # the phone, in any written form, then the ticket and the call-back time said once
    slots = {"handoff_pending": pending, "contact_phone": "0912345678"}
    _, messages = run(ActionHandoffCallback(), slots, sender="web:abc")
    text = messages[0]["text"]
    code = TICKET.search(text).group(0)
    assert services.ticket_store().get(code)["contact_phone"] == "0912345678"
    assert text.count("08:00") == 1 and "0912345678" not in text and "09******78" in text
    assert "cùng những thông tin bạn đã cung cấp" not in text  # they gave nothing else


def test_a_zalo_customer_is_told_the_answer_comes_in_the_same_chat(monkeypatch, tmp_path) -> None:
    events, said = hand_off_with(monkeypatch, closed_desk(tmp_path), {"order_number": "DH123456"}, "zalo:42")
    [text] = said
    assert TICKET.search(text) and "Zalo" in text and text.count("08:00") == 1
    assert "cùng những thông tin bạn đã cung cấp" in text  # the order number
    assert not any(e.get("event") == "followup" for e in events)


def test_with_nobody_online_a_known_contact_phone_is_called_back(monkeypatch) -> None:
    desk = {"status": "no_agent", "callback": "trong vòng 24 giờ"}
    _, [text] = hand_off_with(monkeypatch, desk, {"contact_phone": "0987654321"}, "web:abc")
    assert "chưa có nhân viên nào trực tuyến" in text and "gọi lại cho bạn qua số" in text
    assert text.count("24 giờ") == 1


@pytest.mark.parametrize(
    ("typed", "score"),
    [("5", 5), ("5*", 5), ("5 sao", 5), ("năm sao", 5), ("nam sao", 5), ("4 điểm", 4), ("⭐⭐⭐", 3), ("1", 1)],
)
def test_a_bare_rating_is_read(typed: str, score: int) -> None:
    assert rating_in(typed) == score


@pytest.mark.parametrize("typed", ["123456", "0912345678", "6", "năm", "5 cái áo", "ship 5 ngày"])
def test_numbers_that_are_not_ratings_are_left_to_the_model(typed: str) -> None:
    assert rating_in(typed) is None


def routed(intent: str, entities: list[str], text: str = "…") -> str:
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": 0.9},
                            "entities": [{"entity": e, "value": "x"} for e in entities]})  # fmt: skip
    return OrderComplaintRouter().process([message])[0].get("intent")["name"]


def test_a_known_problem_on_a_named_order_is_a_report() -> None:
    assert routed("complain", ["order_number", "issue_type"]) == "report_issue"  # "đơn DH123456 giao lâu quá"
    assert routed("nlu_fallback", ["order_number", "issue_type"]) == "report_issue"
    assert routed("complain", ["issue_type"]) == "complain"  # no order named: the mood's apology stands
    assert routed("complain", ["issue_type"], "đơn này giao trễ quá, mình muốn báo lỗi") == "report_issue"
    assert routed("complain", ["issue_type"], "giao tre qua, minh muon khieu nai") == "report_issue"
    assert routed("deny", ["issue_type"], "giao sai") == "report_issue"  # the problem's name, not a no
    assert routed("deny", ["issue_type"], "không, hàng không bị lỗi") == "deny"
    assert routed("deny", [], "sai rồi") == "deny"
    assert routed("check_order_status", ["order_number", "issue_type"]) == "report_issue"  # a late order, not a status
    assert routed("request_human", ["order_number", "issue_type"]) == "request_human"


def test_an_expired_hand_off_promises_only_a_reachable_answer() -> None:
    by_phone = texts.nobody_accepted("TK-1", "trong vòng 24 giờ", "web:a", "0912345678")
    assert "gọi lại cho bạn qua số 09******78 trong vòng 24 giờ" in by_phone
    assert "ngay trong cuộc trò chuyện này" in texts.nobody_accepted("TK-1", "trong vòng 24 giờ", "zalo:1", None)
    web = texts.nobody_accepted("TK-1", "trong vòng 24 giờ", "web:a", None)
    assert "chưa có số điện thoại" in web and "nhắn số điện thoại" in web and "24 giờ" not in web
    assert texts.asks_phone("web:a", None) and not texts.asks_phone("web:a", "0912345678")
    assert not texts.asks_phone("zalo:1", None)
    assert "đầy đủ thông tin bạn cung cấp" not in web
