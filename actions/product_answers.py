"""Product questions answered from the catalog as it is now: price, stock, sizes and colours,
comparisons and suggestions (the words: bot/catalog/answers.py).

The catalog is read in a worker thread at every question (prices and stock change; nothing is
taken from training data). The product is found in the customer's words (bot/catalog/matching.py);
a button that picks one of several carries its id as the ``product`` entity, and the question it
answers is the one kept in ``product_question`` when the bot asked which; the "Hỏi thêm" button of a
product's card (bot/catalog/cards.py, shown where the channel can) asks for all there is to know of it. A
message naming no product ("còn màu khác không") is about the product of the previous answer (``product_id``).
An unknown product gets the honest answer and a person; a catalog that cannot answer, an apology.
Each answer's message records the products it named, or none (bot/catalog/asked.py), for the analytics.
"""

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.services import catalog_backend, shop_teencode
from bot.catalog.answers import HUMAN_BUTTON, Answer, answer
from bot.catalog.asked import lookup_metadata
from bot.catalog.cards import product_card
from bot.catalog.matching import ProductMatch, match_products, words
from bot.catalog.model import CatalogBackendError, Product
from bot.catalog.questions import read_question
from bot.settings import current_settings

logger = logging.getLogger(__name__)

CATALOG_DOWN = (
    "Xin lỗi bạn, hệ thống sản phẩm của shop đang tạm thời không phản hồi nên mình chưa xem được giá và "
    'tồn kho lúc này. Bạn thử hỏi lại sau ít phút, hoặc bấm "Gặp nhân viên" để nhân viên kiểm tra giúp nhé.'
)


def picture_link(image_url: str) -> str:
    """The picture as the channel can fetch it: a path of the Rasa server made a full link when the
    public URL is known (Messenger fetches pictures itself); the widget resolves a path on its own."""
    public = current_settings().public_url
    return f"{public}{image_url}" if image_url.startswith("/") and public else image_url


def _entity(tracker: Tracker, name: str) -> str | None:
    return next((e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == name), None)


def _by_id(catalog: list[Product], product_id: str | None) -> Product | None:
    return next((p for p in catalog if p.id == product_id), None) if product_id else None


def reply(tracker: Tracker, catalog: list[Product]) -> tuple[Answer, str, ProductMatch]:
    """The answer to the latest message, the question to keep should the bot ask which product, and the
    products it was about (what the analytics count)."""
    lexicon = shop_teencode()
    text = tracker.latest_message.get("text") or ""
    picked = _by_id(catalog, _entity(tracker, "product"))
    if picked:  # a button: the product is chosen, the question is the one that named several before
        kept = tracker.get_slot("product_question") or ""
        # a question about one product kept: the button is the card's "Hỏi thêm", asking all there is to know
        text = kept if match_products(kept, catalog, lexicon).ambiguous else ""
        match = ProductMatch((picked,))
    else:
        match = match_products(text, catalog, lexicon)
        earlier = _by_id(catalog, tracker.get_slot("product_id"))
        if not match.products and earlier:
            match = ProductMatch((earlier,))
    return answer(match, read_question(words(text, lexicon)), catalog), text, match


def _message(said: Answer, match: ProductMatch) -> dict[str, Any]:
    """What the dispatcher says for ``said``: words, buttons, picture and card, and what it named."""
    message: dict[str, Any] = {"text": said.text, "buttons": said.buttons, **lookup_metadata(match.products)}
    if said.image:
        message["image"] = picture_link(said.image)
        if said.product:  # the channels that show cards show this one instead of the bare picture
            message["elements"] = [product_card(said.product, message["image"])]
    return message


def product_message(text: str, catalog: list[Product]) -> dict[str, Any]:
    """The answer to ``text`` alone, a product question asked beside others in one message."""
    lexicon = shop_teencode()
    match = match_products(text, catalog, lexicon)
    return _message(answer(match, read_question(words(text, lexicon)), catalog), match)


async def live_catalog() -> list[Product] | None:
    """The catalog as it is now, read in a worker thread; None when it cannot answer."""
    try:
        return await asyncio.to_thread(lambda: catalog_backend().products())
    except CatalogBackendError as error:
        logger.warning("catalog unavailable: %s", error)
        return None


class ActionAnswerProduct(Action):
    """Answers a product question from the live catalog."""

    def name(self) -> str:
        return "action_answer_product"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        catalog = await live_catalog()
        if catalog is None:
            dispatcher.utter_message(text=CATALOG_DOWN, buttons=[HUMAN_BUTTON])
            return []
        said, question, match = reply(tracker, catalog)
        dispatcher.utter_message(**_message(said, match))
        events = [SlotSet("product_question", question)]
        if said.product:
            events.append(SlotSet("product_id", said.product.id))
        return events
