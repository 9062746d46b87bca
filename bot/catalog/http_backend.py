"""Adapter for a shop's own product REST API (contract: docs/CATALOG_API.md).

Like the order API's adapter: requests with urllib3's ``Retry`` (one retry on a 5xx or a refused
connection, every call being a GET) and a short timeout, so a slow shop system turns into a polite
apology instead of a stuck conversation.
"""

import requests

from bot.catalog.model import CatalogBackendError, Product, Variant
from bot.shop_api import shop_api_session


def _price(value: object) -> int | None:
    return None if value is None else int(str(value))


def parse_product(payload: dict) -> Product:
    """A product from the API's JSON; malformed payloads raise ``CatalogBackendError``."""
    try:
        variants = tuple(
            Variant(
                sku=str(v["sku"]),
                price=int(v["price"]),
                stock=int(v["stock"]),
                size=str(v.get("size") or ""),
                colour=str(v.get("colour") or ""),
                sale_price=_price(v.get("sale_price")),
            )
            for v in payload["variants"]
        )
        if not variants:
            raise ValueError("a product without variants")
        return Product(
            id=str(payload["id"]),
            name=str(payload["name"]),
            kind=str(payload.get("kind") or payload["name"]),
            variants=variants,
            description=str(payload.get("description") or ""),
            image_url=str(payload.get("image_url") or ""),
            aliases=tuple(str(a) for a in payload.get("aliases") or ()),
            serves=_price(payload.get("serves")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CatalogBackendError(f"malformed product from the catalog API: {error!r}") from error


class HttpCatalogBackend:
    """Products from ``GET {base}/products`` and ``GET {base}/products/{id}``."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 3.0) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = (min(timeout, 2.0), timeout)
        self._session = shop_api_session(self._base, token)

    def _get(self, path: str) -> requests.Response:
        try:
            return self._session.get(f"{self._base}{path}", timeout=self._timeout)
        except requests.RequestException as error:
            raise CatalogBackendError(f"catalog API unreachable: {type(error).__name__}") from error

    def products(self) -> list[Product]:
        response = self._get("/products")
        if response.status_code != 200:
            raise CatalogBackendError(f"catalog API answered {response.status_code}")
        items = self._json(response).get("products")
        if not isinstance(items, list):
            raise CatalogBackendError("catalog API sent no product list")
        return [parse_product(item) for item in items if isinstance(item, dict)]

    def get(self, product_id: str) -> Product | None:
        response = self._get(f"/products/{requests.utils.quote(product_id, safe='')}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise CatalogBackendError(f"catalog API answered {response.status_code}")
        return parse_product(self._json(response))

    @staticmethod
    def _json(response: requests.Response) -> dict:
        try:
            payload = response.json()
        except ValueError as error:
            raise CatalogBackendError("catalog API sent something that is not JSON") from error
        if not isinstance(payload, dict):
            raise CatalogBackendError("catalog API sent JSON that is not an object")
        return payload
