"""What every pushed chat channel (Zalo, Messenger) does the same way: from a webhook to Rasa turns.

Both platforms push each customer message to a webhook, want HTTP 200 within seconds, and send
it again when they do not get it. So a channel built on ``PushChannel`` (Rasa's ``InputChannel``):

1. verifies the request its platform's way and reads it into ``Delivery``s;
2. ``admit``s them: each platform message id is recorded as seen (connectors/dedupe.py) *before*
   the answer. A redelivery is acknowledged and dropped; when the store cannot be written the
   webhook answers 500, so the platform sends the message again instead of it being lost;
3. answers 200, and the work runs in the background: one sender's messages one after another in
   arrival order, different senders at once (``SenderQueues``);
4. runs each Rasa turn through ``take_turn``: the bot's replies are held until the turn is over.
   If the tracker store failed during it (bot/rasa_plugins/tracking.py), Rasa answered from a conversation it
   could neither read nor save, so the customer hears the apology the REST channel gives
   (``NO_ANSWER``) instead and writes again; an error in the turn gets the same apology.

Long texts are cut by ``split_text`` at each platform's own limit, between paragraphs, sentences
or words.
"""

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import response
from sanic.response import HTTPResponse

from bot.observability.metrics import rasa_server_metrics
from bot.privacy import mask_id, redact
from bot.rasa_plugins.tracking import storage_failures
from bot.rasa_plugins.turns import turn_gate
from bot.senders import platform_id
from bot.shop_policy import render_text
from connectors.dedupe import seen_messages
from connectors.guard import NO_ANSWER, Guard
from connectors.notice_words import answered_notice_wish

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

# Where a long message may be cut, best first: paragraph, line, sentence end, space.
BREAKS = (
    (re.compile(r"\n\s*\n"), "start"),
    (re.compile(r"\n"), "start"),
    (re.compile(r"[.!?…](?=\s)"), "end"),
    (re.compile(r"\s"), "start"),
)


