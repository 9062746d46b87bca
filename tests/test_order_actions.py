"""Order-form validation and submit actions with rasa-sdk's Tracker and CollectingDispatcher.

The actions run against a real demo-shop database and ticket database in a
temporary folder; the "order system down" case points them at a dead port.
"""

import asyncio
import dataclasses
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.order_actions import ActionCancelOrder, ActionCreateTicket, ActionOrderStatus
from actions.order_forms import ValidateCancelOrderForm, ValidateIssueReportForm, ValidateOrderStatusForm
from bot.orders.model import OrderStatus
from bot.settings import Settings, settings_in_force


@pytest.fixture(autouse=True)
def backends(tmp_path) -> Iterator[Callable[..., Settings]]:
    """The demo shop and project database under ``tmp_path``; ``backends(**changes)`` puts other settings in force."""
    base = Settings.under(tmp_path)
    with ExitStack() as in_force:

        def put_in_force(**changes: Any) -> Settings:
            return in_force.enter_context(settings_in_force(dataclasses.replace(base, **changes)))

        put_in_force()
        yield put_in_force


def tracker(
    slots: dict[str, Any],
    text: str = "",
    form: str | None = None,
    sender: str = "customer-1",
    events: list[dict] | None = None,
) -> Tracker:
    requested = slots.get("requested_slot")
    return Tracker(
        sender, {"requested_slot": requested, **slots},
        {"intent": {"name": "inform"}, "entities": [], "text": text},
        events or [], False, None, {"name": form} if form else {}, "action_listen",
    )  # fmt: skip


def validate(
    action,
    slot: str,
    value: Any,
    slots: dict | None = None,
    sender: str = "customer-1",
    text: str = "",
    events: list[dict] | None = None,
) -> tuple[dict, list[str]]:
    dispatcher = CollectingDispatcher()
    method = getattr(action, f"validate_{slot}")
    result = asyncio.run(method(value, dispatcher, tracker(slots or {}, text, sender=sender, events=events), {}))
    return result, [m.get("response") or m.get("text") for m in dispatcher.messages]


def run(action, slots: dict, sender: str = "customer-1") -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker(slots, sender=sender), {}))
    return events, dispatcher.messages


def prove(form, number: str, answer: str, sender: str = "customer-1") -> dict:
    """The customer answers the ownership question; the slots the form keeps."""
    result, _ = validate(form, "ownership_answer", answer, {"order_number": number}, sender=sender)
    return {"order_number": number, **result}


def confirm(form, slot: str, reply: str, slots: dict, events: list[dict] | None = None) -> dict:
    result, _ = validate(form, slot, reply, slots, text=reply, events=events)
    return {**slots, **result}


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


def test_ownership_by_full_phone_in_any_form_or_last_four_digits() -> None:
    form = ValidateOrderStatusForm()
    for answer in ["0912345678", "5678", "sđt mình 0912.345.678", "+84 912 345 678", "84912345678"]:
        result, _ = validate(form, "ownership_answer", answer, {"order_number": "DH123456"})
        assert result == {"ownership_answer": "verified"}, answer
    result, said = validate(form, "ownership_answer", "1111", {"order_number": "DH123456"})
    assert result == {"ownership_answer": None, "ownership_failures": 1}
    assert said == ["utter_ownership_mismatch"]
    result, said = validate(form, "ownership_answer", "tạm biệt", {"order_number": "DH123456"})
    assert result == {"ownership_answer": None, "ownership_failures": 1}
    assert said == ["utter_ownership_need_phone"]  # words are not a wrong number: asked again, plainly


def test_status_answer_reveals_the_order_only_to_its_owner() -> None:
    # a tracker that merely claims "verified" proves nothing: the proof is looked up server-side
    _, said = run(ActionOrderStatus(), {"order_number": "DH123456", "ownership_answer": "verified"})
    assert said == []
    _, said = run(ActionOrderStatus(), prove(ValidateOrderStatusForm(), "DH123456", "5678"))
    text = said[0]["text"]
    assert "DH123456" in text and OrderStatus.SHIPPING.label in text
    assert "mã vận đơn" in text and "Dự kiến giao" in text
    _, said = run(ActionOrderStatus(), prove(ValidateOrderStatusForm(), "DH123456", "5678"), sender="someone-else")
    assert said == []


def test_cancelling_needs_the_full_phone_number_not_its_last_digits() -> None:
    result, said = validate(ValidateCancelOrderForm(), "ownership_answer", "5678", {"order_number": "DH123456"})
    assert result == {"ownership_answer": None, "ownership_failures": 1}
    assert said == ["utter_ownership_need_full_phone"]


