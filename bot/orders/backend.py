"""The one interface actions use to reach orders, and how it is chosen."""

from typing import Protocol

from bot.orders.model import Order
from bot.settings import Settings


class OrderBackend(Protocol):
    """Looks up and cancels orders. Raises ``OrderBackendError`` when unreachable."""

    def get(self, number: str) -> Order | None:
        """The order, or None when no order has that number."""

    def cancel(self, number: str, reason: str) -> Order:
        """Cancels a cancellable order; raises ``OrderNotCancellableError`` otherwise."""


def order_backend_for(settings: Settings) -> OrderBackend:
    """The shop's own API when ``settings.order_api_url`` is set; otherwise the embedded demo shop
    (in ``settings.demo_shop_db``, by default under the var dir)."""
    if settings.order_api_url:
        from bot.orders.http_backend import HttpOrderBackend

        return HttpOrderBackend(
            settings.order_api_url, token=settings.order_api_token, timeout=settings.order_api_timeout
        )
    from bot.orders.demo_shop import DemoShop

    return DemoShop.open(settings.demo_shop_db)
