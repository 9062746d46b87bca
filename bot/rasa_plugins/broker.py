"""Rasa event brokers that forward conversation events to the desk.

Every customer message reaches the agent's console as soon as Rasa saves it, even while the
conversation is paused; the tracker store publishes only the turns of conversations a human holds
(bot/rasa_plugins/tracking.py), and these brokers only their transcript lines.

- ``DeskEventBroker`` (endpoints.yml, ``make run``): POSTs to the desk. Publishing never blocks or
  fails a conversation: the POST runs in the background and a dead desk is only logged (the desk
  reads back what it missed from Rasa when it starts).
- ``DeskQueueEventBroker`` (deploy/scaled/endpoints.yml): Rasa's own ``PikaEventBroker``, persistent
  messages into a durable RabbitMQ queue that the desk consumes (bot/desk/event_consumer.py), so
  what the replicas publish while the desk is down waits for it there.
"""

import asyncio
import logging
import time
from asyncio import AbstractEventLoop
from typing import Any

import aiohttp
from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.pika import PikaEventBroker
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


class DeskQueueEventBroker(PikaEventBroker):
    """``type: bot.rasa_plugins.broker.DeskQueueEventBroker`` with PikaEventBroker's settings (``url`` without
    credentials, ``username``, ``password``, ``queues``, ``exchange_name``).

    Rasa's broker publishes persistent messages with publisher confirms and keeps in memory what failed
    while RabbitMQ was away, to publish on reconnection. Changed here: only transcript events are
    published; a failed publish is logged without the event (Rasa logs it whole, the customer's words
    included); and closing waits for publishes still under way, so a replica that is stopped loses none.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_warning = 0.0

    def publish(self, event: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        if event.get("event") in TRANSCRIPT_EVENTS:
            super().publish(event, headers)

    async def _publish(self, event: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        if self._exchange is None:  # as Rasa's: nothing is published before the broker connected
            return
        try:
            await self._exchange.publish(self._message(event, headers), "")
        except Exception as error:  # whatever the connection's state, the event is kept for the reconnection
            self._unpublished_events.append(event)
            if time.monotonic() - self._last_warning > WARN_EVERY_SECONDS:
                self._last_warning = time.monotonic()
                logger.warning(
                    "conversation events kept for the desk until RabbitMQ is back (%s); %d waiting",
                    type(error).__name__, len(self._unpublished_events),
                )  # fmt: skip

    async def close(self) -> None:
        if self._background_tasks:
            await asyncio.wait(self._background_tasks, timeout=5)
        await super().close()
