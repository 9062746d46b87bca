"""What happens when an order form ends: answer, cancel, or file a ticket.

Each action handles every way its form can end (success, unknown order,
ownership not proven, order system down) and resets the form's bookkeeping
slots so the next request starts clean.
"""

import asyncio
import json
import logging
from typing import Any

import sqlalchemy as sa
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.attachments import link_to_ticket
from actions.confirmation import CONFIRMED
from actions.handoff import hand_off
from actions.order_forms import MAX_ATTEMPTS
from actions.order_lookup import cancel_order, find_order
from actions.records import file_ticket, reset_form_slots
from actions.services import ownership_ledger
from bot.orders.model import Order, OrderBackendError, OrderNotCancellableError, OrderStatus, format_vnd
from bot.privacy import mask_phone
from bot.support import issue_type_or_fallback, issue_types

logger = logging.getLogger(__name__)


def describe_order(order: Order) -> str:
    """Status, items, carrier, ETA and tracking, as told to the verified owner."""
    items = ", ".join(f"{i.quantity} × {i.name}" for i in order.items)
    lines = [
        f"Đơn {order.number} của bạn đang ở trạng thái: {order.status.label}.",
        f"Sản phẩm: {items} — tổng {format_vnd(order.total)}.",
    ]
    if order.carrier:
        tracking = f", mã vận đơn {order.tracking_code}" if order.tracking_code else ""
        lines.append(f"Đơn vị vận chuyển: {order.carrier}{tracking}.")
    if order.eta and order.status.value in ("pending", "packing", "shipping"):
        lines.append(f"Dự kiến giao: {order.eta.strftime('%d/%m/%Y')}.")
    return "\n".join(lines)


# why an order cannot be cancelled, in the words that fit its status: a delivered order is for the
# return policy, a cancelled one needs nothing more, a shipping one can still be refused
CANNOT_CANCEL_BY_STATUS = {
    OrderStatus.DELIVERED: "utter_cannot_cancel_delivered",
    OrderStatus.CANCELLED: "utter_cannot_cancel_cancelled",
    OrderStatus.SHIPPING: "utter_cannot_cancel_shipping",
    OrderStatus.RETURNED: "utter_cannot_cancel_returned",
}


def say_cannot_cancel(dispatcher: CollectingDispatcher, order: Order) -> None:
    """The refusal for this order's status (the generic one for a status with no words of its own)."""
    response = CANNOT_CANCEL_BY_STATUS.get(order.status, "utter_cannot_cancel")
    dispatcher.utter_message(response=response, order_number=order.number, status=order.status.label)


async def _owned_order(tracker: Tracker, *, full_phone: bool) -> Order | None:
    """The order named in the conversation, if this conversation proved it is theirs (checked now, server-side)."""
    number = tracker.get_slot("order_number")
    if not await asyncio.to_thread(ownership_ledger().proven, tracker.sender_id, number, full_phone=full_phone):
        return None
    return await find_order(tracker, number)


def explain_stopped_form(dispatcher: CollectingDispatcher, tracker: Tracker, request: str) -> bool:
    """Says why a form ended early; True when it did (see ``after_stopped_form``)."""
    if tracker.get_slot("order_backend_down"):
        ticket = file_ticket(tracker, "other", f"Khách cần {request}; hệ thống đơn hàng không phản hồi.")
        if ticket:
            dispatcher.utter_message(response="utter_backend_down_ticket", ticket_code=ticket.code)
        else:
            dispatcher.utter_message(response="utter_backend_down_no_ticket")
        return True
    if int(tracker.get_slot("order_lookup_failures") or 0) >= MAX_ATTEMPTS:
        dispatcher.utter_message(response="utter_order_not_found_final")
        return True
    if int(tracker.get_slot("ownership_failures") or 0) >= MAX_ATTEMPTS:
        dispatcher.utter_message(response="utter_ownership_failed_final")
        return True
    if tracker.get_slot("order_locked"):
        dispatcher.utter_message(response="utter_order_locked")
        return True
    return False


