"""When nobody can take the conversation now: a ticket and a call back the customer can actually receive.

A call back needs a way to reach the customer. Zalo and Messenger customers can be answered in the
same chat later; a web (REST, widget) customer can only be called, so the bot asks for a phone before
promising anything (``callback_form``), and files the ticket once it has one. A customer who leaves
instead hears that nothing was recorded. Each thing is said once: why nobody answers now, then the
ticket and when the shop calls back; "the details you gave" only when they gave some. When nobody
accepted a hand-off in time the desk files the ticket itself and starts this form for a web customer
(bot/handoff_protocol.py ``ask_callback_phone_events``): the phone is then added to that ticket.
"""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.records import add_ticket_phone, collected_details, file_ticket, reset_form_slots
from bot.handoff_protocol import DESK_CLOSED, NO_AGENT_ONLINE, HandoffAnswer
from bot.privacy import mask_phone
from bot.shop_policy import render_text
from bot.text.entities import normalize_phone

WHY_NOT_NOW = {
    DESK_CLOSED: "Hiện đang ngoài giờ làm việc của nhân viên. ",
    NO_AGENT_ONLINE: "Hiện chưa có nhân viên nào trực tuyến. ",
}
RECORDED = "Mình đã ghi nhận yêu cầu gặp nhân viên của bạn (mã {code}){details}. "
WITH_DETAILS = " cùng những thông tin bạn đã cung cấp"
BY_PHONE = "Nhân viên sẽ gọi lại cho bạn qua số {phone} {callback}. "
ON_CHANNEL = "Nhân viên sẽ nhắn lại cho bạn ngay trong cuộc trò chuyện {channel} này {callback}. "
MEANWHILE = "Trong lúc chờ, bạn vẫn có thể hỏi mình những câu khác nhé."
UNREACHABLE = (
    "Hiện mình chưa kết nối được tới nhân viên. Bạn liên hệ nhân viên qua hotline {shop.hotline} "
    "hoặc Zalo OA “{shop.zalo_oa}” ({hours.agents}), hay email {shop.email} nhé."
)
NOT_RECORDED = "Xin lỗi bạn, mình chưa ghi nhận được yêu cầu. "
PHONE_ADDED = "Mình đã thêm số điện thoại vào phiếu hỗ trợ {code}. "
# channels whose chat the shop can answer later, by sender namespace (bot/senders.py)
ANSWERED_IN_CHAT = {"zalo:": "Zalo", "fb:": "Messenger"}


def chat_channel(sender_id: str) -> str | None:
    """The platform whose chat can carry a later answer, or None for the web."""
    return next((name for prefix, name in ANSWERED_IN_CHAT.items() if sender_id.startswith(prefix)), None)


def gave_details(details: dict[str, Any]) -> bool:
    """Whether the customer told the bot anything an agent can use, beyond how to reach them."""
    return any(key not in ("phone", "email") for key in details)


def record_and_promise(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    pending: dict[str, Any],
    details: dict[str, Any],
    why_not_now: str = "",
) -> list[dict[str, Any]]:
    """Files the ticket and says, once, who will answer, how and when."""
    ticket = file_ticket(
        tracker, tracker.get_slot("issue_type") or "other", pending["summary"], handoff_reason=pending["reason"]
    )
    if ticket is None:
        dispatcher.utter_message(text=why_not_now + NOT_RECORDED + render_text(UNREACHABLE))
        return reset_form_slots()
    said = why_not_now + RECORDED.format(code=ticket.code, details=WITH_DETAILS if gave_details(details) else "")
    channel, phone = chat_channel(tracker.sender_id), tracker.get_slot("contact_phone")
    if phone:
        said += BY_PHONE.format(phone=mask_phone(phone), callback=pending["callback"])
    elif channel:
        said += ON_CHANNEL.format(channel=channel, callback=pending["callback"])
    dispatcher.utter_message(text=said + MEANWHILE)
    return [*reset_form_slots(), SlotSet("handoff_pending", None)]


def answer_later(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    desk: HandoffAnswer,
    reason: str,
    summary: str,
    details: dict[str, Any],
) -> list[dict[str, Any]]:
    """Nobody can take the conversation now: a ticket with a reachable promise, or first a phone to call."""
    if desk.get("status") not in WHY_NOT_NOW:
        ticket = file_ticket(tracker, tracker.get_slot("issue_type") or "other", summary, handoff_reason=reason)
        said = RECORDED.format(code=ticket.code, details="") if ticket else NOT_RECORDED
        dispatcher.utter_message(text=said + render_text(UNREACHABLE))
        return reset_form_slots()
    pending = {"reason": reason, "summary": summary, "callback": desk["callback"]}
    if tracker.get_slot("contact_phone") or chat_channel(tracker.sender_id):
        return record_and_promise(dispatcher, tracker, pending, details, WHY_NOT_NOW[desk["status"]])
    dispatcher.utter_message(text=WHY_NOT_NOW[desk["status"]].strip())
    return [*reset_form_slots(), SlotSet("handoff_pending", pending), FollowupAction("callback_form")]


class ValidateCallbackForm(FormValidationAction):
    """The phone to call back: any written form of a Vietnamese mobile."""

    def name(self) -> str:
        return "validate_callback_form"

    async def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        phone = normalize_phone(str(value or ""))
        if phone is None:
            dispatcher.utter_message(response="utter_phone_format")
        return {"contact_phone": phone}


class ActionHandoffCallback(Action):
    """The phone is known: file the hand-off's ticket and promise the call back."""

    def name(self) -> str:
        return "action_handoff_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        pending = tracker.get_slot("handoff_pending")
        phone = tracker.get_slot("contact_phone")
        if not isinstance(pending, dict) or not phone:
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("handoff_pending", None)]
        if pending.get("ticket_code"):  # the desk filed it when nobody accepted: only the phone was missing
            return add_phone_to_ticket(dispatcher, tracker, str(pending["ticket_code"]), phone, pending)
        return record_and_promise(dispatcher, tracker, pending, collected_details(tracker))


def add_phone_to_ticket(
    dispatcher: CollectingDispatcher, tracker: Tracker, code: str, phone: str, pending: dict[str, Any]
) -> list[dict[str, Any]]:
    """Puts the phone on the desk's ticket, checked against this conversation, and promises the call back."""
    if add_ticket_phone(tracker, code, phone):
        said = PHONE_ADDED.format(code=code) + BY_PHONE.format(phone=mask_phone(phone), callback=pending["callback"])
        dispatcher.utter_message(text=said + MEANWHILE)
    else:
        dispatcher.utter_message(text=NOT_RECORDED + render_text(UNREACHABLE))
    return [*reset_form_slots(), SlotSet("handoff_pending", None)]
