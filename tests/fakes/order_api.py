"""A shop order API on loopback that follows docs/ORDER_API.md.

It stores orders in memory and can be told to fail: answer 500 for the next
N requests, or hang longer than the client's timeout.
"""

import json
import time
from http.server import BaseHTTPRequestHandler

from tests.fakes.loopback import LoopbackServer


class FakeOrderApi(LoopbackServer):
    """Runs in a background thread; use as a context manager."""

    def __init__(self, orders: dict[str, dict], token: str | None = None) -> None:
        self.orders = orders
        self.token = token
        self.fail_next = 0
        self.hang_seconds = 0.0
        self.requests: list[tuple[str, str]] = []
        super().__init__()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, payload: dict) -> None:
                body = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _prelude(self) -> bool:
                api.requests.append((self.command, self.path))
                if api.hang_seconds:
                    time.sleep(api.hang_seconds)
                if api.fail_next > 0:
                    api.fail_next -= 1
                    self._send(500, {"error": "internal"})
                    return False
                if api.token and self.headers.get("Authorization") != f"Bearer {api.token}":
                    self._send(401, {"error": "unauthorized"})
                    return False
                return True

            def do_GET(self) -> None:
                if not self._prelude():
                    return
                number = self.path.rsplit("/", 1)[-1]
                order = api.orders.get(number)
                self._send(200, order) if order else self._send(404, {"error": "not_found"})

            def do_POST(self) -> None:
                if not self._prelude():
                    return
                number = self.path.split("/")[-2]
                order = api.orders.get(number)
                if not order:
                    self._send(404, {"error": "not_found"})
                elif order["status"] not in ("pending", "packing"):
                    self._send(409, {"error": "not_cancellable", "order": order})
                else:
                    order["status"] = "cancelled"
                    self._send(200, order)

        return Handler
