"""A turn queued behind one whose replica died goes ahead when that ticket expires, never waits for ever.

Real Redis (127.0.0.1:6379, as on every machine of the project), under a key prefix of its own.
"""

import asyncio
import uuid

import pytest
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_plugins.lock_store import WaitingRedisLockStore

LIFETIME = 1.0  # seconds; Rasa's default is 60


def config() -> EndpointConfig:
    return EndpointConfig(url="127.0.0.1", port=6379, db=5, key_prefix=f"t{uuid.uuid4().hex[:12]}")


async def retried_turn(store: RedisLockStore) -> float:
    """A turn that died with its replica holds a ticket; the retried message queues right behind it."""
    store.issue_ticket("web:c1", LIFETIME)
    started = asyncio.get_running_loop().time()
    async with store.lock("web:c1", LIFETIME, wait_time_in_seconds=0.5):
        return asyncio.get_running_loop().time() - started


def test_rasas_own_store_waits_for_ever_once_both_tickets_expired() -> None:
    """The failure this module exists for (why the scaled stack does not use Rasa's own redis lock store)."""
    cfg = config()
    store = RedisLockStore(host=cfg.url, **cfg.kwargs)
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(asyncio.wait_for(retried_turn(store), timeout=4 * LIFETIME))


def test_the_retried_turn_goes_ahead_once_the_dead_ticket_expired() -> None:
    waited = asyncio.run(asyncio.wait_for(retried_turn(WaitingRedisLockStore(config())), timeout=4 * LIFETIME))
    assert LIFETIME <= waited < 2 * LIFETIME


def test_a_live_turn_ahead_is_still_waited_for() -> None:
    store = WaitingRedisLockStore(config())

    async def two_turns() -> list[str]:
        order: list[str] = []

        async def turn(name: str, delay: float) -> None:
            await asyncio.sleep(delay)
            async with store.lock("web:c2", 10, wait_time_in_seconds=0.05):
                order.append(f"{name} in")
                await asyncio.sleep(0.3)
                order.append(f"{name} out")

        await asyncio.gather(turn("first", 0), turn("second", 0.05))
        return order

    assert asyncio.run(two_turns()) == ["first in", "first out", "second in", "second out"]
