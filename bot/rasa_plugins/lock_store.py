"""Rasa's Redis lock store, without the wait that never ends after a replica dies mid-turn.

Each turn of a conversation takes a ticket and waits until it is served. When a replica dies during
a turn, nginx retries the message on another replica, whose ticket queues behind the dead one's. Both
tickets live ``TICKET_LOCK_LIFETIME`` (60 s); when they expire within the same wait step, Rasa 3.6
compares the waiting ticket with ``now_serving``, which is 0 once no ticket is left, and the turn waits
for ever (the customer's message then fails at nginx's timeout). Here a turn goes ahead as soon as no
live ticket is ahead of its own, expired or not.
"""

import asyncio

from rasa.core.lock import TicketLock
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig


class WaitingRedisLockStore(RedisLockStore):
    """``lock_store`` of the scaled stack (deploy/scaled/endpoints.yml), configured as Rasa's ``redis`` one."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    async def _acquire_lock(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        """Waits until no unexpired ticket is ahead of ``ticket``; Rasa's own loop, with that one condition."""
        while True:
            lock = self.get_lock(conversation_id)
            if lock is None:  # every ticket ended or expired: nobody is ahead
                return self.get_or_create_lock(conversation_id)
            if not any(t.number < ticket and not t.has_expired() for t in lock.tickets):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            self.update_lock(conversation_id)
