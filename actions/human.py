"""What the bot does when the customer wants a person.

Until the agent console exists (issue C) the bot cannot hand the chat over. It
records the request as a customer-care ticket with everything collected so far
(so nobody has to ask again), says so plainly, and gives the ways to reach a
person right now.
"""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.order_actions import file_ticket, reset_form_slots
from bot.shop_policy import render_text
from bot.support import issue_type_or_fallback

HUMAN_CONTACT = (
    "Hiện nhân viên chưa vào được khung chat này. Bạn liên hệ nhân viên qua hotline {shop.hotline} "
    "hoặc Zalo OA “{shop.zalo_oa}” ({hours.agents}), hay email {shop.email} nhé."
)


def request_summary(tracker: Tracker) -> str:
    """The human request with what the customer already told the bot."""
    parts = ["Khách yêu cầu gặp nhân viên."]
    if tracker.get_slot("issue_type"):
        parts.append(f"Vấn đề: {issue_type_or_fallback(tracker.get_slot('issue_type')).label}.")
    if tracker.get_slot("issue_description"):
        parts.append(f"Mô tả: {tracker.get_slot('issue_description')}")
    last_message = (tracker.latest_message or {}).get("text")
    if last_message:
        parts.append(f"Tin nhắn cuối: {last_message[:500]}")
    return " ".join(parts)


class ActionOfferHuman(Action):
    """Records the request with the collected details and gives the contact points."""

    def name(self) -> str:
        return "action_offer_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        issue = tracker.get_slot("issue_type") or "other"
        ticket = file_ticket(tracker, issue, request_summary(tracker))
        if ticket:
            dispatcher.utter_message(response="utter_human_request_recorded", ticket_code=ticket.code)
        dispatcher.utter_message(text=render_text(HUMAN_CONTACT))
        return reset_form_slots()
