"""Order-form validation and submit actions with rasa-sdk's Tracker and CollectingDispatcher.

The actions run against a real demo-shop database and ticket database in a
temporary folder; the "order system down" case points them at a dead port.
"""

import asyncio
import re
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.order_actions import ActionCancelOrder, ActionCreateTicket, ActionOrderStatus
from actions.order_forms import ValidateCancelOrderForm, ValidateIssueReportForm, ValidateOrderStatusForm
from bot.orders.model import OrderStatus


@pytest.fixture(autouse=True)
def backends(tmp_path, monkeypatch):
    monkeypatch.delenv("ORDER_API_URL", raising=False)
    monkeypatch.setenv("DEMO_SHOP_DB", str(tmp_path / "shop.db"))
    monkeypatch.setenv("CSKH_DATABASE_URL", f"sqlite:///{tmp_path / 'cskh.db'}")
    services.order_backend.cache_clear()
    services.ticket_store.cache_clear()
    yield
    services.order_backend.cache_clear()
    services.ticket_store.cache_clear()


def tracker(slots: dict[str, Any], text: str = "", form: str | None = None) -> Tracker:
    requested = slots.get("requested_slot")
    return Tracker(
        "customer-1", {"requested_slot": requested, **slots},
        {"intent": {"name": "inform"}, "entities": [], "text": text},
        [], False, None, {"name": form} if form else {}, "action_listen",
    )  # fmt: skip


def validate(action, slot: str, value: Any, slots: dict | None = None) -> tuple[dict, list[str]]:
    dispatcher = CollectingDispatcher()
    method = getattr(action, f"validate_{slot}")
    result = asyncio.run(method(value, dispatcher, tracker(slots or {}), {}))
    return result, [m.get("response") or m.get("text") for m in dispatcher.messages]


def run(action, slots: dict) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker(slots), {}))
    return events, dispatcher.messages


def test_order_number_in_any_written_form_is_normalized() -> None:
    for typed in ["dh-123456", "#DH 123456", "mã đơn là Dh123456 nha", "123456"]:
        result, said = validate(ValidateOrderStatusForm(), "order_number", typed)
        assert result == {"order_number": "DH123456"}, typed
        assert said == []


def test_malformed_order_number_explains_the_format() -> None:
    result, said = validate(ValidateOrderStatusForm(), "order_number", "đơn 12345")
    assert result == {"order_number": None}
    assert said == ["utter_order_number_format"]


def test_unknown_order_allows_two_retries_then_stops_the_form() -> None:
    form = ValidateOrderStatusForm()
    result, said = validate(form, "order_number", "DH000001")
    assert result == {"order_number": None, "order_lookup_failures": 1}
    assert said == ["utter_order_not_found"]
    result, said = validate(form, "order_number", "DH000002", {"order_lookup_failures": 2})
    assert result["order_lookup_failures"] == 3 and said == []  # the submit action explains
    remaining = asyncio.run(
        form.required_slots(["order_number"], CollectingDispatcher(), tracker({"order_lookup_failures": 3}), {})
    )
    assert remaining == []


def test_ownership_by_full_phone_or_last_four_digits() -> None:
    form = ValidateOrderStatusForm()
    for answer in ["0912345678", "5678", "sđt mình 0912.345.678"]:
        result, _ = validate(form, "ownership_answer", answer, {"order_number": "DH123456"})
        assert result == {"ownership_answer": "verified"}, answer
    result, said = validate(form, "ownership_answer", "1111", {"order_number": "DH123456"})
    assert result == {"ownership_answer": None, "ownership_failures": 1}
    assert said == ["utter_ownership_mismatch"]
    result, said = validate(form, "ownership_answer", "tạm biệt", {"order_number": "DH123456"})
    assert result == {"ownership_answer": None, "ownership_failures": 1}
    assert said == ["utter_ownership_need_phone"]  # words are not a wrong number: asked again, plainly


def test_status_answer_reveals_the_order_only_to_its_owner() -> None:
    _, said = run(ActionOrderStatus(), {"order_number": "DH123456", "ownership_answer": "verified"})
    text = said[0]["text"]
    assert "DH123456" in text and OrderStatus.SHIPPING.label in text
    assert "mã vận đơn" in text and "Dự kiến giao" in text
    _, said = run(ActionOrderStatus(), {"order_number": "DH123456", "ownership_answer": None})
    assert said == []


