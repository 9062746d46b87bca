"""Files a fake platform serves as its CDN would: the links a customer's picture arrives as in a webhook."""

import secrets
import threading
from http.server import BaseHTTPRequestHandler


class HostedFiles:
    """Bytes under unguessable paths; ``answer`` serves them from a fake's GET handler."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._files: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.fetched: list[str] = []  # the paths asked for, in order

    def add(self, data: bytes, name: str) -> str:
        """The path (with a signed-looking query, as CDN links have) where ``data`` is served."""
        path = f"{self._prefix}/{secrets.token_hex(8)}/{name}"
        with self._lock:
            self._files[path] = data
        return f"{path}?oh={secrets.token_hex(6)}&oe=6800AB12"

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.fetched.append(path)
            data = self._files.get(path)
        if data is None:
            handler.send_error(404)
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
