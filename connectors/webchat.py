"""The website chat widget's channel: Rasa's socket.io channel, plus the widget's files.

Two things differ from ``rasa.core.channels.socketio.SocketIOInput``:
- with python-socketio 5.9+ ``AsyncServer.enter_room`` is a coroutine, which
  Rasa 3.6 calls without awaiting, so a reloaded page never re-joins its
  session's room and replies sent later (an agent's) are lost. The session
  and message handlers are registered again here, awaiting it.
- messages the desk sends (``message["agent"]``) keep the agent's name, so the
  widget can show who is writing.
It also serves ``widget.js`` (one ``<script>`` tag embeds the chat), its CSS,
the socket.io client from npm (``make widget``) and a demo shop page.
"""

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.paths import PROJECT_ROOT

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


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output, keeping the agent's name on messages from the desk."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
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
        sio = self.sio

        async def session_request(sid: str, data: dict | None) -> None:
            session_id = str((data or {}).get("session_id") or uuid.uuid4().hex)
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        async def handle_message(sid: str, data: dict) -> None:
            sender_id = data.get("session_id") if self.session_persistence else sid
            if not sender_id:
                logger.warning("widget message without a session id ignored")
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            output = WebChatOutput(sio, self.bot_message_evt)
            text = str(data.get("message", ""))
            await on_new_message(UserMessage(text, output, sender_id, input_channel=self.name(), metadata=metadata))

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)

        async def widget_file(request: Request, name: str) -> HTTPResponse:
            if name not in FILES:
                return response.json({"error": "not found"}, status=404)
            path, content_type = FILES[name]
            if not Path(path).exists():
                return response.text("Widget files missing: run `make widget`.", status=503)
            return await response.file(path, mime_type=content_type, headers={"Cache-Control": "no-cache"})

        webhook.add_route(widget_file, "/<name>", methods=["GET"])
        return webhook
