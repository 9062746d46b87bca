"""The part every fake platform API shares: a threaded HTTP server on a free loopback port."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

Server = TypeVar("Server", bound="LoopbackServer")


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the standard library's 5 resets connections a client opens at once


class LoopbackServer:
    """Serves ``_handler()`` on 127.0.0.1 while used as a context manager."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self: Server) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
