"""Rasa's REST channel, guarded and in its own namespace, plus an inbox for messages that arrive later.

``POST /webhooks/rest/webhook`` (with or without a trailing slash: Sanic routes both here)
answers with the bot's replies to that message. Every message passes the door guard first
(connectors/guard.py): malformed bodies get a 400, very long messages and bursts a polite
answer, and a turn that produced no reply (the action server down, say) an apology instead
of silence. The client's ``sender`` becomes ``web:<sender>`` (bot/senders.py), so it can
never name a Zalo or Messenger customer's conversation; ``input_channel`` and ``metadata`` in
the body are ignored: the channel is ``rest``, whatever the client claims. Rasa's ``stream``
mode is not offered (one way in, one guard).

REST is request/response, but an agent's reply, a queue update or the CSAT question arrive
while nobody is asking. The desk appends those to the customer's tracker (tagged ``source:
desk``), and ``GET /webhooks/rest/inbox?since=..`` with the sender in the ``X-Chat-Session``
header returns them, read from the tracker store so any Rasa replica can answer. The sender
id is the customer's secret, as it already is for the webhook, so it travels in a header,
never in a URL (which proxies and access logs keep).
"""

import asyncio
import logging
import time
from asyncio import CancelledError
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff_protocol import AGENT_KEY, agent_of, leaves_queue, sent_by_desk
from bot.observability.metrics import rasa_server_metrics
from bot.rasa_plugins.tracking import storage_failures
from bot.rasa_plugins.turns import turn_gate
from bot.senders import SESSION_HEADER, namespaced
from bot.shop_policy import render_text
from connectors.guard import MAX_SENDER_CHARS, NO_ANSWER, door_guard, limit_request_size, problem_with
from connectors.notice_words import notice_wish_reply

logger = logging.getLogger(__name__)

CHANNEL = "rest"
# how long the webhook waits for the desk to answer a waiting customer who typed "huỷ"
DESK_ANSWER_WAIT_SECONDS = 3.0


def desk_messages(events: Any, since: float) -> list[dict[str, Any]]:
    """Bot messages the desk sent after ``since``, as the REST webhook would have returned them."""
    found = []
    for event in events:
        if not isinstance(event, BotUttered) or event.timestamp <= since:
            continue
        if sent_by_desk(event.metadata):
            message: dict[str, Any] = {"recipient_id": None, "text": event.text, "timestamp": event.timestamp}
            if event.data.get("buttons"):
                message["buttons"] = event.data["buttons"]
            if agent_of(event.metadata):
                message[AGENT_KEY] = agent_of(event.metadata)
            found.append(message)
    return found


def _reply(sender: str, text: str, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    return response.json([{"recipient_id": sender, "text": text}], status=status, headers=headers)


def _client_address(request: Request) -> str:
    forwarded = ",".join(request.headers.getall("x-forwarded-for", []))
    return door_guard().address(request.ip, forwarded or None)


class NamedCollector(CollectingOutputChannel):
    """Rasa's collecting channel, also keeping which response each reply was, for the fallback counts
    (the collected messages themselves keep only what the client is sent)."""

    def __init__(self) -> None:
        super().__init__()
        self.response_names: list[str | None] = []

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.response_names.append(message.get("utter_action"))
        await super().send_response(recipient_id, message)

    async def send_elements(self, recipient_id: str, elements: Iterable[Any], **kwargs: Any) -> None:
        """A product's card (bot/catalog/cards.py): the client has the words and the picture's ``image``, which
        say what it would; Rasa's default would add each card as one more text, "title : subtitle"."""


class RestWithInbox(RestInput):
    """``/webhooks/rest/webhook`` guarded and namespaced, plus ``/webhooks/rest/inbox``."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)
        limit_request_size(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except InvalidUsage:  # the body is not JSON
                body = None
            problem = problem_with(body)
            if problem:
                return response.json({"error": problem}, status=400)
            client_sender, text = body["sender"], body["message"]
            sender = namespaced(CHANNEL, client_sender)
            refusal = door_guard().check(sender, text, _client_address(request))
            if refusal:
                retry = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else None
                return _reply(client_sender, refusal.text, refusal.status, retry)
            wish = await notice_wish_reply(sender, text)  # "ngừng nhận thông báo": stored and confirmed
            if wish is not None:
                return _reply(client_sender, wish)
            collector = NamedCollector()
            sent_at, started, metrics = time.time(), time.perf_counter(), rasa_server_metrics()
            failed = False
            try:
                async with turn_gate().turn(sender):
                    await on_new_message(UserMessage(text, collector, sender, input_channel=CHANNEL))
            except CancelledError:
                failed = True
                logger.error("rest: a message timed out")
            except Exception as error:  # the customer gets an apology below, never the error
                failed = True
                logger.error("rest: a message was not handled: %s", type(error).__name__)
                logger.debug("rest: handling failed", exc_info=True)
            metrics.turn(CHANNEL, time.perf_counter() - started, collector.response_names)
            if sender in storage_failures:
                # Rasa answered from a conversation it could not read or save: not an answer to trust
                storage_failures.discard(sender)
                metrics.apologised(CHANNEL, "storage")
                return _reply(client_sender, render_text(NO_ANSWER))
            if not collector.messages and leaves_queue(text):
                # a waiting customer leaving the queue: the desk answers through Rasa a moment later
                collector.messages.extend(await self._desk_answer(request, sender, sent_at))
            if not collector.messages and not await self._paused(request, sender):
                metrics.apologised(CHANNEL, "error" if failed else "no_reply")
                return _reply(client_sender, render_text(NO_ANSWER))
            for message in collector.messages:
                message["recipient_id"] = client_sender
            return response.json(collector.messages)

        @webhook.route("/inbox", methods=["GET"])
        async def inbox(request: Request) -> HTTPResponse:
            client_sender = request.headers.get(SESSION_HEADER, "")
            try:
                since = float(request.args.get("since", "0"))
            except ValueError:
                return response.json({"error": "since must be a Unix timestamp"}, status=400)
            if not client_sender or len(client_sender) > MAX_SENDER_CHARS:
                return response.json({"error": f"the {SESSION_HEADER} header must name the sender"}, status=400)
            tracker = await request.app.ctx.agent.tracker_store.retrieve(namespaced(CHANNEL, client_sender))
            messages = desk_messages(tracker.events if tracker else [], since)
            for message in messages:
                message["recipient_id"] = client_sender
            return response.json({"messages": messages})

        return webhook

    @staticmethod
    async def _desk_answer(request: Request, sender: str, since: float) -> list[dict[str, Any]]:
        """The desk's messages after ``since``, waited for at most ``DESK_ANSWER_WAIT_SECONDS``."""
        store = request.app.ctx.agent.tracker_store
        deadline = time.monotonic() + DESK_ANSWER_WAIT_SECONDS
        while True:
            try:
                tracker = await store.retrieve(sender)
            except Exception as error:  # any store failing: the usual apology follows
                logger.warning("tracker store unavailable: %s", type(error).__name__)
                return []
            answer = desk_messages(tracker.events if tracker else [], since)
            if answer or tracker is None or time.monotonic() > deadline:
                return answer
            await asyncio.sleep(0.1)

    @staticmethod
    async def _paused(request: Request, sender: str) -> bool:
        """Whether a person has the conversation, so the bot's silence is on purpose."""
        try:
            tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
        except Exception as error:  # any store (SQLite, PostgreSQL, ...) failing: apologize anyway
            logger.warning("tracker store unavailable: %s", type(error).__name__)
            return False
        return tracker is not None and tracker.is_paused()
