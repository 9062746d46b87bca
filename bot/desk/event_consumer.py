"""The desk's end of the event stream in the scaled stack: Rasa's transcript events from a durable RabbitMQ queue.

The Rasa replicas publish through Rasa's PikaEventBroker (``DeskQueueEventBroker``, bot/rasa_plugins/broker.py):
persistent messages into a durable queue, which holds them for as long as no desk is there to take them. The
desk stores each through the same path as ``POST /api/events`` and acknowledges it only once stored, so a desk
that stops or dies before that leaves the message to its restart or to another desk instance. Storing is
idempotent on (hand-off, role, Rasa's timestamp) (bot/handoff_protocol.py): a message delivered twice is stored
once, and several desk instances can consume the one queue side by side.

- RabbitMQ hands each desk at most ``PREFETCH`` unacknowledged messages, taken one at a time;
- a message that is no tracker event is parked in ``<queue>.unreadable`` (durable, for an operator to look at)
  and acknowledged, with a log line that names no content: it never holds up the queue;
- while the project database is unreachable the message stays unacknowledged and is retried, ever more slowly;
- RabbitMQ unreachable when the desk starts, or the connection lost later: aio-pika's robust connection comes
  back and consuming resumes where the queue is.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import sqlalchemy as sa
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS

from bot.database import masked_url

logger = logging.getLogger(__name__)

PREFETCH = 50
FIRST_RETRY_SECONDS = 0.5
LAST_RETRY_SECONDS = 30.0
UNREADABLE_SUFFIX = ".unreadable"

StoreEvent = Callable[[dict[str, Any]], Awaitable[None]]


def read_event(body: bytes) -> dict[str, Any] | None:
    """The tracker event a message carries; None when it carries none (not JSON, not an object with an ``event``)."""
    try:
        event = json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None


def database_unreachable(error: Exception) -> bool:
    """Whether storing failed for want of the database (worth retrying) rather than because of the event."""
    connection_lost = isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated
    return connection_lost or isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError))


class EventConsumer:
    """Consumes ``queue_name`` on the RabbitMQ at ``url`` into ``store`` (the desk's ``conversation_event``)."""

    def __init__(self, url: str, queue_name: str, store: StoreEvent, prefetch: int = PREFETCH) -> None:
        self.queue_name = queue_name
        self.unreadable = 0  # messages parked so far, in the log line of each
        self._url, self._store, self._prefetch = url, store, prefetch
        self._connection: AbstractRobustConnection | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Starts consuming in the background: the desk serves its agents whether or not RabbitMQ is up."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stops taking messages; those delivered but not yet stored go back to the queue."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            await self._connection.close()

    async def _run(self) -> None:
        delay = FIRST_RETRY_SECONDS
        while True:
            try:
                if self._connection is None:
                    self._connection = await aio_pika.connect_robust(self._url)
                    logger.info("desk events: consuming %s at %s", self.queue_name, masked_url(self._url))
                channel = await self._connection.channel()
                try:
                    await self._consume(channel)
                finally:  # its consumer must not come back with the connection beside the next channel's
                    with contextlib.suppress(*CONNECTION_EXCEPTIONS):
                        await channel.close()
            except CONNECTION_EXCEPTIONS as error:  # not connected yet, or lost while setting up
                logger.warning(
                    "desk events: RabbitMQ at %s unreachable (%s), trying again in %.1f s",
                    masked_url(self._url), type(error).__name__, delay,
                )  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(2 * delay, LAST_RETRY_SECONDS)

    async def _consume(self, channel: AbstractChannel) -> None:
        await channel.set_qos(prefetch_count=self._prefetch)
        # declared as Rasa's PikaEventBroker declares them (a fanout exchange named like the queue, bound to the
        # durable queue), so whichever starts first, the stream is in place
        exchange = await channel.declare_exchange(self.queue_name, aio_pika.ExchangeType.FANOUT)
        queue = await channel.declare_queue(self.queue_name, durable=True)
        await queue.bind(exchange, "")
        await channel.declare_queue(self.queue_name + UNREADABLE_SUFFIX, durable=True)
        async with queue.iterator() as messages:
            async for message in messages:
                await self._take(channel, message)

    async def _take(self, channel: AbstractChannel, message: AbstractIncomingMessage) -> None:
        event = read_event(message.body)
        if event is None:
            await self._park(channel, message, "not a tracker event")
            return
        delay = FIRST_RETRY_SECONDS
        while True:
            try:
                await self._store(event)
                break
            except Exception as error:
                if not database_unreachable(error):
                    await self._park(channel, message, type(error).__name__)
                    return
                logger.warning(
                    "desk events: not stored, database unreachable (%s); trying again in %.1f s",
                    type(error).__name__, delay,
                )  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(2 * delay, LAST_RETRY_SECONDS)
        await self._acknowledge(message)

    async def _park(self, channel: AbstractChannel, message: AbstractIncomingMessage, reason: str) -> None:
        """Moves a message the desk cannot store out of the way, kept for an operator; nothing of it is logged."""
        parked = aio_pika.Message(message.body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        try:
            await channel.default_exchange.publish(parked, routing_key=self.queue_name + UNREADABLE_SUFFIX)
        except CONNECTION_EXCEPTIONS as error:  # unacknowledged, it comes back after the reconnection
            logger.warning("desk events: unreadable message not parked yet (%s)", type(error).__name__)
            return
        self.unreadable += 1
        logger.error(
            "desk events: unreadable message parked in %s (%s, %d bytes); %d so far",
            self.queue_name + UNREADABLE_SUFFIX, reason, len(message.body), self.unreadable,
        )  # fmt: skip
        await self._acknowledge(message)

    @staticmethod
    async def _acknowledge(message: AbstractIncomingMessage) -> None:
        try:
            await message.ack()
        except CONNECTION_EXCEPTIONS as error:  # RabbitMQ delivers it again; storing it twice is harmless
            logger.info("desk events: acknowledgement lost with the connection (%s)", type(error).__name__)
