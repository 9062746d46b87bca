"""Live updates to the agents' browsers: a topic-based fan-out to SSE streams.

Each open browser tab holds one bounded queue and a slow tab only loses its own updates.
With one desk process (``make run``) the hub lives in that process. Several desk instances
behind nginx (``make run-scaled``) share the database, but each holds only its own browsers'
streams while a hand-off or a customer's message reaches whichever instance nginx picked:
there ``RedisLiveHub`` also publishes every update on a Redis channel and relays what the
other instances published, so every agent sees it within a second. Redis keeps nothing for a
listener that is away; a console reloads what it shows whenever its stream (re)connects
(bot/desk/static/console.js).
"""

import asyncio
import hashlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError

from bot.settings import Settings

logger = logging.getLogger(__name__)

QUEUE_TOPIC = "queue"
MAX_PENDING = 200
# updates waiting to go to Redis; past this Redis is gone or far behind, and the other instances miss them
MAX_OUTGOING = 10_000
# how long a starting desk waits for its subscription before serving anyway (local updates still flow)
SUBSCRIBE_WAIT_SECONDS = 5.0
RECONNECT_FIRST_SECONDS, RECONNECT_MAX_SECONDS = 0.5, 5.0


def handoff_topic(handoff_id: int) -> str:
    return f"handoff:{handoff_id}"


def agent_topic(username: str) -> str:
    """What concerns one agent only (a customer wrote in a conversation they talk in), wherever their tabs are."""
    return f"agent:{username}"


class LiveHub:
    """Publishes ``(event, data)`` pairs to every subscriber of a topic in this process."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)

    async def start(self) -> None:
        """Nothing to connect to: every stream is in this process."""

    async def close(self) -> None:
        """Nothing to disconnect."""

    def publish(self, topic: str, event: str, data: Any) -> None:
        self._deliver(topic, event, data)

    def publish_here(self, topic: str, event: str, data: Any) -> None:
        """To this instance's streams only: for what every desk instance notices by itself in the database."""
        self._deliver(topic, event, data)

    def _deliver(self, topic: str, event: str, data: Any) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            if queue.qsize() < MAX_PENDING:
                queue.put_nowait((event, data))

    @contextmanager
    def subscribe(self, *topics: str) -> Iterator[asyncio.Queue]:
        queue: asyncio.Queue = asyncio.Queue()
        for topic in topics:
            self._subscribers[topic].add(queue)
        try:
            yield queue
        finally:
            for topic in topics:
                self._subscribers[topic].discard(queue)
                if not self._subscribers[topic]:
                    del self._subscribers[topic]


class RedisLiveHub(LiveHub):
    """A hub shared by the desk instances of one database through a Redis channel.

    An update reaches this instance's own streams at once, then goes out on the channel in order; what
    arrives from the channel is relayed here unless this instance sent it. A Redis outage only pauses
    the sharing (logged), never the desk.
    """

    def __init__(self, redis_url: str, channel: str) -> None:
        super().__init__()
        self._redis_url, self.channel = redis_url, channel
        self._origin = uuid.uuid4().hex  # this instance, to skip its own updates coming back
        self._outgoing: asyncio.Queue[str] = asyncio.Queue(maxsize=MAX_OUTGOING)
        self._subscribed = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()  # the loop keeps tasks only weakly
        self._client: redis.Redis | None = None

    async def start(self) -> None:
        self._client = redis.from_url(self._redis_url)
        loop = asyncio.get_running_loop()
        for job in (self._send(self._client), self._receive(self._client)):
            task = loop.create_task(job)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            await asyncio.wait_for(self._subscribed.wait(), SUBSCRIBE_WAIT_SECONDS)
        except asyncio.TimeoutError:
            logger.warning("Redis not reachable yet: other desk instances' updates will show once it is")

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.close(close_connection_pool=True)

    def publish(self, topic: str, event: str, data: Any) -> None:
        self._deliver(topic, event, data)
        message = {"origin": self._origin, "topic": topic, "event": event, "data": data}
        try:
            self._outgoing.put_nowait(json.dumps(message, ensure_ascii=False))
        except asyncio.QueueFull:
            logger.warning("a live update was not shared with the other desk instances: Redis is behind")

    async def _send(self, client: redis.Redis) -> None:
        while True:
            message = await self._outgoing.get()
            try:
                await client.publish(self.channel, message)
            except (RedisError, OSError) as error:
                logger.warning("a live update was not shared with the other desk instances: %s", type(error).__name__)

    async def _receive(self, client: redis.Redis) -> None:
        wait = RECONNECT_FIRST_SECONDS
        while True:
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                async for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        self._subscribed.set()
                        wait = RECONNECT_FIRST_SECONDS
                    elif message["type"] == "message":
                        self._relay(message["data"])
            except (RedisError, OSError) as error:
                if wait == RECONNECT_FIRST_SECONDS:  # once per outage, not at every retry
                    logger.warning("other desk instances' live updates paused (%s); reconnecting", type(error).__name__)
            finally:
                self._subscribed.clear()
                await pubsub.reset()
            await asyncio.sleep(wait)
            wait = min(wait * 2, RECONNECT_MAX_SECONDS)

    def _relay(self, raw: bytes) -> None:
        try:
            message = json.loads(raw)
            if message["origin"] != self._origin:
                self._deliver(str(message["topic"]), str(message["event"]), message["data"])
        except (ValueError, KeyError, TypeError):
            logger.warning("ignored a malformed live update on %s", self.channel)


def live_hub(settings: Settings) -> LiveHub:
    """In this process, or shared through Redis when ``CSKH_DESK_LIVE_URL`` names one: on a channel of this
    project database's own, so two shops on one Redis never see each other's customers."""
    if not settings.desk_live_url:
        return LiveHub()
    database = hashlib.sha256(settings.database_url.encode()).hexdigest()[:16]
    return RedisLiveHub(settings.desk_live_url, f"cskh:desk-live:{database}")
