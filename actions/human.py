"""What the bot says when the customer wants a person.

Until the agent console exists (issue C) the bot cannot hand the chat over, so
it says so plainly and gives the ways to reach a person right now.
"""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.shop_policy import render_text

HUMAN_CONTACT = (
    "Mình chưa chuyển được cuộc trò chuyện này sang nhân viên ngay trong khung chat. "
    "Bạn liên hệ nhân viên qua hotline {shop.hotline} hoặc Zalo OA “{shop.zalo_oa}” "
    "({hours.agents}), hay email {shop.email} nhé — nhân viên sẽ hỗ trợ bạn trực tiếp."
)


class ActionOfferHuman(Action):
    """Gives the shop's human contact points from the policy."""

    def name(self) -> str:
        return "action_offer_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=render_text(HUMAN_CONTACT))
        return []