def test_cancellation_of_a_shipped_order_is_refused_after_ownership() -> None:
    result, _ = validate(ValidateCancelOrderForm(), "ownership_answer", "5678", {"order_number": "DH123456"})
    assert result == {"ownership_answer": "verified", "order_not_cancellable": True}
    _, said = run(ActionCancelOrder(), {"order_number": "DH123456", **result})
    assert said[0]["response"] == "utter_cannot_cancel"
    assert said[0]["status"] == "đang giao"


def test_confirmed_cancellation_of_a_pending_order() -> None:
    order = services.order_backend().get("DH654321")
    slots = {"order_number": "DH654321", "ownership_answer": "verified", "confirm_cancel": True}
    assert order.status is OrderStatus.PENDING
    _, said = run(ActionCancelOrder(), slots)
    assert said[0]["response"] == "utter_order_cancelled"
    assert services.order_backend().get("DH654321").status is OrderStatus.CANCELLED


def test_issue_form_prefills_the_contact_phone_from_the_order() -> None:
    result, _ = validate(ValidateIssueReportForm(), "order_number", "DH123456")
    assert result == {"order_number": "DH123456", "contact_phone": "0912345678"}


@pytest.mark.parametrize(
    ("typed", "issue_type"),
    [("damaged", "damaged"), ("hàng bị vỡ một góc", "damaged"), ("giao sai mau", "wrong_item"), ("khác", "other")],
)
def test_issue_type_from_buttons_or_free_text(typed: str, issue_type: str) -> None:
    result, _ = validate(ValidateIssueReportForm(), "issue_type", typed)
    assert result["issue_type"] == issue_type


def test_malformed_contact_phone_is_explained() -> None:
    result, said = validate(ValidateIssueReportForm(), "contact_phone", "091234567")
    assert result == {"contact_phone": None} and said == ["utter_phone_format"]
    result, _ = validate(ValidateIssueReportForm(), "contact_phone", "+84 987 654 321")
    assert result == {"contact_phone": "0987654321"}


def test_confirmed_report_becomes_a_routed_ticket() -> None:
    slots = {
        "order_number": "DH777888", "issue_type": "damaged", "issue_description": "Nồi chiên bị móp một góc",
        "contact_phone": "0987654321", "confirm_ticket": True,
    }  # fmt: skip
    _, said = run(ActionCreateTicket(), slots)
    assert said[0]["response"] == "utter_ticket_created"
    assert re.fullmatch(r"TK-\d{8}-\d{4}", said[0]["ticket_code"])
    assert said[0]["team"] == "Kho vận"
    stored = services.ticket_store().get(said[0]["ticket_code"])
    assert (stored["order_number"], stored["issue_type"], stored["team"]) == ("DH777888", "damaged", "warehouse")


def test_a_ticket_that_could_not_be_saved_is_never_reported_as_done(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CSKH_DATABASE_URL", f"sqlite:///{tmp_path / 'missing-dir' / 'cskh.db'}")
    services.ticket_store.cache_clear()
    slots = {"order_number": "DH777888", "issue_type": "damaged", "issue_description": "hỏng", "confirm_ticket": True}
    _, said = run(ActionCreateTicket(), slots)
    assert [m["response"] for m in said] == ["utter_ticket_failed"]


def test_order_system_down_keeps_the_request_as_a_ticket(monkeypatch) -> None:
    monkeypatch.setenv("ORDER_API_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("ORDER_API_TIMEOUT", "0.5")
    services.order_backend.cache_clear()
    result, _ = validate(ValidateOrderStatusForm(), "order_number", "DH123456")
    assert result == {"order_number": "DH123456", "order_backend_down": True}
    _, said = run(ActionOrderStatus(), {**result})
    assert said[0]["response"] == "utter_backend_down_ticket"
    assert services.ticket_store().get(said[0]["ticket_code"])["order_number"] == "DH123456"


def test_a_human_request_with_the_desk_down_records_what_was_collected(monkeypatch) -> None:
    from actions.handoff import ActionHandoff

    monkeypatch.setenv("DESK_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    slots = {"order_number": "DH777888", "issue_type": "wrong_item", "issue_description": "Giao nhầm màu xanh"}
    events, said = run(ActionHandoff(), slots)
    code = re.search(r"TK-\d{8}-\d{4}", said[0]["text"]).group(0)
    stored = services.ticket_store().get(code)
    assert stored["order_number"] == "DH777888" and stored["team"] == "warehouse"
    assert "Giao nhầm màu xanh" in stored["description"]
    assert "1900 6868" in said[0]["text"]
    assert {"event": "slot", "timestamp": None, "name": "issue_type", "value": None} in events
    assert not any(event["event"] == "pause" for event in events)
