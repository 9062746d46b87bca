"""Customers' turns through the Rasa server a few at a time, in the order their messages arrived.

One Rasa process runs every turn on one event loop. With every message let in at once, each turn's
CPU bursts (NLU, policies, saving) interleave with every other's, and a turn that waits for the
action server several times (an order check: side questions, the form, the lookup) goes to the back
of the whole crowd after each reply: under 20 customers at once the order checks took 1.3 s at
the median while FAQ answers took 0.2 s (docs/BENCHMARKS.md). Here at most ``CONCURRENT_TURNS`` turns
run at once and the others wait in arrival order, so a turn's latency is its wait in line plus its
own work. A turn gives its place back while it waits for a slow action server (``waiting_outside``,
bot/rasa_plugins/action_endpoint.py), so a slow shop API holds up nobody else, and takes it back ahead
of new turns. A conversation's next message queues behind its previous one before taking a place
(Rasa would hold it on the conversation's lock anyway), so it never holds a place others could use.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

T = TypeVar("T")

CONCURRENT_TURNS = 2  # measured with 2, 4 and 8 (docs/BENCHMARKS.md): 2 gave the shortest tail, as fast
# An action-server call slower than this gives its place away (the action server answers in a few ms; a slow
# one waits on the shop's API). Giving it away at once was slower: the action server then shares the CPU with
# more turns and every order check waited longer.
SLOW_CALL_SECONDS = 0.2


@dataclass
class _Place:
    gate: "TurnGate"
    held: bool = False


_current: ContextVar[_Place | None] = ContextVar("turn_place", default=None)


class TurnGate:
    """At most ``limit`` turns at once, first come first served; one turn at a time per conversation."""

    def __init__(self, limit: int) -> None:
        self._free = limit
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._conversations: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, sender_id: str) -> AsyncIterator[None]:
        lock, users = self._conversations.get(sender_id) or (asyncio.Lock(), 0)
        self._conversations[sender_id] = (lock, users + 1)
        place = _Place(self)
        token = _current.set(place)
        try:
            async with lock:
                await self._take(place, first=False)
                try:
                    yield
                finally:
                    self._give(place)
        finally:
            _current.reset(token)
            lock, users = self._conversations[sender_id]
            if users == 1:
                del self._conversations[sender_id]
            else:
                self._conversations[sender_id] = (lock, users - 1)

    async def _take(self, place: _Place, first: bool) -> None:
        if self._free and not self._waiting:
            self._free -= 1
            place.held = True
            return
        handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if first:
            self._waiting.appendleft(handed)
        else:
            self._waiting.append(handed)
        try:
            await handed  # handed over by a turn that gives its place back (``_give``)
        except asyncio.CancelledError:
            if handed.done() and not handed.cancelled():
                self._pass_on()  # handed over just as the wait was cancelled
            else:
                self._waiting.remove(handed)
            raise
        place.held = True

    def _give(self, place: _Place) -> None:
        if place.held:
            place.held = False
            self._pass_on()

    def _pass_on(self) -> None:
        while self._waiting:
            handed = self._waiting.popleft()
            if not handed.done():
                handed.set_result(None)
                return
        self._free += 1


async def waiting_outside(call: Awaitable[T], after_seconds: float = SLOW_CALL_SECONDS) -> T:
    """``call``, a request to another server within a turn. When it has not answered after ``after_seconds``,
    the turn's place goes to the next in line meanwhile and comes back ahead of turns not yet started.
    Outside a turn (Rasa's HTTP API), the call is only awaited."""
    place = _current.get()
    task = asyncio.ensure_future(call)
    try:
        if place is None or not place.held:
            return await task
        done, _ = await asyncio.wait({task}, timeout=after_seconds)
        if done:
            return task.result()
        place.gate._give(place)
        try:
            await asyncio.wait({task})
        finally:
            await place.gate._take(place, first=True)
        return task.result()
    except asyncio.CancelledError:
        task.cancel()
        raise


@lru_cache(maxsize=1)
def turn_gate() -> TurnGate:
    """The gate every channel of this Rasa process shares."""
    return TurnGate(CONCURRENT_TURNS)
