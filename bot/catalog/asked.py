"""What a product answer records about its question, for the admin's analytics (bot/admin/product_analytics.py).

The action puts it on its bot message, where Rasa keeps it in the stored event's ``metadata``
(extra keys of a message are metadata; no channel sends them): the products the customer's words
named, id -> name as the catalog had it then, or none when the bot found no product in the catalog.
A catalog that could not answer records nothing (nothing was looked up).
"""

from collections.abc import Iterable
from typing import Any

from bot.catalog.model import Product

LOOKUP_KEY = "product_lookup"


def lookup_metadata(named: Iterable[Product]) -> dict[str, dict[str, dict[str, str]]]:
    """The extra key of the answer's message (never empty: Rasa drops empty values)."""
    return {LOOKUP_KEY: {"found": {product.id: product.name for product in named}}}


def lookup_of(event: dict[str, Any]) -> dict[str, str] | None:
    """The products a stored bot event's answer named (empty: unknown); None when it is no product answer."""
    found = ((event.get("metadata") or {}).get(LOOKUP_KEY) or {}).get("found")
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else None
