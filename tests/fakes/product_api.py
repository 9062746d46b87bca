"""A shop product API on loopback that follows docs/CATALOG_API.md.

It serves products from memory and can be told to fail: answer 500 for the next N requests, hang
longer than the client's timeout, or send something that is not the documented JSON.
"""

import json
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote

from tests.fakes.loopback import LoopbackServer


class FakeProductApi(LoopbackServer):
    """Runs in a background thread; use as a context manager."""

    def __init__(self, products: list[dict], token: str | None = None) -> None:
        self.products = products
        self.token = token
        self.fail_next = 0
        self.hang_seconds = 0.0
        self.garbage = False
        self.requests: list[str] = []
        super().__init__()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, payload: object) -> None:
                body = b"<html>oops</html>" if api.garbage else json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                api.requests.append(self.path)
                if api.hang_seconds:
                    time.sleep(api.hang_seconds)
                if api.fail_next > 0:
                    api.fail_next -= 1
                    return self._send(500, {"error": "internal"})
                if api.token and self.headers.get("Authorization") != f"Bearer {api.token}":
                    return self._send(401, {"error": "unauthorized"})
                if self.path == "/products":
                    return self._send(200, {"products": api.products})
                wanted = unquote(self.path.rsplit("/", 1)[-1])
                found = next((p for p in api.products if p["id"] == wanted), None)
                return self._send(200, found) if found else self._send(404, {"error": "not_found"})

        return Handler
