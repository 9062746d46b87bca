"""English replies for customers who do not write Vietnamese (intent other_language, bot/nlu/language.py).

The questions foreign customers ask most (shipping fee, delivery time, returns, payment) are
answered in English from the same shop facts as the Vietnamese answers (data/shop/policy.yml), so
a changed fee reaches both; the topic is found by English keywords, since the NLU model knows only
Vietnamese. Every reply then says what the bot can do and offers a person.
"""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.shop_policy import PolicyError, render_text

# (topic, words that must all be matched by one of their alternatives, English template)
_TOPICS: list[tuple[str, list[tuple[str, ...]], str]] = [
    (
        "shipping_fee",
        [("ship", "deliver", "postage"), ("cost", "fee", "much", "price", "free", "charge")],
        "Shipping costs {shipping.fee_inner_city} within the city, {shipping.fee_suburban} to the suburbs and "
        "{shipping.fee_other_provinces} to other provinces; orders from {shipping.free_threshold} ship free.",
    ),
    (
        "delivery_time",
        [("how long", "when", "arrive", "days", "take")],
        "Delivery takes {delivery.inner_city} within the city, {delivery.same_region} within the same region "
        "and {delivery.other_region} elsewhere ({delivery.remote} to remote areas).",
    ),
    (
        "returns",
        [("return", "exchange", "refund")],
        "You can return or exchange an item within {returns.window} of receiving it, unused and with its tags "
        "and packaging; the refund follows once we have received and checked it.",
    ),
    (
        "payment",
        [("pay", "card", "cash", "cod", "transfer")],
        "You can pay cash on delivery (COD), by bank transfer, by card or with the e-wallets {payment.ewallets}.",
    ),
]
# The policy's values are written for Vietnamese sentences ("1–2 ngày").
_UNITS = {"ngày": "days", "giờ": "hours"}


def english_answer(text: str) -> str | None:
    """The English answer to a common question in the message, or None."""
    lowered = text.lower()
    for _, groups, template in _TOPICS:
        if all(any(word in lowered for word in group) for group in groups):
            try:
                answer = render_text(template)
            except PolicyError:
                return None
            for vietnamese, english in _UNITS.items():
                answer = answer.replace(vietnamese, english)
            return answer
    return None


class ActionReplyInEnglish(Action):
    """Answers a common question in English if there is one, then offers what the bot can do and a person."""

    def name(self) -> str:
        return "action_reply_in_english"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        answer = english_answer(tracker.latest_message.get("text") or "")
        if answer:
            dispatcher.utter_message(text=answer)
        dispatcher.utter_message(response="utter_other_language")
        return []
