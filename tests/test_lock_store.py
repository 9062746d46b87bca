"""A turn queued behind one whose replica died goes ahead when that ticket expires, never waits for ever;
two replicas never answer one conversation at once; a lock leaves nothing behind in Redis.

Real Redis (127.0.0.1:6379, as on every machine of the project), under a key prefix of its own.
"""

import asyncio
import threading
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


def test_two_replicas_never_answer_one_conversation_at_once() -> None:
    """Each replica (a thread with its own event loop and connection) takes the same conversation's lock
    over and over; had two held it at once, one turn would be lost or stored twice."""
    cfg, inside, overlaps, turns = config(), [0], [], []
    guard = threading.Lock()

    async def replica(name: str) -> None:
        store = WaitingRedisLockStore(cfg)
        for number in range(40):
            async with store.lock("web:c3", 10):
                with guard:
                    inside[0] += 1
                    if inside[0] > 1:
                        overlaps.append((name, number))
                await asyncio.sleep(0.002)
                with guard:
                    inside[0] -= 1
                    turns.append(name)

    threads = [threading.Thread(target=asyncio.run, args=(replica(name),)) for name in ("rasa-1", "rasa-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(turns) == 80 and not overlaps, overlaps
    store = WaitingRedisLockStore(cfg)
    assert not store.red.keys(f"{store.key_prefix}web:c3:tickets")  # nothing left behind
