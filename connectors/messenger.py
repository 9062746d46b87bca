"""Facebook Messenger as a Rasa channel, served at ``/webhooks/messenger/webhook``.

Rasa's built-in ``facebook`` channel checks the SHA-1 signature with ``==``,
answers 200 to forged posts and reads only the first event of a post. This one
checks ``X-Hub-Signature-256`` over the raw body in constant time (403 when it
does not match), handles every entry and every messaging event, answers each
message id once (Facebook redelivers for up to 36 h), acknowledges at once and works
afterwards (Facebook wants 200 within 5 s). How a post becomes Rasa turns (ids recorded
before the 200, a 500 when they cannot be, one person's messages in order, an apology
when the tracker store fails) is shared with Zalo: connectors/core.py.

Messenger lets a page answer only within 24 h of the person's last message;
a human agent may answer for 7 days with the ``HUMAN_AGENT`` tag, once Meta's App Review
granted the page's app the Human Agent permission (``FB_HUMAN_AGENT=1``). The time of
each person's last message is kept in the project database, so any Rasa
replica sends an agent's reply (which arrives through Rasa's HTTP API, with no
webhook request behind it) with the right messaging type. What Messenger would refuse
(an automated message after 24 h, an agent's without the permission, anything after
7 days) is not sent: it is recorded as failed with the reason (bot/messaging_windows.py),
and the desk refuses an agent's such reply before it leaves.
Posts about objects other than a page (``instagram``, ``user``...) are answered 200 and
dropped: Meta resends what is not acknowledged.

Every message is stored in the outbox before it is sent (connectors/outbox.py): a failed send is
retried, and one refused for good (or not sent because the window closed) is shown to the agent.

Pictures and files (``message.attachments[]`` of type ``image`` or ``file``, not stickers) are downloaded
from Facebook's CDN, checked and stored, and become the person's turn (connectors/inbound_files.py); for
voice, video, stickers and the like the bot asks the person to type.

Comments on the page's posts and live videos (the ``feed`` field, same webhook, same signature) get one
private reply in Messenger when they ask a price, stock or "ib": connectors/messenger_comments.py.

Rasa knows the person as ``fb:<psid>`` (bot/senders.py): no other channel can name
that conversation. Every message passes the door guard (connectors/guard.py) per person:
over-long texts are answered politely without reaching the NLU, and a burst is told once to
slow down and then dropped.
"""

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache, partial
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.catalog.cards import public_picture
from bot.database import database_url, engine_for
from bot.handoff_protocol import file_of
from bot.messaging_windows import MESSENGER_AUTOMATED_LATE, MESSENGER_CLOSED, MESSENGER_NO_PERMISSION, record_latest
from bot.migrations import ensure_schema
from bot.outbox import OutboxStore
from bot.privacy import mask_id
from bot.schema import messenger_last_inbound_table as last_inbound_table
from bot.senders import namespaced, platform_id
from bot.settings import current_settings
from connectors.comment_products import catalog_answer
from connectors.core import (
    Delivery,
    OnNewMessage,
    PushChannel,
    json_object,
    split_text,
    take_turn,
    turned_away,
)
from connectors.files import read_file
from connectors.guard import door_guard
from connectors.inbound_files import attachment_turn, fetch_and_save
from connectors.messenger_client import MAX_CARDS, MAX_TEXT, SendApi, generic_element, with_quick_replies
from connectors.messenger_comments import Comment, CommentReplies, CommentRules, page_comments
from connectors.outbox import Attempt, Outbox

logger = logging.getLogger(__name__)

CHANNEL = "messenger"
DEFAULT_GRAPH_URL = "https://graph.facebook.com/v19.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
TEXT_ONLY = "Xin lỗi bạn, mình chỉ đọc được tin nhắn chữ, bạn gõ câu hỏi giúp mình nhé."
WINDOW_CLOSED = MESSENGER_CLOSED


