"""Adapter for a shop's own order REST API (contract: docs/ORDER_API.md).

requests with urllib3's ``Retry``: one retry on a 5xx for look-ups (GET is
idempotent; a cancellation is never sent twice), a short timeout so a slow
shop system turns into a polite apology instead of a stuck conversation.
"""

from datetime import date

import requests

from bot.orders.model import Order, OrderBackendError, OrderItem, OrderNotCancellableError, OrderStatus
from bot.shop_api import shop_api_session


def parse_order(payload: dict) -> Order:
    """An order from the API's JSON; malformed payloads raise ``OrderBackendError``."""
    try:
        return Order(
            number=str(payload["number"]),
            status=OrderStatus(payload["status"]),
            customer_name=str(payload.get("customer_name", "")),
            phone=str(payload["phone"]),
            items=tuple(
                OrderItem(str(i["name"]), int(i["quantity"]), int(i["unit_price"])) for i in payload.get("items", [])
            ),
            total=int(payload["total"]),
            carrier=payload.get("carrier"),
            tracking_code=payload.get("tracking_code"),
            eta=date.fromisoformat(payload["eta"]) if payload.get("eta") else None,
            address=str(payload.get("address", "")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise OrderBackendError(f"malformed order from the order API: {error!r}") from error


class HttpOrderBackend:
    """Orders from ``GET {base}/orders/{number}`` and ``POST {base}/orders/{number}/cancel``."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 3.0) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = (min(timeout, 2.0), timeout)
        self._session = shop_api_session(self._base, token)

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            return self._session.request(method, f"{self._base}{path}", timeout=self._timeout, **kwargs)
        except requests.RequestException as error:
            raise OrderBackendError(f"order API unreachable: {type(error).__name__}") from error

    def get(self, number: str) -> Order | None:
        response = self._request("GET", f"/orders/{number}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise OrderBackendError(f"order API answered {response.status_code}")
        return parse_order(self._json(response))

    def cancel(self, number: str, reason: str) -> Order:
        response = self._request("POST", f"/orders/{number}/cancel", json={"reason": reason})
        if response.status_code == 409:
            raise OrderNotCancellableError(parse_order(self._json(response).get("order", {})))
        if response.status_code == 404:
            raise KeyError(number)
        if response.status_code != 200:
            raise OrderBackendError(f"order API answered {response.status_code}")
        return parse_order(self._json(response))

    @staticmethod
    def _json(response: requests.Response) -> dict:
        try:
            payload = response.json()
        except ValueError as error:
            raise OrderBackendError("order API sent something that is not JSON") from error
        if not isinstance(payload, dict):
            raise OrderBackendError("order API sent JSON that is not an object")
        return payload