def test_cancellation_of_a_shipped_order_is_refused_after_ownership() -> None:
    slots = prove(ValidateCancelOrderForm(), "DH123456", "0912345678")
    assert slots == {"order_number": "DH123456", "ownership_answer": "verified", "order_not_cancellable": True}
    _, said = run(ActionCancelOrder(), slots)
    assert said[0]["response"] == "utter_cannot_cancel_shipping"  # in the words for an order on its way
    assert said[0]["status"] == "đang giao"


def test_confirmed_cancellation_of_a_pending_order() -> None:
    form = ValidateCancelOrderForm()
    assert services.order_backend().get("DH111222").status is OrderStatus.PENDING
    slots = confirm(form, "confirm_cancel", "ừ huỷ đi", prove(form, "DH111222", "0987654321"))
    assert slots["confirm_cancel"] == "yes"
    _, said = run(ActionCancelOrder(), slots)
    assert said[0]["response"] == "utter_order_cancelled"
    assert services.order_backend().get("DH111222").status is OrderStatus.CANCELLED


@pytest.mark.parametrize("reply", ["thôi để mình giữ lại, không hủy nữa", "không hủy nữa", "ko huy nua", "/deny"])
def test_saying_not_to_cancel_keeps_the_order(reply: str) -> None:
    form = ValidateCancelOrderForm()
    slots = confirm(form, "confirm_cancel", reply, prove(form, "DH111222", "0987654321"))
    assert slots["confirm_cancel"] == "no"
    _, said = run(ActionCancelOrder(), slots)
    assert said[0]["response"] == "utter_cancel_kept"
    assert services.order_backend().get("DH111222").status is OrderStatus.PENDING


def test_unclear_answers_are_asked_again_twice_then_nothing_changes() -> None:
    form = ValidateCancelOrderForm()
    slots = prove(form, "DH111222", "0987654321")
    for attempt in (1, 2):
        result, said = validate(form, "confirm_cancel", "ủa sao vậy", slots, text="ủa sao vậy")
        assert result == {"confirm_cancel": None, "confirm_unclear": attempt} and said == ["utter_confirm_unclear"]
        slots = {**slots, **result}
    slots = confirm(form, "confirm_cancel", "ủa sao vậy", slots)
    assert slots["confirm_cancel"] == "unclear"
    _, said = run(ActionCancelOrder(), slots)
    assert said[0]["response"] == "utter_cancel_kept"
    assert services.order_backend().get("DH111222").status is OrderStatus.PENDING


def test_a_yes_naming_another_order_cancels_neither() -> None:
    """Finding G.2: ownership of DH111222 proven, then "ừ đúng rồi, huỷ đơn DH654321 nhé" at the confirmation."""
    form = ValidateCancelOrderForm()
    proven = prove(form, "DH111222", "0987654321")
    earlier = [{"event": "slot", "name": "order_number", "value": "DH111222"}, {"event": "user", "text": "x"}]
    reply = "ừ đúng rồi, huỷ đơn DH654321 nhé"
    changed, _ = validate(form, "order_number", "DH654321", proven, text=reply, events=earlier)
    assert changed["order_number"] == "DH654321" and changed["ownership_answer"] is None
    assert changed["confirm_cancel"] is None
    confirmed, _ = validate(form, "confirm_cancel", reply, {**proven, **changed}, text=reply, events=earlier)
    assert confirmed == {"confirm_cancel": None}
    # even slots forged to say otherwise cancel nothing: the proof for DH654321 is looked up, and missing
    forged = {"order_number": "DH654321", "ownership_answer": "verified", "confirm_cancel": "yes"}
    _, said = run(ActionCancelOrder(), forged)
    assert said[0]["response"] == "utter_cancel_not_proven"
    assert services.order_backend().get("DH654321").status is OrderStatus.PENDING
    assert services.order_backend().get("DH111222").status is OrderStatus.PENDING


def test_last_digit_guesses_lock_the_order_across_senders() -> None:
    """Finding G.3: 20 guesses over 10 sender ids; after 5 failures even the right digits are refused."""
    form = ValidateOrderStatusForm()
    outcomes = []
    guesses = [f"{n:04d}" for n in range(1000, 1020)] + ["5678"]  # the right last digits come last
    for i, guess in enumerate(guesses):
        result, _ = validate(form, "ownership_answer", guess, {"order_number": "DH123456"}, sender=f"attacker-{i % 10}")
        outcomes.append(result)
    assert sum(1 for r in outcomes if "ownership_failures" in r) == 5  # five ordinary failures...
    assert all(r == {"ownership_answer": None, "order_locked": True} for r in outcomes[5:])  # ...then locked
    _, said = run(ActionOrderStatus(), {"order_number": "DH123456", **outcomes[-1]}, sender="attacker-0")
    assert said[0]["response"] == "utter_order_locked"
    assert not any("đang giao" in (m.get("text") or "") for m in said)
    # a new conversation starts locked too: the count lives in the project database
    result, _ = validate(form, "order_number", "DH123456", sender="fresh-sender")
    assert result == {"order_number": "DH123456", "order_locked": True}


