"""The one interface actions use to reach orders, and how it is chosen."""

import os
from pathlib import Path
from typing import Protocol

from bot.orders.model import Order


class OrderBackend(Protocol):
    """Looks up and cancels orders. Raises ``OrderBackendError`` when unreachable."""

    def get(self, number: str) -> Order | None:
        """The order, or None when no order has that number."""

    def cancel(self, number: str, reason: str) -> Order:
        """Cancels a cancellable order; raises ``OrderNotCancellableError`` otherwise."""


def backend_from_env() -> OrderBackend:
    """``ORDER_API_URL`` set: the shop's own API; otherwise the embedded demo shop
    (in ``DEMO_SHOP_DB``, default ``var/demo_shop.db``)."""
    url = os.environ.get("ORDER_API_URL")
    if url:
        from bot.orders.http_backend import HttpOrderBackend

        return HttpOrderBackend(
            url,
            token=os.environ.get("ORDER_API_TOKEN"),
            timeout=float(os.environ.get("ORDER_API_TIMEOUT", "3")),
        )
    from bot.orders.demo_shop import DemoShop
    from bot.paths import VAR_DIR

    return DemoShop.open(Path(os.environ.get("DEMO_SHOP_DB", VAR_DIR / "demo_shop.db")))
