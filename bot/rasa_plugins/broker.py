"""A Rasa event broker that forwards conversation events to the desk.

Configured in ``endpoints.yml`` (``event_broker: type: bot.rasa_plugins.broker.DeskEventBroker``),
so every customer message reaches the agent's console as soon as Rasa saves
it, even while the conversation is paused. Publishing never blocks or fails a
conversation: the POST runs in the background and a dead desk is only logged.
"""

import asyncio
import logging
import time
from asyncio import AbstractEventLoop
from typing import Any

import aiohttp
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.handoff_protocol import EVENTS_PATH, TRANSCRIPT_EVENTS

logger = logging.getLogger(__name__)
WARN_EVERY_SECONDS = 60


class DeskEventBroker(EventBroker):
    """POSTs user and bot events to the desk's ``EVENTS_PATH`` with its service token."""

    def __init__(self, url: str, token: str) -> None:
        self._url = f"{url.rstrip('/')}{EVENTS_PATH}"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._session: aiohttp.ClientSession | None = None
        self._pending: set[asyncio.Task] = set()
        self._last_warning = 0.0

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: AbstractEventLoop | None = None
    ) -> "DeskEventBroker":
        return cls(broker_config.url, broker_config.token or "")

    def publish(self, event: dict[str, Any]) -> None:
        if event.get("event") not in TRANSCRIPT_EVENTS:
            return
        task = asyncio.get_running_loop().create_task(self._send(event))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(self, event: dict[str, Any]) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        try:
            async with self._session.post(self._url, json=event, headers=self._headers) as reply:
                if reply.status >= 400:
                    self._warn(f"desk answered {reply.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            self._warn(f"desk unreachable ({type(error).__name__})")

    def _warn(self, message: str) -> None:
        if time.monotonic() - self._last_warning > WARN_EVERY_SECONDS:
            self._last_warning = time.monotonic()
            logger.warning("conversation events not forwarded to the human desk: %s", message)

    async def close(self) -> None:
        if self._pending:
            await asyncio.wait(self._pending, timeout=5)
        if self._session is not None:
            await self._session.close()
