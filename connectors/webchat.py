"""The website chat widget's channel: Rasa's socket.io channel, plus the widget's files.

Two things differ from ``rasa.core.channels.socketio.SocketIOInput``:
- with python-socketio 5.9+ ``AsyncServer.enter_room`` is a coroutine, which
  Rasa 3.6 calls without awaiting, so a reloaded page never re-joins its
  session's room and replies sent later (an agent's) are lost. The session
  and message handlers are registered again here, awaiting it.
- messages the desk sends (``message["agent"]``) keep the agent's name, so the
  widget can show who is writing.
- every message passes the door guard (connectors/guard.py): bursts per session and per
  client address, over-long messages answered politely without reaching the NLU, and
  engine.io packets over ``MAX_SOCKET_PACKET_BYTES`` refused by engine.io itself (its
  default is 1 MB). The session id the widget sends becomes ``web:<session id>``
  (bot/senders.py); metadata sent by the client is not kept.
- each turn goes through ``connectors.core.take_turn``, as on Zalo and Messenger: when the
  tracker store failed during it, or the turn raised, the customer gets the same apology as
  on the other channels instead of an answer from a forgotten conversation, or silence.
- with ``Settings.widget_redis_url`` (the scaled stack) the sockets are shared by every
  replica through python-socketio's Redis manager: an agent's reply reaches Rasa's HTTP API
  on whichever replica nginx picked, and is emitted to the room named after the customer's
  session, which the replica holding that socket joined; the room is the only per-session
  state a replica keeps, so nothing else needs sharing.
It also serves ``widget.js`` (one ``<script>`` tag embeds the chat), its CSS,
the socket.io client from npm (``make widget``) and a demo shop page.
"""

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import socketio
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.paths import PROJECT_ROOT
from bot.senders import namespaced, platform_id
from bot.settings import current_settings
from connectors.core import take_turn
from connectors.guard import MAX_SENDER_CHARS, MAX_SOCKET_PACKET_BYTES, door_guard, limit_request_size

logger = logging.getLogger(__name__)

WIDGET_DIR = PROJECT_ROOT / "widget"
FILES = {
    "widget.js": (WIDGET_DIR / "src" / "widget.js", "application/javascript; charset=utf-8"),
    "widget.css": (WIDGET_DIR / "src" / "widget.css", "text/css; charset=utf-8"),
    "socket.io.min.js": (
        WIDGET_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js",
        "application/javascript; charset=utf-8",
    ),
    "demo": (WIDGET_DIR / "src" / "demo.html", "text/html; charset=utf-8"),
}
PRODUCT_PICTURES = WIDGET_DIR / "src" / "products"
PICTURE_NAME = re.compile(r"[a-z0-9-]{1,64}\.png")
# The Redis pub/sub channel the replicas' socket.io servers share (pub/sub ignores Redis's db number).
SOCKETS_CHANNEL = "cskh-widget-sockets"


def share_sockets(sio: socketio.AsyncServer, redis_url: str) -> None:
    """Makes ``sio`` one of several servers sharing their sockets through Redis.

    Rasa builds the server without a client manager; this is what ``client_manager=`` would do at
    construction, done before any socket connects (the manager starts listening on the first one).
    """
    manager = socketio.AsyncRedisManager(redis_url, channel=SOCKETS_CHANNEL)
    manager.set_server(sio)
    sio.manager = manager


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output, keeping the agent's name on messages from the desk.

    Rasa addresses messages to the tracker key (``web:<session id>``); the widget's socket
    joined the room of its session id.
    """

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        recipient_id = platform_id(WebChatInput.name(), recipient_id)
        if not message.get("agent"):
            await super().send_response(recipient_id, message)
            return
        payload: dict[str, Any] = {
            "text": message.get("text", ""), "agent": message["agent"], "timestamp": message.get("timestamp"),
        }  # fmt: skip
        if message.get("buttons"):
            payload["quick_replies"] = [
                {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in message["buttons"]
            ]
        await self._send_message(recipient_id, payload)


class WebChatInput(SocketIOInput):
    """socket.io for the widget, with sessions that survive reloads and reconnects."""

    def get_output_channel(self) -> OutputChannel | None:
        return WebChatOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        limit_request_size(webhook)
        sio = self.sio
        sio.eio.max_http_buffer_size = MAX_SOCKET_PACKET_BYTES
        if redis_url := current_settings().widget_redis_url:
            share_sockets(sio, redis_url)

        async def session_request(sid: str, data: dict | None) -> None:
            session_id = (data or {}).get("session_id") if isinstance(data, dict) else None
            if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_SENDER_CHARS:
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace, ignore_queue=True)

        async def handle_message(sid: str, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id") if self.session_persistence else sid
            text = data.get("message")
            if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_SENDER_CHARS:
                logger.warning("widget message without a usable session id ignored")
                return
            if not isinstance(text, str):
                return
            sender = namespaced(self.name(), session_id)
            refusal = door_guard().check(sender, text, self._client_address(sid))
            if refusal:
                if refusal.worth_answering:  # to this socket only: the NLU never sees the message
                    await sio.emit(
                        self.bot_message_evt,
                        {"text": refusal.text},
                        room=sid,
                        namespace=self.namespace,
                        ignore_queue=True,
                    )
                return
            output = WebChatOutput(sio, self.bot_message_evt)
            await take_turn(on_new_message, UserMessage(text, output, sender, input_channel=self.name()))

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)

        async def widget_file(request: Request, name: str) -> HTTPResponse:
            if name not in FILES:
                return response.json({"error": "not found"}, status=404)
            path, content_type = FILES[name]
            if not Path(path).exists():
                return response.text("Widget files missing: run `make widget`.", status=503)
            return await response.file(path, mime_type=content_type, headers={"Cache-Control": "no-cache"})

        async def product_picture(request: Request, name: str) -> HTTPResponse:
            """The demo catalog's pictures (bot/catalog/demo_catalog.py), by a name that cannot leave the folder."""
            path = PRODUCT_PICTURES / name
            if not PICTURE_NAME.fullmatch(name) or not path.is_file():
                return response.json({"error": "not found"}, status=404)
            return await response.file(path, mime_type="image/png", headers={"Cache-Control": "max-age=3600"})

        webhook.add_route(widget_file, "/<name>", methods=["GET"])
        webhook.add_route(product_picture, "/products/<name>", methods=["GET"])
        return webhook

    def _client_address(self, sid: str) -> str | None:
        """Where the socket connected from (its handshake request), as the door guard counts it."""
        try:
            request = self.sio.get_environ(sid, namespace=self.namespace)["sanic.request"]
        except (KeyError, TypeError):
            return None
        forwarded = ",".join(request.headers.getall("x-forwarded-for", []))
        return door_guard().address(request.ip, forwarded or None)