class MessagingWindow:
    """When each person last wrote to the page, which decides what the page may still send them."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        ensure_schema(engine)

    def record(self, psid: str, received_at: datetime) -> None:
        """Notes a message from ``psid``; an older (redelivered, reordered) one never moves the time back."""
        record_latest(self._engine, last_inbound_table.c.psid, psid, last_inbound_table.c.received_at, received_at)

    def last_inbound(self, psid: str) -> datetime | None:
        with self._engine.connect() as connection:
            found = connection.execute(
                sa.select(last_inbound_table.c.received_at).where(last_inbound_table.c.psid == psid)
            ).scalar()
        if found is None:
            return None
        return found if found.tzinfo else found.replace(tzinfo=timezone.utc)  # SQLite keeps no zone: stored as UTC


@lru_cache(maxsize=1)
def messaging_window() -> MessagingWindow:
    """The store for this process's project database."""
    return MessagingWindow(engine_for(database_url()))


@dataclass(frozen=True)
class Refusal:
    """Why a message is not sent: Messenger would refuse it (or the page may not use the tag it needs)."""

    code: str
    reason: str


def delivery(
    agent: bool, last_inbound: datetime | None, now: datetime, human_agent: bool = True
) -> tuple[str, str | None] | Refusal:
    """Messaging type and tag for a message, or the ``Refusal`` Messenger would answer anyway.

    Everyone answers within the standard window. After it, only an agent, tagged
    ``HUMAN_AGENT`` for up to 7 days, and only with the page's Human Agent permission
    (``human_agent``); automated messages (the desk's "agent joined", closing, CSAT) are
    not sent. With no record of the person, Facebook itself decides.
    """
    if last_inbound is None or now - last_inbound <= STANDARD_WINDOW:
        return "RESPONSE", None
    if now - last_inbound > HUMAN_AGENT_WINDOW:
        return Refusal("messenger:window", WINDOW_CLOSED)
    if not agent:
        return Refusal("messenger:automated-late", MESSENGER_AUTOMATED_LATE)
    if not human_agent:
        return Refusal("messenger:no-human-agent", MESSENGER_NO_PERMISSION)
    return "MESSAGE_TAG", "HUMAN_AGENT"


def valid_signature(app_secret: str, body: bytes, header: str) -> bool:
    """``sha256=<hex HMAC-SHA256(app secret, raw body)>``, compared in constant time."""
    scheme, _, given = header.partition("=")
    if scheme.strip().lower() != "sha256" or not given:
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode("utf-8", "replace"))


@dataclass(frozen=True)
class Inbound:
    """One message from a person: its text, or None when it carried only attachments; the links of the
    pictures and files among those, with a name for each."""

    sender_id: str
    message_id: str
    text: str | None
    received_at: datetime
    files: tuple[tuple[str, str], ...] = ()


FILE_TYPES = frozenset({"image", "file"})


def _files(attachments: Any) -> tuple[tuple[str, str], ...]:
    """``(url, name)`` of each picture or file; a sticker (an image with a ``sticker_id``) is not one."""
    found = []
    for attachment in attachments if isinstance(attachments, list) else []:
        attachment = json_object(attachment)
        payload = json_object(attachment.get("payload"))
        url = payload.get("url")
        if attachment.get("type") in FILE_TYPES and isinstance(url, str) and not payload.get("sticker_id"):
            found.append((url, urlsplit(url).path.rsplit("/", 1)[-1]))
    return tuple(found)


def _received_at(timestamp: Any, now: datetime) -> datetime:
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
        return min(datetime.fromtimestamp(timestamp / 1000, timezone.utc), now)
    return now


