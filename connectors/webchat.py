"""The website chat widget's channel: Rasa's socket.io channel, plus the widget's files.

Two things differ from ``rasa.core.channels.socketio.SocketIOInput``:
- with python-socketio 5.9+ ``AsyncServer.enter_room`` is a coroutine, which
  Rasa 3.6 calls without awaiting, so a reloaded page never re-joins its
  session's room and replies sent later (an agent's) are lost. The session
  and message handlers are registered again here, awaiting it.
- messages the desk sends (``message["agent"]``) keep the agent's name, so the
  widget can show who is writing; an agent's picture or PDF comes with a link signed for this
  customer (connectors/files.py), which the widget shows as an image or a download.
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
- ``POST /webhooks/socketio/upload`` takes a picture or PDF from the widget (multipart, field ``file``).
  It names its conversation by the ``X-Chat-Session`` header: the widget's session id, a 128-bit secret
  the browser drew (whoever has it already reads that conversation), so only that form (32 hex digits)
  is taken, and only for a conversation that exists; a short REST sender id cannot be written into
  this way. Files count against the door guard's file limits (per session and per address), the body
  against ``MAX_UPLOAD_BODY`` while it arrives (this one route lifts the server's small body cap), and
  the file against ``AttachmentStore.save``'s checks; a refusal answers ``{"reason"}`` in Vietnamese. A
  stored file becomes the customer's turn (connectors/inbound_files.py), run after the answer.
It also serves ``widget.js`` (one ``<script>`` tag embeds the chat), its CSS,
the socket.io client from npm (``make widget``) and a demo shop page.
"""

import asyncio
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import socketio
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.headers import parse_content_header
from sanic.request import Request, parse_multipart_form
from sanic.response import HTTPResponse

from bot.attachments import MAX_BYTES, AttachmentRefusedError
from bot.handoff_protocol import file_of
from bot.paths import PROJECT_ROOT
from bot.privacy import mask_id
from bot.senders import SESSION_HEADER, namespaced, platform_id
from bot.settings import current_settings
from connectors.core import take_turn
from connectors.files import ROUTE as FILE_ROUTE
from connectors.files import customer_file, link_for
from connectors.guard import MAX_SENDER_CHARS, MAX_SOCKET_PACKET_BYTES, door_guard, limit_request_size
from connectors.inbound_files import TOO_BIG, attachment_turn, described, save_inbound

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
WIDGET_SESSION = re.compile(r"[0-9a-f]{32}")  # what widget.js draws: crypto.getRandomValues, 128 bits
MAX_UPLOAD_BODY = MAX_BYTES + 64 * 1024  # one file and its multipart envelope
NOT_YOURS = "Mình chưa nhận được tệp: phiên chat đã hết hạn. Bạn tải lại trang rồi gửi lại giúp mình nhé."
NO_FILE = "Mình chưa thấy tệp nào, bạn chọn lại ảnh hoặc tệp PDF giúp mình nhé."
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
        sent = file_of(message)
        if sent is not None:  # an agent's picture or PDF: a link signed for this customer alone
            path = link_for(sent["id"], namespaced(WebChatInput.name(), recipient_id))
            payload["attachment"] = {"kind": sent["kind"], "name": sent["name"], "path": path}
        if message.get("buttons"):
            payload["quick_replies"] = [
                {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in message["buttons"]
            ]
        await self._send_message(recipient_id, payload)

    async def send_elements(self, recipient_id: str, elements: Iterable[Any], **kwargs: Any) -> None:
        """A product's card (bot/catalog/cards.py): the widget shows the words and the picture as its own card,
        so the template, which it would not show, is not sent."""


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
        webhook.add_route(customer_file, FILE_ROUTE, methods=["GET"])  # agents' pictures, by signed link
        turns: set[asyncio.Task] = set()  # the turns of uploads answered already, kept alive until done

        async def upload(request: Request) -> HTTPResponse:
            session_id = request.headers.get(SESSION_HEADER, "")
            if not WIDGET_SESSION.fullmatch(session_id):
                return _refused(NOT_YOURS, 403)
            sender = namespaced(self.name(), session_id)
            forwarded = ",".join(request.headers.getall("x-forwarded-for", []))
            refusal = door_guard().check_upload(sender, door_guard().address(request.ip, forwarded or None))
            if refusal is not None:
                return _refused(refusal.text, 429, {"Retry-After": str(refusal.retry_after)})
            tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
            if tracker is None or not tracker.events:  # nobody chatted in this session: nothing to attach to
                logger.info("widget upload refused: no conversation %s", mask_id(session_id))
                return _refused(NOT_YOURS, 403)
            body = await _body_within(request, MAX_UPLOAD_BODY)
            if body is None:
                return _refused(TOO_BIG, 413)
            chosen = _uploaded_file(request.headers.get("content-type", ""), body)
            if chosen is None:
                return _refused(NO_FILE, 400)
            data, name = chosen
            try:
                attachment = await save_inbound(data, name, self.name(), sender)
            except AttachmentRefusedError as refused:
                return _refused(refused.reason, 422)
            output = WebChatOutput(sio, self.bot_message_evt)
            task = asyncio.get_running_loop().create_task(
                take_turn(on_new_message, attachment_turn([attachment], output, sender, self.name()))
            )
            turns.add(task)
            task.add_done_callback(turns.discard)
            return response.json({"attachment": described(attachment)})

        webhook.add_route(upload, "/upload", methods=["POST"], stream=True)
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


def _refused(reason: str, status: int, headers: dict[str, str] | None = None) -> HTTPResponse:
    """What the widget shows the customer instead of their file."""
    return response.json({"reason": reason}, status=status, headers=headers)


async def _body_within(request: Request, limit: int) -> bytes | None:
    """The streamed body, or None as soon as it is (or says it will be) longer than ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    stream = request.stream
    if stream is None:  # a request without a body
        return b""
    body = bytearray()
    while (chunk := await stream.read()) is not None:
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _uploaded_file(content_type: str, body: bytes) -> tuple[bytes, str] | None:
    """The ``file`` field of a multipart body: its bytes and the name the browser gave."""
    kind, parameters = parse_content_header(content_type)
    boundary = parameters.get("boundary")
    if kind != "multipart/form-data" or not boundary:
        return None
    try:
        _, files = parse_multipart_form(body, str(boundary).encode("utf-8"))
    except (ValueError, IndexError, UnicodeDecodeError):
        return None
    found = files.get("file")
    return (found.body, found.name or "") if found is not None and found.body else None