async def after_stopped_form(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """A form that failed repeatedly goes to a human with what was tried; otherwise a clean slate."""
    failures = max(int(tracker.get_slot(s) or 0) for s in ("order_lookup_failures", "ownership_failures"))
    if failures >= MAX_ATTEMPTS or tracker.get_slot("order_locked"):
        return await hand_off(dispatcher, tracker, "form_failed")
    return reset_form_slots()


class ActionOrderStatus(Action):
    """Tells the verified owner where the order is."""

    def name(self) -> str:
        return "action_order_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        if explain_stopped_form(dispatcher, tracker, "tra cứu đơn hàng"):
            return await after_stopped_form(dispatcher, tracker)
        try:
            order = await _owned_order(tracker, full_phone=False)
        except OrderBackendError:
            order = None
            dispatcher.utter_message(response="utter_backend_down_no_ticket")
        if order:
            dispatcher.utter_message(text=describe_order(order))
            dispatcher.utter_message(response="utter_anything_else")
        return reset_form_slots()


class ActionCancelOrder(Action):
    """Cancels a cancellable order once the owner confirmed."""

    def name(self) -> str:
        return "action_cancel_order"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        number = tracker.get_slot("order_number")
        if explain_stopped_form(dispatcher, tracker, "huỷ đơn hàng"):
            return await after_stopped_form(dispatcher, tracker)
        if tracker.get_slot("order_not_cancellable"):
            try:
                order = await _owned_order(tracker, full_phone=True)
            except OrderBackendError:
                order = None
            if order is None:
                dispatcher.utter_message(response="utter_backend_down_no_ticket")
            else:
                say_cannot_cancel(dispatcher, order)
            return reset_form_slots()
        if tracker.get_slot("confirm_cancel") != CONFIRMED:
            dispatcher.utter_message(response="utter_cancel_kept", order_number=number)
            return reset_form_slots()
        # checked again here, whatever the slots say: this conversation proved this very order by its phone
        if not await asyncio.to_thread(ownership_ledger().proven, tracker.sender_id, number, full_phone=True):
            logger.warning("cancellation refused: ownership of the order not proven in this conversation")
            dispatcher.utter_message(response="utter_cancel_not_proven", order_number=number)
            return reset_form_slots()
        try:
            await cancel_order(number, reason=f"Khách huỷ qua chatbot ({tracker.get_latest_input_channel()})")
        except OrderNotCancellableError as refused:
            say_cannot_cancel(dispatcher, refused.order)
        except (OrderBackendError, KeyError):
            dispatcher.utter_message(response="utter_backend_down_no_ticket")
        else:
            dispatcher.utter_message(response="utter_order_cancelled", order_number=number)
        return reset_form_slots()


class ActionAskIssueType(Action):
    """Asks what went wrong, with one button per issue type of data/shop/support.yml.

    A custom action rather than a response: Rasa fills ``{...}`` in responses, and
    the JSON in these button payloads would be taken for slot names.
    """

    def name(self) -> str:
        return "action_ask_issue_type"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        number = tracker.get_slot("order_number")
        dispatcher.utter_message(
            text=f"Đơn {number} đang gặp vấn đề gì ạ? Bạn chọn một mục hoặc mô tả ngắn giúp mình nhé:",
            buttons=[
                {"title": issue.label, "payload": "/inform" + json.dumps({"issue_type": key})}
                for key, issue in issue_types().items()
            ],
        )
        return []


class ActionAskCancelOwnership(Action):
    """Asks for the full phone before a cancellation, saying why when the last 4 digits were already given.

    A customer who just proved the order with its last 4 digits would otherwise be asked "again" with
    no reason: the 4 digits show the status, but only the whole number may change the order.
    """

    def name(self) -> str:
        return "action_ask_cancel_order_form_ownership_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        number = tracker.get_slot("order_number")
        if await asyncio.to_thread(ownership_ledger().proven, tracker.sender_id, number, full_phone=False):
            dispatcher.utter_message(response="utter_cancel_needs_more_than_last_digits", order_number=number)
        else:
            dispatcher.utter_message(response="utter_ask_cancel_order_form_ownership_answer", order_number=number)
        return []


class ActionAskConfirmTicket(Action):
    """Shows the collected report and asks to send it."""

    def name(self) -> str:
        return "action_ask_confirm_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        issue = issue_type_or_fallback(tracker.get_slot("issue_type"))
        phone = tracker.get_slot("contact_phone") or ""
        dispatcher.utter_message(
            response="utter_ask_confirm_ticket",
            order_number=tracker.get_slot("order_number"),
            issue_label=issue.label,
            description=tracker.get_slot("issue_description"),
            phone=mask_phone(phone),
        )
        return []


async def _report_verified(tracker: Tracker) -> bool:
    """A report is on a verified order when this conversation proved it, or the contact phone is the order's.

    Nothing about the order is told either way: an unverified report is filed and marked so for the team.
    """
    number = tracker.get_slot("order_number")
    try:
        if await asyncio.to_thread(ownership_ledger().proven, tracker.sender_id, number, full_phone=False):
            return True
        order = await find_order(tracker, number) if number else None
    except (OrderBackendError, sa.exc.SQLAlchemyError):
        return False  # cannot tell: filed as unverified, the safe side
    return order is not None and order.phone_matches(tracker.get_slot("contact_phone") or "", last_digits_ok=False)


class ActionCreateTicket(Action):
    """Files the confirmed report as a ticket routed to the right team."""

    def name(self) -> str:
        return "action_create_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        if explain_stopped_form(dispatcher, tracker, "báo lỗi đơn hàng"):
            return await after_stopped_form(dispatcher, tracker)
        if tracker.get_slot("confirm_ticket") != CONFIRMED:
            dispatcher.utter_message(response="utter_ticket_not_sent")
            return reset_form_slots()
        issue = issue_type_or_fallback(tracker.get_slot("issue_type"))
        verified = await _report_verified(tracker)
        ticket = file_ticket(tracker, issue.key, tracker.get_slot("issue_description") or "", order_verified=verified)
        if ticket is None:
            dispatcher.utter_message(response="utter_ticket_failed")
        else:
            await asyncio.to_thread(link_to_ticket, tracker, ticket.code)
            dispatcher.utter_message(
                response="utter_ticket_created",
                ticket_code=ticket.code,
                team=issue.team_name,
                response_time=issue.response_time,
            )
        return reset_form_slots()
