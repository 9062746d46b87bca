"""Rasa's action-server endpoint, on kept connections, skipping calls known to be empty.

Rasa 3.6 opens a new aiohttp session, and so a new TCP connection, for every call to the action
server (``EndpointConfig.request``): about 7% of the Rasa server's CPU under load
(docs/BENCHMARKS.md). This endpoint hands Rasa's ``request`` one session per event loop instead,
whose idle connections are dropped before the action server's (Sanic's 5 s keep-alive) would drop them.
Calls whose reply is known to be empty are not made (bot/rasa_plugins/action_skips.py).
"""

import asyncio
from types import TracebackType
from typing import Any

import aiohttp
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_plugins.action_skips import reply_without_server
from bot.rasa_plugins.turns import waiting_outside

IDLE_CONNECTION_SECONDS = 2.0  # below Sanic's keep-alive: never reuse a connection the server is closing


class _Kept:
    """``async with`` on the kept session, which leaves it open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        return None


class KeptSessionEndpoint(EndpointConfig):
    """``endpoints.action`` of the Rasa server (bot/serve.py), configured as endpoints.yml says."""

    _session: aiohttp.ClientSession | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def like(cls, endpoint: EndpointConfig) -> "KeptSessionEndpoint":
        return cls(endpoint.url, endpoint.params, endpoint.headers, endpoint.basic_auth, endpoint.token,
                   endpoint.token_name, endpoint.cafile, **endpoint.kwargs)  # fmt: skip

    def session(self) -> aiohttp.ClientSession:
        """The loop's kept session, with Rasa's headers, basic auth and timeout."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            basic = self.basic_auth
            auth = aiohttp.BasicAuth(basic["username"], basic["password"]) if basic else None
            self._session = aiohttp.ClientSession(
                headers=self.headers, auth=auth, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_CONNECTION_SECONDS),
            )  # fmt: skip
            self._loop = loop
        return _Kept(self._session)  # type: ignore[return-value]

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        """Rasa's request, unless the action's reply is known without asking."""
        body = kwargs.get("json")
        known = reply_without_server(body) if isinstance(body, dict) else None
        if known is not None:
            return known
        # a slow reply (the shop's API) lets another customer's turn run meanwhile
        return await waiting_outside(super().request(*args, **kwargs))
