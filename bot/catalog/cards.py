"""A product as a card under the answer, for the channels that show one.

The card travels in Rasa's ``elements`` of the bot's message, in the shape of an element of Messenger's generic
template (developers.facebook.com/docs/messenger-platform/send-messages/template/generic): the product's name, its
price and stock in a few words, its picture, and two buttons that send their payload back as the customer's
message. Each channel decides what it can show: Messenger the card itself when the picture is a public https link,
Zalo the picture (connectors/zalo.py), the widget its own picture under the words; otherwise the words alone,
which carry every fact.
"""

from typing import Any

from bot.catalog.answers import HUMAN_BUTTON, choice_payload, summary
from bot.catalog.model import Product

ASK_MORE = "Hỏi thêm"  # the product's overview: price, stock, options, description (actions/product_answers.py)
TITLE_LIMIT = SUBTITLE_LIMIT = 80  # Messenger's, for either


def product_card(product: Product, image_link: str) -> dict[str, Any]:
    """The card of ``product`` with its picture at ``image_link`` (as the channel will fetch it)."""
    return {
        "title": product.name[:TITLE_LIMIT],
        "subtitle": summary(product)[:SUBTITLE_LIMIT],
        "image_url": image_link,
        "buttons": [
            {"type": "postback", "title": ASK_MORE, "payload": choice_payload(product)},
            {"type": "postback", **HUMAN_BUTTON},
        ],
    }


def public_picture(card: dict[str, Any]) -> str:
    """The card's picture when a platform can fetch it itself (a full https link), else empty."""
    link = card.get("image_url")
    return link if isinstance(link, str) and link.startswith("https://") else ""
