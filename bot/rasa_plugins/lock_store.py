"""Rasa's Redis lock store as two atomic round trips per turn, without the wait that never ends.

Rasa's ``RedisLockStore`` keeps each conversation's ticket lock as one JSON value and changes it by
reading and writing it back: seven round trips per turn (GET and SET to take a ticket, GET to see it
served, GET, SET, GET and DEL to give it back), 17% of a scaled replica's time under load, and two
replicas taking a ticket at the same moment can both read "no lock" and both go ahead. Here the lock is a
Redis sorted set of live tickets changed only by Lua scripts, which Redis runs atomically: taking a ticket
(and seeing whether a live one is ahead) is one call, giving it back another.

It also never waits for ever after a replica dies mid-turn: nginx retries the message on another replica,
whose ticket queues behind the dead one's; Rasa 3.6 compares the waiting ticket with ``now_serving``, which
is 0 once both expired within one wait step, and waits for ever. Here a turn goes ahead as soon as no live
ticket is ahead of its own, expired or not.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# KEYS: the conversation's live tickets (a sorted set: member "<ticket>:<expiry ms>", score the ticket) and
# its ticket counter. ARGV: the lifetime in ms and the ticket to look at, or 0 to take a new one. Drops the
# expired tickets, returns the ticket and how many live tickets are ahead of it. Redis's clock, so replicas
# on machines whose clocks differ agree on what expired.
_TAKE_OR_CHECK = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local ticket = tonumber(ARGV[2])
if ticket == 0 then
    ticket = redis.call('INCR', KEYS[2])
    redis.call('ZADD', KEYS[1], ticket, ticket .. ':' .. (now + tonumber(ARGV[1])))
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ticket)) do
    if tonumber(string.match(member, ':(%d+)$')) < now then
        redis.call('ZREM', KEYS[1], member)
    end
end
return {ticket, redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ticket)}
"""
# KEYS: the live tickets. ARGV: the ticket given back. The counter is left to expire with the newest
# ticket, so a number is not issued twice while a ticket with it may still be live.
_GIVE_BACK = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])
if redis.call('ZCARD', KEYS[1]) == 0 then
    redis.call('DEL', KEYS[1])
end
return 0
"""
# a second message of a conversation waits for the first this long between looks (Rasa's default: 1 s)
POLL_SECONDS = 0.05


class WaitingRedisLockStore(RedisLockStore):
    """``lock_store`` of the scaled stack (deploy/scaled/endpoints.yml), configured as Rasa's ``redis`` one
    (Rasa's connection settings and key prefix); only the tickets are kept differently."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)
        self._take_or_check = self.red.register_script(_TAKE_OR_CHECK)
        self._give_back = self.red.register_script(_GIVE_BACK)

    def _keys(self, conversation_id: str) -> list[str]:
        return [f"{self.key_prefix}{conversation_id}:tickets", f"{self.key_prefix}{conversation_id}:counter"]

    def _look(self, conversation_id: str, ticket: int, lifetime: float) -> tuple[int, int]:
        """(the ticket, live tickets ahead of it); ``ticket`` 0 takes a new one."""
        try:
            taken, ahead = self._take_or_check(keys=self._keys(conversation_id), args=[int(lifetime * 1000), ticket])
        except Exception as error:  # Redis unreachable: the channel apologises (connectors/)
            raise LockError(f"Could not lock the conversation: {error}") from error
        return int(taken), int(ahead)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """A new ticket for the conversation, in one round trip."""
        return self._look(conversation_id, 0, lock_lifetime)[0]

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Gives the ticket back, in one round trip."""
        self._give_back(keys=self._keys(conversation_id)[:1], args=[ticket_number])

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncGenerator[TicketLock, None]:
        """Holds the conversation while no live ticket is ahead of this turn's."""
        ticket, ahead = self._look(conversation_id, 0, lock_lifetime)
        try:
            while ahead:
                await asyncio.sleep(min(wait_time_in_seconds, POLL_SECONDS))
                _, ahead = self._look(conversation_id, ticket, lock_lifetime)
            yield TicketLock(conversation_id)  # what Rasa's callers get; none of them reads it
        finally:
            self.cleanup(conversation_id, ticket)