def _inbound(event: dict[str, Any], now: datetime) -> Inbound | None:
    sender = json_object(event.get("sender")).get("id")
    if not sender:
        return None
    sender, received_at = str(sender), _received_at(event.get("timestamp"), now)
    if "message" in event:
        message = json_object(event["message"])
        if message.get("is_echo") or not message.get("mid"):
            return None
        text = json_object(message.get("quick_reply")).get("payload") or message.get("text")
        if not text and not message.get("attachments"):
            return None
        files = () if text else _files(message.get("attachments"))
        return Inbound(sender, str(message["mid"]), str(text) if text else None, received_at, files)
    if "postback" in event:
        postback = json_object(event["postback"])
        payload = postback.get("payload") or postback.get("title")
        if not payload:
            return None
        # older Graph versions send postbacks without a mid: the sender and time identify them as well
        message_id = postback.get("mid") or f"postback:{sender}:{event.get('timestamp')}"
        return Inbound(sender, str(message_id), str(payload), received_at)
    return None  # delivery and read receipts, reactions, referrals: nothing to answer


def inbound_messages(payload: dict[str, Any]) -> list[Inbound]:
    """Every message and postback of every entry of a webhook post, echoes and receipts left out."""
    now = datetime.now(timezone.utc)
    found = []
    for entry in payload.get("entry") or []:
        for event in json_object(entry).get("messaging") or []:
            inbound = _inbound(json_object(event), now)
            if inbound is not None:
                found.append(inbound)
    return found


def outbox_for(api: SendApi, engine: sa.engine.Engine, comments: CommentReplies | None = None) -> Outbox:
    """The channel's outbox: each stored part is one Send API message with its messaging type and tag, or
    a private reply to a comment."""

    async def send_part(psid: str, part: dict[str, Any]) -> Attempt:
        if "comment_id" in part and comments is not None:
            return await comments.deliver(part)
        if "file" in part:  # an agent's picture or PDF, read from the attachment store at each try
            stored = await asyncio.to_thread(read_file, part["file"]["id"])
            return await api.send_file(psid, stored, part["messaging_type"], part.get("tag"))
        return await api.send_message(psid, part["message"], part["messaging_type"], part.get("tag"))

    return Outbox(OutboxStore(engine), CHANNEL, send_part)


