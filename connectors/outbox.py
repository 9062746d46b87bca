"""Zalo and Messenger messages leave through a durable outbox: stored, sent, retried, or given up on out loud.

A platform send can fail after the bot (or an agent) already believes the customer has the answer.
So every message to a customer is first written to the project database (bot/outbox.py), then sent
at once by the process that wrote it. What happens next depends on the platform's answer, which
each channel's client turns into an ``Attempt``:

- delivered: the row is marked sent;
- worth retrying (network, HTTP 5xx, a platform's temporary error, a rate limit): the row waits,
  exponentially longer each time with jitter, and never less than the platform asked for (Zalo's
  per-minute limit, Facebook's ``Retry-After`` or usage header); after ``max_attempts`` it fails;
- refused for good (the customer blocked the page or stopped following the OA, the messaging window
  closed, the token is dead even after a refresh): failed at once.

A failed row keeps its reason in Vietnamese, and the desk shows it next to the agent's message
("chưa gửi được", bot/desk/console.py). The retries are sent by ``Outbox.work``, a background task
each channel starts with the Rasa server: every replica runs one, rows are claimed atomically, and a
restarted server finds its pending rows still there. One conversation's messages leave in order.
"""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.observability.metrics import rasa_server_metrics
from bot.outbox import OutboxRow, OutboxStore, new_claim
from bot.privacy import mask_id
from bot.senders import platform_id

logger = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0


@dataclass(frozen=True)
class Attempt:
    """How one platform request went, as the outbox needs to know it."""

    delivered: bool
    retriable: bool = False
    code: str = ""  # e.g. zalo:-230, messenger:551/1545041, http:502, network
    reason: str = ""  # for the agent, in Vietnamese
    wait_seconds: float = 0.0  # the platform asked for at least this pause before the next try


DELIVERED = Attempt(True)


def retry_later(code: str, reason: str, wait_seconds: float = 0.0) -> Attempt:
    return Attempt(False, retriable=True, code=code, reason=reason, wait_seconds=wait_seconds)


