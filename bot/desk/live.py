"""Live updates inside the console process: a topic-based fan-out to SSE streams.

One desk process serves the console, so an in-memory hub is enough; each open
browser tab holds one bounded queue and a slow tab only loses its own updates.
"""

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

QUEUE_TOPIC = "queue"
MAX_PENDING = 200


def handoff_topic(handoff_id: int) -> str:
    return f"handoff:{handoff_id}"


class LiveHub:
    """Publishes ``(event, data)`` pairs to every subscriber of a topic."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)

    def publish(self, topic: str, event: str, data: Any) -> None:
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