class MessengerOutput(OutputChannel):
    """Sends through the outbox and the Send API: long texts split, buttons as quick replies, agents named,
    products as cards (generic template), other pictures as image messages."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self, outbox: Outbox, window: MessagingWindow | None = None, human_agent: bool | None = None) -> None:
        self.outbox = outbox
        self._window = window  # the process's store (messaging_window()) unless given
        self._human_agent = current_settings().messenger_human_agent if human_agent is None else human_agent

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Rasa addresses its tracker key (``fb:<psid>``); the Send API wants the PSID. A product's card
        (``elements``, bot/catalog/cards.py) replaces its bare picture when Facebook can fetch the picture;
        otherwise the words go alone."""
        sent = file_of(message)
        psid = platform_id(self.name(), recipient_id)
        if sent is None:
            message = dict(message)
            if message.get("elements") and all(public_picture(card) for card in message["elements"]):
                message.pop("image", None)
            else:
                message.pop("elements", None)
            await super().send_response(psid, message)
            return
        extra = {"file": dict(sent)}  # an agent's file: one stored message, its caption and then the file
        await self._deliver(psid, str(message.get("text") or ""), [], message.get("agent"), message.get("timestamp"),
                            extra)  # fmt: skip

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._deliver(recipient_id, text, [], kwargs.get("agent"), kwargs.get("timestamp"))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._deliver(recipient_id, text, buttons, kwargs.get("agent"), kwargs.get("timestamp"))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """A picture (a product's) after the words, as an image message Facebook fetches itself: only a full
        https link can be fetched, so a path of the bot's own server is left out (the words carry the facts).
        Its outbox row has no Rasa timestamp: the desk's transcript line is the text's."""
        if not image.startswith("https://"):
            return
        message = {"attachment": {"type": "image", "payload": {"url": image, "is_reusable": True}}}
        await self.outbox.send(
            namespaced(CHANNEL, recipient_id), [{"message": message, "messaging_type": "RESPONSE"}], None
        )

    async def send_elements(self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any) -> None:
        """Products' cards after the words, as one generic template (at most 10 cards of at most 3 buttons, the
        Send API's limits); like the picture it replaces, its outbox row has no Rasa timestamp."""
        cards = [generic_element(card) for card in list(elements)[:MAX_CARDS]]
        message = {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": cards}}}
        await self.outbox.send(
            namespaced(CHANNEL, recipient_id), [{"message": message, "messaging_type": "RESPONSE"}], None
        )

    async def _deliver(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], agent: str | None, sent_at: float | None,
        extra: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        """One stored message; ``sent_at`` (Rasa's timestamp of the bot event) ties it to the desk's transcript."""
        text, quick_replies = with_quick_replies(text or "", buttons)
        if agent:
            text = f"{agent}: {text}"  # the customer sees which person writes
        last_inbound = await asyncio.to_thread((self._window or messaging_window()).last_inbound, recipient_id)
        how = delivery(bool(agent), last_inbound, datetime.now(timezone.utc), self._human_agent)
        conversation = namespaced(CHANNEL, recipient_id)
        if isinstance(how, Refusal):
            await self.outbox.refuse(conversation, sent_at, how.code, how.reason)
            return
        messaging_type, tag = how
        pieces = split_text(text, MAX_TEXT)
        parts = []
        for number, piece in enumerate(pieces, start=1):
            message: dict[str, Any] = {"text": piece}
            if quick_replies and number == len(pieces):
                message["quick_replies"] = quick_replies
            parts.append({"message": message, "messaging_type": messaging_type, "tag": tag})
        if extra:
            parts.append({**extra, "messaging_type": messaging_type, "tag": tag})
        if parts:
            await self.outbox.send(conversation, parts, sent_at)


class MessengerInput(PushChannel):
    """The webhook Facebook calls; off (503) until the app secret and page token are configured."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None  # Rasa's raise_missing_credentials_exception never returns
        return cls(
            verify_token=str(credentials.get("verify_token") or ""),
            app_secret=str(credentials.get("app_secret") or ""),
            page_access_token=str(credentials.get("page_access_token") or ""),
            graph_url=str(credentials.get("graph_url") or DEFAULT_GRAPH_URL),
            comment_rules=CommentRules.from_credentials(credentials),
        )

    def __init__(
        self, verify_token: str, app_secret: str, page_access_token: str, graph_url: str,
        comment_rules: CommentRules | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self._verify_token = verify_token
        self._app_secret = app_secret
        self._api = SendApi(graph_url, page_access_token) if app_secret and page_access_token else None
        rules = comment_rules or CommentRules()
        self.comments = CommentReplies(self._api, rules, answer=catalog_answer) if self._api else None
        self._outbox = outbox_for(self._api, engine_for(database_url()), self.comments) if self._api else None

    def get_output_channel(self) -> OutputChannel | None:
        """Used by Rasa's HTTP API (the desk's agent replies), where no webhook request exists."""
        return MessengerOutput(self._outbox) if self._outbox else None

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint("messenger_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self._api else "off"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if self._api is None:
                return _off()
            token = request.args.get("hub.verify_token", "")
            if (
                request.args.get("hub.mode") == "subscribe"
                and self._verify_token
                and hmac.compare_digest(token.encode(), self._verify_token.encode())
            ):
                return response.text(request.args.get("hub.challenge", ""))
            logger.warning("messenger: webhook verification refused, hub.verify_token does not match FB_VERIFY_TOKEN")
            return response.json({"error": "verification failed"}, status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            api, outbox = self._api, self._outbox
            if api is None or outbox is None:
                return _off()
            if not valid_signature(self._app_secret, request.body, request.headers.get(SIGNATURE_HEADER, "")):
                logger.warning("messenger: refused a post without a valid %s", SIGNATURE_HEADER)
                return response.json({"error": "invalid signature"}, status=403)
            try:
                payload = json.loads(request.body)
            except ValueError:
                return response.json({"error": "body is not JSON"}, status=400)
            if not isinstance(payload, dict):
                return response.json({"error": "body is not a JSON object"}, status=400)
            if payload.get("object") != "page":  # e.g. instagram, user: acknowledged, or Meta keeps resending it
                logger.info("messenger: a post about %r acknowledged and ignored", str(payload.get("object"))[:32])
                return response.text("EVENT_RECEIVED")
            deliveries = [
                Delivery(inbound.sender_id, inbound.message_id,
                         partial(_answer_one, api, outbox, inbound, on_new_message))
                for inbound in inbound_messages(payload)
            ]  # fmt: skip
            deliveries += [
                Delivery(f"comment:{comment.author_id}", f"comment:{comment.comment_id}",
                         partial(_answer_comment, self.comments, outbox, comment))
                for comment in (page_comments(payload) if self.comments else [])
            ]  # fmt: skip
            if not await self.admit(deliveries):
                return self.unavailable()
            return response.text("EVENT_RECEIVED")

        @webhook.listener("after_server_start")
        async def start_outbox(app: Any, _: Any) -> None:
            if self.comments is not None:  # Rasa loads it before the server starts
                self.comments.agent = getattr(app.ctx, "agent", None)
            if self._outbox is not None:
                self._outbox.start()  # retries, and what an earlier run of the server left pending

        @webhook.listener("before_server_stop")
        async def stop_outbox(*_: Any) -> None:
            if self._outbox is not None:
                await self._outbox.stop()

        @webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            if self._api is not None:
                await self._api.close()

        return webhook


async def _answer_one(api: SendApi, outbox: Outbox, inbound: Inbound, on_new_message: OnNewMessage) -> None:
    """One admitted message: the messaging window noted, the door guard passed, then a Rasa turn."""
    try:
        await asyncio.to_thread(messaging_window().record, inbound.sender_id, inbound.received_at)
    except sa.exc.SQLAlchemyError as error:  # only agents' late replies need it: the customer is answered anyway
        logger.warning("messenger: the time of %s's message was not noted (%s)", mask_id(inbound.sender_id),
                       type(error).__name__)  # fmt: skip
    output = MessengerOutput(outbox)
    sender = namespaced(CHANNEL, inbound.sender_id)
    if await turned_away(door_guard(), output, sender, inbound.text or ""):
        return
    await api.sender_action(inbound.sender_id, "typing_on")
    try:
        if inbound.files:
            await _answer_files(output, inbound, sender, on_new_message)
        elif inbound.text is None:
            await output.send_text_message(inbound.sender_id, TEXT_ONLY)  # no NLU for stickers, voice, video
        else:
            message = UserMessage(inbound.text, output, sender, input_channel=CHANNEL, message_id=inbound.message_id)
            await take_turn(on_new_message, message)
    finally:
        await api.sender_action(inbound.sender_id, "typing_off")


async def _answer_comment(comments: CommentReplies | None, outbox: Outbox, comment: Comment) -> None:
    """One admitted comment: counted by the door guard per author like a message, then answered or not."""
    if comments is None:
        return
    if door_guard().check(namespaced(CHANNEL, f"comment:{comment.author_id}"), comment.text) is not None:
        logger.info("messenger: a comment of %s was not answered (too long or too many)", mask_id(comment.author_id))
        return
    await comments.handle(comment, outbox)


async def _answer_files(output: MessengerOutput, inbound: Inbound, sender: str, on_new_message: OnNewMessage) -> None:
    """The pictures and files of one message as one turn; what could not be kept is said to the person."""
    refusal = door_guard().check_upload(sender)
    if refusal is not None:
        await output.send_text_message(inbound.sender_id, refusal.text)
        return
    stored, reasons = await fetch_and_save(inbound.files, CHANNEL, sender)
    for reason in reasons:
        await output.send_text_message(inbound.sender_id, reason)
    if stored:
        await take_turn(on_new_message, attachment_turn(stored, output, sender, CHANNEL, inbound.message_id))


def _off() -> HTTPResponse:
    return response.json(
        {"error": "Messenger is not configured: set FB_APP_SECRET and FB_PAGE_ACCESS_TOKEN"}, status=503
    )