def refused(code: str, reason: str) -> Attempt:
    return Attempt(False, code=code, reason=reason)


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying: with the defaults, about 20 minutes over 10 attempts."""

    first_wait_seconds: float = 2.0
    max_wait_seconds: float = 300.0
    max_attempts: int = 10
    lease_seconds: float = 120.0  # longer than any one send with its parts and a token refresh
    poll_seconds: float = 1.0

    def wait(self, attempts: int, asked: float) -> float:
        """Exponential back-off with jitter (half to all of the step), never shorter than the platform asked."""
        step = min(self.max_wait_seconds, self.first_wait_seconds * 2 ** max(0, attempts - 1))
        return max(random.uniform(step / 2, step), asked * random.uniform(1.0, 1.1))


SendPart = Callable[[str, dict[str, Any]], Awaitable[Attempt]]


class Outbox:
    """One channel's sends: ``send`` now (and remember), ``work`` in the background for the retries."""

    def __init__(self, store: OutboxStore, channel: str, send_part: SendPart, policy: RetryPolicy | None = None):
        self._store = store
        self._channel = channel
        self._send_part = send_part
        self.policy = policy or RetryPolicy()
        self._task: asyncio.Task | None = None

    async def send(self, conversation_id: str, parts: list[dict[str, Any]], sent_at: float | None) -> None:
        """Stores the message (the parts of one Rasa message) and sends it, unless an earlier one is still
        pending for this conversation: then the worker sends it after that one."""
        try:
            row = await asyncio.to_thread(
                self._store.add, self._channel, conversation_id, parts, sent_at, new_claim(), self.policy.lease_seconds
            )
        except sa.exc.SQLAlchemyError as error:  # a storage outage: the customer still gets the words, once
            logger.error("%s: outbox not written (%s); sending without retries", self._channel, type(error).__name__)
            await self._send_unrecorded(conversation_id, parts)
            return
        if row is not None:
            await self._attempt(row)

    async def refuse(self, conversation_id: str, sent_at: float | None, code: str, reason: str) -> None:
        """Records a message not sent because the platform would refuse it: the agent sees why."""
        logger.warning("%s: message to %s not sent (%s)", self._channel, self._masked(conversation_id), code)
        rasa_server_metrics().send_failed(self._channel)
        try:
            await asyncio.to_thread(self._store.add_failed, self._channel, conversation_id, sent_at, code, reason)
        except sa.exc.SQLAlchemyError as error:
            logger.error("%s: refused message not recorded (%s)", self._channel, type(error).__name__)

    async def run_due(self) -> int:
        """Sends what is due now (claimed by this worker alone); how many messages it tried.

        At once: the claimed rows belong to different conversations (a later message waits for its
        conversation's earlier one), and a slow platform must not keep the last row past its lease.
        """
        rows = await asyncio.to_thread(self._store.claim_due, self._channel, new_claim(), self.policy.lease_seconds)
        await asyncio.gather(*(self._attempt(row) for row in rows))
        return len(rows)

    async def work(self) -> None:
        """Forever: the due messages, then a short pause when there were none; sent rows pruned hourly."""
        pruned = 0.0
        while True:
            tried = 0
            try:
                tried = await self.run_due()
                if time.monotonic() - pruned > PRUNE_EVERY_SECONDS:
                    await asyncio.to_thread(self._store.prune)
                    pruned = time.monotonic()
            except Exception as error:  # the worker must outlive a database restart
                logger.error("%s: outbox worker round failed (%s)", self._channel, type(error).__name__)
            if not tried:
                await asyncio.sleep(self.policy.poll_seconds)

    def start(self) -> None:
        """Starts ``work`` on the running loop (the Rasa server's), once."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.work())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def _masked(self, conversation_id: str) -> str:
        return mask_id(platform_id(self._channel, conversation_id))

    async def _attempt(self, row: OutboxRow) -> None:
        """Sends the parts not delivered yet, in order, and records how it ended."""
        recipient = platform_id(self._channel, row.conversation_id)
        done, outcome = row.parts_done, DELIVERED
        for part in row.parts[row.parts_done :]:
            outcome = await self._send_part(recipient, part)
            if not outcome.delivered:
                break
            done += 1
            if done < len(row.parts):
                await self._record(self._store.progress, row, done)
        if outcome.delivered:
            await self._record(self._store.sent, row)
        elif outcome.retriable and row.attempts < self.policy.max_attempts:
            wait = self.policy.wait(row.attempts, outcome.wait_seconds)
            logger.info("%s: message %d to %s not sent yet (%s), next try in %.0f s", self._channel, row.id,
                        mask_id(recipient), outcome.code, wait)  # fmt: skip
            await self._record(self._store.retry_at, row, time.time() + wait, outcome.code, outcome.reason)
        else:
            reason = outcome.reason
            if outcome.retriable:
                reason = f"{reason} Đã thử {row.attempts} lần."
            logger.warning("%s: message %d to %s not sent, given up (%s, %d attempts)", self._channel, row.id,
                           mask_id(recipient), outcome.code, row.attempts)  # fmt: skip
            rasa_server_metrics().send_failed(self._channel)
            await self._record(self._store.failed, row, outcome.code, reason)

    async def _record(self, change: Callable[..., bool], row: OutboxRow, *values: Any) -> None:
        """An outcome written; if the database is away, the lease runs out and the row is tried again."""
        try:
            if not await asyncio.to_thread(change, row, *values):
                logger.warning("%s: message %d was taken over by another sender", self._channel, row.id)
        except sa.exc.SQLAlchemyError as error:
            logger.error("%s: outcome of message %d not recorded (%s)", self._channel, row.id, type(error).__name__)

    async def _send_unrecorded(self, conversation_id: str, parts: list[dict[str, Any]]) -> None:
        recipient = platform_id(self._channel, conversation_id)
        for part in parts:
            outcome = await self._send_part(recipient, part)
            if not outcome.delivered:
                logger.warning("%s: unrecorded message to %s not sent (%s)", self._channel, mask_id(recipient),
                               outcome.code)  # fmt: skip
                return
