"""The one interface actions use to reach the product catalog, and how it is chosen."""

from typing import Protocol

from bot.catalog.model import Product
from bot.settings import Settings


class CatalogBackend(Protocol):
    """Reads products live (prices and stock change). Raises ``CatalogBackendError`` when unreachable."""

    def products(self) -> list[Product]:
        """Every product on sale, with its variants, prices and stock as of now."""

    def get(self, product_id: str) -> Product | None:
        """One product as of now, or None when the shop has no product with that id."""


def catalog_backend_for(settings: Settings) -> CatalogBackend:
    """The shop's own product API when ``settings.catalog_api_url`` is set; otherwise the embedded demo
    catalog (in ``settings.demo_catalog_db``, by default under the var dir)."""
    if settings.catalog_api_url:
        from bot.catalog.http_backend import HttpCatalogBackend

        return HttpCatalogBackend(
            settings.catalog_api_url, token=settings.catalog_api_token, timeout=settings.catalog_api_timeout
        )
    from bot.catalog.demo_catalog import DemoCatalog

    return DemoCatalog.open(settings.demo_catalog_db)