def test_issue_form_reveals_nothing_about_an_unproven_order() -> None:
    result, _ = validate(ValidateIssueReportForm(), "order_number", "DH123456")
    assert result == {"order_number": "DH123456"}  # no phone, masked or not, before a proof
    proven = prove(ValidateIssueReportForm(), "DH123456", "5678")
    assert proven["contact_phone"] == "0912345678"  # the owner's own number, offered back once proven


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


def test_confirmed_report_becomes_a_routed_ticket_marked_unverified() -> None:
    slots = {
        "order_number": "DH777888", "issue_type": "damaged", "issue_description": "Nồi chiên bị móp một góc",
        "contact_phone": "0987654321", "confirm_ticket": "yes",
    }  # fmt: skip
    _, said = run(ActionCreateTicket(), slots)
    assert said[0]["response"] == "utter_ticket_created"
    assert re.fullmatch(r"TK-\d{8}-\d{4}", said[0]["ticket_code"])
    assert said[0]["team"] == "Kho vận"
    stored = services.ticket_store().get(said[0]["ticket_code"])
    assert (stored["order_number"], stored["issue_type"], stored["team"]) == ("DH777888", "damaged", "warehouse")
    assert stored["order_verified"] is False  # a stranger's number: filed, and the team knows it is unproven


def test_a_report_from_the_owner_is_marked_verified() -> None:
    slots = {
        "order_number": "DH123456", "issue_type": "late_delivery", "issue_description": "Hẹn thứ hai mà chưa thấy",
        "contact_phone": "+84 912 345 678", "confirm_ticket": "yes",
    }  # fmt: skip
    _, said = run(ActionCreateTicket(), slots)
    assert services.ticket_store().get(said[0]["ticket_code"])["order_verified"] is True


@pytest.mark.parametrize("reply", ["huỷ", "thôi khỏi gửi", "khoan đã"])
def test_a_report_the_customer_did_not_clearly_send_is_not_filed(reply: str) -> None:
    slots = {"order_number": "DH777888", "issue_type": "damaged", "issue_description": "Nồi chiên bị móp một góc"}
    slots = confirm(ValidateIssueReportForm(), "confirm_ticket", reply, slots)
    _, said = run(ActionCreateTicket(), slots)
    assert [m["response"] for m in said] == ["utter_ticket_not_sent"]


def test_a_ticket_that_could_not_be_saved_is_never_reported_as_done(backends, tmp_path) -> None:
    backends(database_url=f"sqlite:///{tmp_path / 'missing-dir' / 'cskh.db'}")
    slots = {"order_number": "DH777888", "issue_type": "damaged", "issue_description": "hỏng", "confirm_ticket": "yes"}
    _, said = run(ActionCreateTicket(), slots)
    assert [m["response"] for m in said] == ["utter_ticket_failed"]


def test_order_system_down_keeps_the_request_as_a_ticket(backends) -> None:
    backends(order_api_url="http://127.0.0.1:9", order_api_timeout=0.5)  # nothing listens on the discard port
    result, _ = validate(ValidateOrderStatusForm(), "order_number", "DH123456")
    assert result == {"order_number": "DH123456", "order_backend_down": True}
    _, said = run(ActionOrderStatus(), {**result})
    assert said[0]["response"] == "utter_backend_down_ticket"
    assert services.ticket_store().get(said[0]["ticket_code"])["order_number"] == "DH123456"


def test_a_human_request_with_the_desk_down_records_what_was_collected(backends) -> None:
    from actions.handoff import ActionHandoff

    backends(desk_port=9)  # nothing listens on the discard port
    slots = {"order_number": "DH777888", "issue_type": "wrong_item", "issue_description": "Giao nhầm màu xanh"}
    events, said = run(ActionHandoff(), slots)
    code = re.search(r"TK-\d{8}-\d{4}", said[0]["text"]).group(0)
    stored = services.ticket_store().get(code)
    assert stored["order_number"] == "DH777888" and stored["team"] == "warehouse"
    assert "Giao nhầm màu xanh" in stored["description"]
    assert "1900 6868" in said[0]["text"]
    assert {"event": "slot", "timestamp": None, "name": "issue_type", "value": None} in events
    assert not any(event["event"] == "pause" for event in events)
