"""Rasa's REST channel plus an inbox for messages that arrive later.

REST is request/response: the webhook answers with the bot's replies to that
message, but an agent's reply, a queue update or the CSAT question arrive
while nobody is asking. The desk appends those to the customer's tracker
(tagged ``source: desk``), and ``GET /webhooks/rest/inbox?sender=..&since=..``
returns them, read from the tracker store so any Rasa replica can answer.
The sender id is the customer's secret, as it already is for the webhook.

Every message is checked first (connectors/guard.py): malformed bodies get a
400, very long messages and bursts a polite answer, and a turn that produced
no reply (the action server down, say) an apology instead of silence.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk.rasa_client import DESK_SOURCE
from bot.shop_policy import render_text
from bot.tracking import storage_failures
from connectors.guard import MAX_MESSAGE_CHARS, NO_ANSWER, TOO_FAST, TOO_LONG, BurstLimiter, problem_with

logger = logging.getLogger(__name__)

# Channels whose customers read later messages here: REST clients and the website widget
# (whose session id is a random secret kept in the browser).
INBOX_CHANNELS = frozenset({"rest", "socketio"})


def desk_messages(events: Any, since: float) -> list[dict[str, Any]]:
    """Bot messages the desk sent after ``since``, as the REST webhook would have returned them."""
    found = []
    for event in events:
        if not isinstance(event, BotUttered) or event.timestamp <= since:
            continue
        if (event.metadata or {}).get("source") == DESK_SOURCE:
            message: dict[str, Any] = {"recipient_id": None, "text": event.text, "timestamp": event.timestamp}
            if event.data.get("buttons"):
                message["buttons"] = event.data["buttons"]
            if event.metadata.get("agent"):
                message["agent"] = event.metadata["agent"]
            found.append(message)
    return found


def _reply(sender: str, text: str, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    return response.json([{"recipient_id": sender, "text": text}], status=status, headers=headers)


class RestWithInbox(RestInput):
    """``/webhooks/rest/webhook`` as in Rasa, guarded, plus ``/webhooks/rest/inbox``."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        limiter = BurstLimiter()

        @webhook.middleware("request")
        async def check_message(request: Request) -> HTTPResponse | None:
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            try:
                body = request.json
            except InvalidUsage:  # the body is not JSON
                body = None
            problem = problem_with(body)
            if problem:
                return response.json({"error": problem}, status=400)
            if len(body["message"]) > MAX_MESSAGE_CHARS:
                return _reply(body["sender"], TOO_LONG)
            wait = limiter.allow(body["sender"])
            if wait is not None:
                return _reply(body["sender"], TOO_FAST, 429, {"Retry-After": str(max(1, round(wait)))})
            return None

        @webhook.middleware("response")
        async def never_silent(request: Request, reply: HTTPResponse) -> HTTPResponse | None:
            if request.method != "POST" or not request.path.endswith("/webhook") or reply.status != 200:
                return None
            sender = request.json["sender"]
            if sender in storage_failures:
                # Rasa answered from a conversation it could not read or save: not an answer to trust
                storage_failures.discard(sender)
                return _reply(sender, render_text(NO_ANSWER))
            if reply.body not in (b"[]", b""):
                return None
            try:
                tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
            except Exception as error:  # any store (SQLite, PostgreSQL, ...) failing: apologize anyway
                logger.warning("tracker store unavailable: %s", type(error).__name__)
                tracker = None
            if tracker is not None and tracker.is_paused():
                return None  # a person has the conversation: the bot is silent on purpose
            return _reply(sender, render_text(NO_ANSWER))

        async def inbox(request: Request) -> HTTPResponse:
            sender_id = request.args.get("sender")
            try:
                since = float(request.args.get("since", "0"))
            except ValueError:
                return response.json({"error": "since must be a Unix timestamp"}, status=400)
            if not sender_id:
                return response.json({"error": "sender is required"}, status=400)
            tracker = await request.app.ctx.agent.tracker_store.retrieve(sender_id)
            if tracker and tracker.get_latest_input_channel() not in INBOX_CHANNELS:
                # a Zalo or Messenger user id is no secret: their messages are not served here
                return response.json({"messages": []})
            messages = desk_messages(tracker.events if tracker else [], since)
            for message in messages:
                message["recipient_id"] = sender_id
            return response.json({"messages": messages})

        webhook.add_route(inbox, "/inbox", methods=["GET"])
        return webhook