def json_object(value: Any) -> dict[str, Any]:
    """``value`` when the platform sent a JSON object there, else an empty one: a payload's shape is not trusted."""
    return value if isinstance(value, dict) else {}


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` characters, cut between paragraphs, sentences or words."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _cut_point(text: str, limit: int) -> int:
    window = text[: limit + 1]
    for minimum in (limit // 3, 1):  # the best kind of break that fills a third of a message; else any break
        for pattern, side in BREAKS:
            cuts = [m.start() if side == "start" else m.end() for m in pattern.finditer(window)]
            cuts = [cut for cut in cuts if minimum <= cut <= limit]
            if cuts:
                return cuts[-1]
    return limit  # one word longer than a whole message (a long link): nothing better exists


@dataclass(frozen=True)
class Delivery:
    """One platform event worth handling: whose it is, the platform's id for it, and what to do once admitted."""

    sender: str  # the platform's id of the customer (a Zalo user id, a PSID)
    message_id: str
    handle: Callable[[], Awaitable[None]]


class SenderQueues:
    """Background work per sender: one sender's work one after another, different senders at once."""

    def __init__(self, channel: str) -> None:
        self._channel = channel
        self._latest: dict[str, asyncio.Task] = {}  # each sender's newest work, which waits for the one before

    def run(self, sender: str, handle: Callable[[], Awaitable[None]]) -> None:
        """Starts ``handle`` once the same sender's earlier work is done."""
        task = asyncio.get_running_loop().create_task(self._after(self._latest.get(sender), sender, handle))
        self._latest[sender] = task  # also keeps the task alive: the loop holds only weak references

        def forget(done: asyncio.Task) -> None:
            if self._latest.get(sender) is done:
                del self._latest[sender]

        task.add_done_callback(forget)

    async def _after(self, previous: asyncio.Task | None, sender: str, handle: Callable[[], Awaitable[None]]) -> None:
        """Nobody awaits acknowledged work, so its failure is logged here and never stops the next message."""
        if previous is not None:
            await asyncio.wait({previous})  # how it ended is its own business
        try:
            await handle()
        except Exception as error:
            logger.error("%s: an acknowledged message from %s was not handled (%s)",
                         self._channel, mask_id(sender), type(error).__name__)  # fmt: skip
            logger.debug("%s: handling failed", self._channel, exc_info=True)


class PushChannel(InputChannel):
    """An ``InputChannel`` whose platform pushes webhooks and resends them until it gets HTTP 200."""

    def __init__(self) -> None:
        self._queues = SenderQueues(self.name())

    async def admit(self, deliveries: Sequence[Delivery]) -> bool:
        """Records each delivery as seen and queues the new ones; False when the store failed (answer 500).

        Deliveries recorded before a failure are queued all the same: the platform's resend will
        find them seen, and only the rest of the post is handled then.
        """
        for delivery in deliveries:
            try:
                first = await asyncio.to_thread(seen_messages().first_time, self.name(), delivery.message_id)
            except sa.exc.SQLAlchemyError as error:
                logger.error("%s: could not record a delivery (%s); the platform will send it again",
                             self.name(), type(error).__name__)  # fmt: skip
                return False
            if first:
                self._queues.run(delivery.sender, delivery.handle)
            else:
                logger.debug("%s: a message from %s was redelivered, already handled", self.name(),
                             mask_id(delivery.sender))  # fmt: skip
        return True

    @staticmethod
    def unavailable() -> HTTPResponse:
        """The answer that makes the platform deliver again later."""
        return response.json({"error": "temporarily unavailable"}, status=500)


class HeldReplies(OutputChannel):
    """Rasa's replies of one turn, kept until the turn is known to be stored, then sent on ``output``."""

    def __init__(self, output: OutputChannel) -> None:
        self._output = output
        self._held: list[tuple[str, dict[str, Any]]] = []

    def name(self) -> str:  # domain.yml's per-channel responses go by the real name
        return self._output.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self._held.append((recipient_id, dict(message)))

    def response_names(self) -> list[str | None]:
        """Which of the domain's responses the turn produced (Rasa puts the name in ``utter_action``)."""
        return [message.get("utter_action") for _, message in self._held]

    async def release(self) -> None:
        for recipient_id, message in self._held:
            await self._output.send_response(recipient_id, message)
        self._held.clear()


async def take_turn(on_new_message: OnNewMessage, message: UserMessage) -> None:
    """One Rasa turn; the customer hears the bot's replies only if the turn was stored, else an apology.

    ``message.output_channel`` is the platform's output; it receives everything at the end of the turn.
    """
    if await answered_notice_wish(message):  # "ngừng nhận thông báo": stored and confirmed, no NLU
        return
    output, sender = message.output_channel, message.sender_id
    channel, metrics = message.input_channel or output.name(), rasa_server_metrics()
    held = HeldReplies(output)
    message.output_channel = held
    storage_failures.discard(sender)  # a failure noted before this turn belongs to something else
    started = time.perf_counter()
    try:
        async with turn_gate().turn(sender):
            await on_new_message(message)
    except Exception as error:  # the customer gets an apology, never the error
        metrics.turn(channel, time.perf_counter() - started, [])
        metrics.apologised(channel, "error")
        logger.error("%s: message from %s not handled: %s: %s", output.name(),
                     mask_id(platform_id(output.name(), sender)), type(error).__name__, redact(str(error)))  # fmt: skip
        logger.debug("%s: handling failed", output.name(), exc_info=True)
        await output.send_response(sender, {"text": render_text(NO_ANSWER)})
        return
    metrics.turn(channel, time.perf_counter() - started, held.response_names())
    if sender in storage_failures:
        storage_failures.discard(sender)
        metrics.apologised(channel, "storage")
        logger.warning("%s: the tracker store failed during a turn of %s; apologised instead of answering",
                       output.name(), mask_id(platform_id(output.name(), sender)))  # fmt: skip
        await output.send_response(sender, {"text": render_text(NO_ANSWER)})
        return
    await held.release()


async def turned_away(guard: Guard, output: OutputChannel, sender: str, text: str) -> bool:
    """The door guard's check (connectors/guard.py); True when the message stops here.

    ``sender`` is the tracker key; the customer is told why (a burst only once) on ``output``.
    """
    refusal = guard.check(sender, text)
    if refusal is None:
        return False
    if refusal.worth_answering:
        await output.send_response(sender, {"text": refusal.text})
    return True
