"""Zalo Official Account channel: ``/webhooks/zalo/webhook`` in, OA consultation messages out.

Zalo signs each webhook (``X-ZEvent-Signature: mac=<sha256 of app id, raw body,
timestamp and secret>``; which id and which secret is reported both ways, so both are
configurable and the log names the pair that matched) and sends it again unless it gets
HTTP 200 within about two seconds, at about 30 s, 5 min, 15 min, 30 min and 1 h. So a
request is accepted until that retry horizon (``max_age_seconds``, 2 h), recorded as seen
(redeliveries are dropped by ``msg_id``; a 500 when that fails, so Zalo sends it again) and
answered at once; Rasa handles the message in the background, one customer's messages in
order, and replies through the OA API (connectors/zalo_client.py). That part is
shared with Messenger: connectors/core.py. Every reply is stored in the outbox before it is sent
(connectors/outbox.py), so a failed send is retried or, refused for good, shown to the agent.

Zalo's consultation text messages have no buttons: the bot's buttons become a
numbered list, and a customer who answers with just the number ("2", "số 2")
sends that button's payload. Only text reaches the NLU. Pictures and files
(``user_send_image``, ``user_send_file``) are downloaded from Zalo's CDN, checked and
stored, and become the customer's turn (connectors/inbound_files.py), which the bot and
an agent see; a caption sent with a picture follows as a text turn. For stickers, voice,
videos and the like the bot asks the customer to type instead, unless an agent has the
conversation, who then sees what was sent.

Each user event notes the user's last interaction with the OA (bot/messaging_windows.py):
Zalo's consultation messages are free for 48 h after it, may be billed up to 7 days
(``CSKH_ZALO_PAID_REPLIES``: warn, allow or block) and are refused after that (-230), so
a message Zalo would refuse, or the shop does not want to pay for, is not sent: it is
recorded as failed with the reason for the agent.

Rasa knows the customer as ``zalo:<user id>`` (bot/senders.py): no other channel can
name that conversation. Every message passes the door guard (connectors/guard.py) per
customer: over-long texts are answered politely without reaching the NLU, and a burst is
told once to slow down and then dropped.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
import unicodedata
from datetime import datetime, timezone
from functools import partial
from typing import Any

import sqlalchemy as sa
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.database import database_url, engine_for
from bot.handoff_protocol import file_of
from bot.messaging_windows import PAID, LastInteractions, WindowRules, zalo_window
from bot.migrations import ensure_schema
from bot.outbox import OutboxStore
from bot.privacy import mask_id
from bot.schema import zalo_choices_table as choices_table
from bot.senders import namespaced, platform_id
from bot.settings import current_settings
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
from connectors.outbox import Attempt, Outbox
from connectors.zalo_client import TokenStore, ZaloClient, ZaloConfig
from connectors.zalo_zns import send_template

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-ZEvent-Signature"
TEXT_EVENT = "user_send_text"
FOLLOW_EVENT = "follow"
FILE_EVENTS = frozenset({"user_send_image", "user_send_file"})  # kept: downloaded, checked, stored
# What the customer sent, as the bot names it ("Mình đã nhận được hình ảnh ...").
MEDIA_KINDS = {
    "user_send_image": "hình ảnh",
    "user_send_gif": "ảnh động",
    "user_send_sticker": "nhãn dán",
    "user_send_file": "tệp",
    "user_send_audio": "tin nhắn thoại",
    "user_send_video": "video",
    "user_send_location": "vị trí",
    "user_send_link": "đường link",
    "user_send_business_card": "danh thiếp",
}
GREET = "/greet"  # a new follower hears the bot's own greeting

ONLY_TEXT = (
    "Mình đã nhận được {kind} bạn gửi, nhưng hiện mình chỉ đọc được tin nhắn chữ thôi ạ. "
    "Bạn gõ câu hỏi giúp mình nhé. Nếu cần nhân viên xem hình ảnh hay tệp, bạn nhắn “gặp nhân viên”, "
    "khi nhân viên vào hỗ trợ thì bạn gửi lại giúp mình nha."
)
CHOOSE_BY_NUMBER = "(Bạn nhắn số thứ tự để chọn nhé.)"

CHOICE = re.compile(r"^(?:(?:số|so|chọn|chon)\s*)?(\d{1,2})\s*[.)]?$")


def mac_for(first: str, raw_body: bytes, timestamp: str, secret: str) -> str:
    """The signature Zalo puts in ``X-ZEvent-Signature``: plain SHA-256 (not an HMAC) of id, body, time, secret."""
    return "mac=" + hashlib.sha256(first.encode() + raw_body + timestamp.encode() + secret.encode()).hexdigest()


def matching_terms(config: ZaloConfig, raw_body: bytes, timestamp: str, signature: str) -> str | None:
    """``"<id name> + <secret name>"`` of the configured pair that signed the body, or None. Every pair is
    compared, in constant time, whichever matches."""
    given, found = signature.strip().encode(), None
    for id_name, first, secret_name, secret in config.signature_terms():
        if hmac.compare_digest(given, mac_for(first, raw_body, timestamp, secret).encode()) and found is None:
            found = f"{id_name} + {secret_name}"
    return found


def numbered(text: str, buttons: list[dict[str, Any]]) -> str:
    """The message with its buttons as a list the customer answers by number."""
    lines = [f"{number}. {button.get('title') or button.get('payload')}" for number, button in enumerate(buttons, 1)]
    return "\n\n".join([text, "\n".join(lines), CHOOSE_BY_NUMBER])


def chosen(text: str, buttons: list[dict[str, Any]]) -> str:
    """The payload of the button the customer picked by number, or their text unchanged."""
    found = CHOICE.match(unicodedata.normalize("NFC", text).strip().lower())
    if found and 1 <= int(found.group(1)) <= len(buttons):
        return str(buttons[int(found.group(1)) - 1].get("payload") or text)
    return text


class ChoiceStore:
    """The buttons last offered to each customer, valid for their next message (synchronous)."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        ensure_schema(engine)

    def offer(self, user_id: str, buttons: list[dict[str, Any]]) -> None:
        values = {"buttons": json.dumps(buttons, ensure_ascii=False), "saved_at": time.time()}
        update = choices_table.update().where(choices_table.c.user_id == user_id).values(**values)
        with self._engine.begin() as connection:
            if connection.execute(update).rowcount:
                return
            try:
                with connection.begin_nested():
                    connection.execute(choices_table.insert().values(user_id=user_id, **values))
            except sa.exc.IntegrityError:  # offered concurrently: the later one wins
                connection.execute(update)

    def take(self, user_id: str) -> list[dict[str, Any]]:
        """The offered buttons, forgotten at once: a number in any later message is just a number."""
        where = choices_table.c.user_id == user_id
        with self._engine.begin() as connection:
            stored = connection.execute(sa.select(choices_table.c.buttons).where(where)).scalar()
            if stored is None:
                return []
            connection.execute(choices_table.delete().where(where))
        return json.loads(stored)


def outbox_for(client: ZaloClient, engine: sa.engine.Engine) -> Outbox:
    """The channel's outbox: each stored part is one consultation text, an agent's file to upload and send, a
    product's picture by its link or an order update's ZNS message."""

    async def send_part(user_id: str, part: dict[str, Any]) -> Attempt:
        if "file" in part:  # an agent's picture or PDF, read from the attachment store at each try
            return await client.send_file(user_id, await asyncio.to_thread(read_file, part["file"]["id"]))
        if "zns" in part:  # an order update outside the consultation window (bot/order_updates.py)
            return await send_template(client, part["zns"])
        if "picture" in part:  # a product's picture by its public link
            return await client.send_picture(user_id, str(part["picture"]))
        return await client.send_text(user_id, str(part["text"]))

    return Outbox(OutboxStore(engine), "zalo", send_part)


class ZaloOutput(OutputChannel):
    """Texts to one customer through the outbox and the OA API; agents' messages carry the agent's name."""

    @classmethod
    def name(cls) -> str:
        return "zalo"

    def __init__(
        self, outbox: Outbox, choices: ChoiceStore, text_limit: int, interactions: LastInteractions | None = None,
        rules: WindowRules | None = None,
    ) -> None:  # fmt: skip
        self._outbox = outbox
        self._choices = choices
        self._text_limit = text_limit
        self._interactions = interactions
        self._rules = rules or WindowRules.of(current_settings())

    async def _sent_within_window(self, conversation: str, parts: list[dict[str, Any]], sent_at: Any) -> None:
        """Sends, unless Zalo would refuse it (7 days since the user's last interaction) or the shop does not
        send billable messages (48 h–7 d, ``block``): then it is recorded as failed, with the reason."""
        if self._interactions is not None:
            last = await asyncio.to_thread(self._interactions.zalo, platform_id(self.name(), conversation))
            window = zalo_window(last, datetime.now(timezone.utc), self._rules.zalo_paid)
            if window.blocked:
                await self._outbox.refuse(conversation, sent_at, f"zalo:window:{window.state}", window.notice)
                return
            if window.state == PAID:
                logger.info("zalo: a message to %s may be billed (48 h-7 d since the last interaction)",
                            mask_id(platform_id(self.name(), conversation)))  # fmt: skip
        await self._outbox.send(conversation, parts, sent_at)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Rasa addresses its tracker key (``zalo:<user id>``); the OA API wants the user id. An agent's file
        leaves as one stored message: its caption, then the file."""
        sent = file_of(message)
        if sent is None:
            await super().send_response(platform_id(self.name(), recipient_id), message)
            return
        text = str(message.get("text") or "")
        if message.get("agent"):
            text = f"{message['agent']}: {text}"
        parts: list[dict[str, Any]] = [{"text": part} for part in split_text(text, self._text_limit)]
        parts.append({"file": dict(sent)})
        user_id = platform_id(self.name(), recipient_id)
        await self._sent_within_window(namespaced(self.name(), user_id), parts, message.get("timestamp"))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """One stored message of one or more parts; ``timestamp`` (Rasa's, of the bot event) ties it to the
        desk's transcript line."""
        if kwargs.get("agent"):
            text = f"{kwargs['agent']}: {text}"
        parts = [{"text": part} for part in split_text(text, self._text_limit)]
        if parts:
            await self._sent_within_window(namespaced(self.name(), recipient_id), parts, kwargs.get("timestamp"))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        if buttons:  # Rasa's send_elements passes elements without buttons too
            await asyncio.to_thread(self._choices.offer, recipient_id, buttons)
            text = numbered(text, buttons)
        await self.send_text_message(recipient_id, text, **kwargs)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """A product's picture after the words, as a media message Zalo fetches from the link: only a public
        https link can be fetched, so a path of the bot's own server is left out (the words carry the facts)."""
        if image.startswith("https://"):
            await self._sent_within_window(namespaced(self.name(), recipient_id), [{"picture": image}], None)

    async def send_elements(self, recipient_id: str, elements: Any, **kwargs: Any) -> None:
        """A product's card: Zalo shows its picture (``send_image_url``) under the words, which say what the
        card would; its buttons are the words' own numbered choices."""

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(self, recipient_id: str, json_message: Any, **kwargs: Any) -> None:
        logger.warning("zalo: a custom payload for %s was not sent (text only on Zalo)", mask_id(recipient_id))


class RejectedError(Exception):
    """A webhook request that is not from Zalo, or no longer fresh."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class ZaloInput(PushChannel):
    """The channel named in credentials.yml as ``connectors.zalo.ZaloInput``."""

    @classmethod
    def name(cls) -> str:
        return "zalo"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "ZaloInput":
        return cls(ZaloConfig.from_mapping(credentials or {}))

    def __init__(self, config: ZaloConfig) -> None:
        super().__init__()
        self.config = config
        self._client: ZaloClient | None = None
        self._choices: ChoiceStore | None = None
        self._outbox: Outbox | None = None
        self._interactions: LastInteractions | None = None
        self._signed_with: str | None = None  # the signature terms that matched last (names only), for the log
        if config.enabled:
            engine = engine_for(database_url())
            self._interactions = LastInteractions(engine)
            tokens = TokenStore(engine, config.app_id, config.access_token, config.refresh_token)
            self._client = ZaloClient(config, tokens)
            self._choices = ChoiceStore(engine)
            self._outbox = outbox_for(self._client, engine)

    def get_output_channel(self) -> ZaloOutput | None:
        """Also what Rasa uses for agents' replies (``output_channel=latest``), outside any request."""
        if self._outbox is None or self._choices is None:
            return None
        return ZaloOutput(self._outbox, self._choices, self.config.text_limit, self._interactions)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint("zalo_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.config.enabled else "not configured"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.config.enabled:
                return response.json({"error": "the Zalo channel is not configured"}, status=503)
            try:
                event = self.verified_event(request.body, request.headers.get(SIGNATURE_HEADER, ""))
            except RejectedError as rejected:
                logger.warning("zalo: webhook rejected: %s", rejected.reason)
                return response.json({"error": rejected.reason}, status=rejected.status)
            delivery = self._delivery_for(event, request.app, on_new_message)
            if delivery is None:
                return response.json({"status": "ignored"})
            await self._note_interaction(delivery.sender, event)
            if not await self.admit([delivery]):  # handled after the 200: Zalo waits about 2 s only
                return self.unavailable()
            return response.json({"status": "ok"})

        @webhook.listener("after_server_start")
        async def start_outbox(_: Sanic, __: Any) -> None:
            if self._outbox is not None:
                self._outbox.start()  # retries, and what an earlier run of the server left pending

        @webhook.listener("before_server_stop")
        async def stop_outbox(_: Sanic, __: Any) -> None:
            if self._outbox is not None:
                await self._outbox.stop()

        @webhook.listener("after_server_stop")
        async def close_client(_: Sanic, __: Any) -> None:
            if self._client is not None:
                await self._client.close()

        return webhook

    async def _note_interaction(self, sender: str, event: dict[str, Any]) -> None:
        """The user's last interaction, at the event's time (a retry's is its first delivery's), never later
        than now; a database failure only costs the window's accuracy, the message is still handled."""
        if self._interactions is None:
            return
        try:
            at = min(datetime.fromtimestamp(int(str(event.get("timestamp"))) / 1000, timezone.utc),
                     datetime.now(timezone.utc))  # fmt: skip
            await asyncio.to_thread(self._interactions.record_zalo, sender, at)
        except (ValueError, OverflowError, OSError, sa.exc.SQLAlchemyError) as error:
            logger.warning("zalo: the interaction of %s was not noted (%s)", mask_id(sender), type(error).__name__)

    def verified_event(self, raw_body: bytes, signature: str) -> dict[str, Any]:
        """The webhook's event if Zalo signed it and its time is within Zalo's retry horizon (``max_age_seconds``
        back, ``max_future_seconds`` ahead); raises ``RejectedError`` otherwise."""
        try:
            event = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            raise RejectedError(400, "the body is not JSON") from None
        if not isinstance(event, dict):
            raise RejectedError(400, "the body is not a JSON object")
        timestamp = str(event.get("timestamp", ""))
        signed_with = matching_terms(self.config, raw_body, timestamp, signature)
        if signed_with is None:
            raise RejectedError(401, "missing or wrong signature")
        if signed_with != self._signed_with:  # names only, once per change: which of the reported schemes Zalo uses
            logger.info("zalo: webhook signature matched with %s", signed_with)
            self._signed_with = signed_with
        try:
            age = time.time() - int(timestamp) / 1000
        except ValueError:
            raise RejectedError(400, "the timestamp is not a number") from None
        if age > self.config.max_age_seconds:
            raise RejectedError(403, "stale request: older than Zalo's retries")
        if -age > self.config.max_future_seconds:
            raise RejectedError(403, "stale request: its time is in the future")
        return event

    def _delivery_for(self, event: dict[str, Any], app: Sanic, on_new_message: OnNewMessage) -> Delivery | None:
        """Whose event it is and what to do once it is admitted; None for receipts and the like."""
        name = event.get("event_name")
        message = json_object(event.get("message"))
        who = event.get("follower") if name == FOLLOW_EVENT else event.get("sender")
        sender = str((who if isinstance(who, dict) else {}).get("id") or "")
        text = str(message.get("text") or "") if name == TEXT_EVENT else ""
        message_id = _delivery_id(event)
        if not sender:
            return None
        if name == FOLLOW_EVENT:
            return Delivery(sender, message_id, partial(self._turn, on_new_message, sender, GREET, message_id))
        if name == TEXT_EVENT and text.strip():
            return Delivery(sender, message_id, partial(self._answer_text, on_new_message, sender, text, message_id))
        if name in FILE_EVENTS:
            handle = partial(self._answer_files, app, on_new_message, sender, name, message, message_id)
            return Delivery(sender, message_id, handle)
        if name in MEDIA_KINDS:
            handle = partial(self._answer_media, app, on_new_message, sender, name, message, message_id)
            return Delivery(sender, message_id, handle)
        return None

    def _output(self) -> "ZaloOutput":
        """Only enabled channels get as far as handling a message."""
        output = self.get_output_channel()
        assert output is not None
        return output

    def _offered_choices(self) -> ChoiceStore:
        """Only enabled channels get as far as handling a message."""
        assert self._choices is not None
        return self._choices

    async def _answer_text(self, on_new_message: OnNewMessage, sender: str, text: str, message_id: str) -> None:
        if await turned_away(door_guard(), self._output(), namespaced(self.name(), sender), text):
            return
        offered = await asyncio.to_thread(self._offered_choices().take, sender)
        await self._turn(on_new_message, sender, chosen(text, offered), message_id)

    async def _answer_media(
        self, app: Sanic, on_new_message: OnNewMessage, sender: str, name: str,
        message: dict[str, Any], message_id: str,
    ) -> None:  # fmt: skip
        output = self._output()
        if await turned_away(door_guard(), output, namespaced(self.name(), sender), ""):
            return
        tracker = await app.ctx.agent.tracker_store.retrieve(namespaced(self.name(), sender))
        if tracker is not None and tracker.is_paused():  # an agent (or the queue) has it: show them, no NLU
            note = _media_note(MEDIA_KINDS[name], message)
            await self._turn(on_new_message, sender, note, message_id, _noted(note))
            return
        await output.send_text_message(sender, ONLY_TEXT.format(kind=MEDIA_KINDS[name]))

    async def _answer_files(
        self, app: Sanic, on_new_message: OnNewMessage, sender: str, name: str,
        message: dict[str, Any], message_id: str,
    ) -> None:  # fmt: skip
        """The pictures or files of one message as one turn; what could not be kept is said to the customer."""
        output, key = self._output(), namespaced(self.name(), sender)
        if await turned_away(door_guard(), output, key, ""):
            return
        refusal = door_guard().check_upload(key)
        if refusal is not None:
            await output.send_text_message(sender, refusal.text)
            return
        links = []
        for attachment in message.get("attachments") or []:
            payload = json_object(json_object(attachment).get("payload"))
            if isinstance(payload.get("url"), str):
                links.append((payload["url"], str(payload.get("name") or "")))
        stored, reasons = await fetch_and_save(links, self.name(), key)
        for reason in reasons:
            await output.send_text_message(sender, reason)
        if stored:
            await take_turn(on_new_message, attachment_turn(stored, output, key, self.name(), message_id))
        elif reasons:
            tracker = await app.ctx.agent.tracker_store.retrieve(key)
            if tracker is not None and tracker.is_paused():  # the agent still learns that something came
                await self._turn(on_new_message, sender, _media_note(MEDIA_KINDS[name], message), message_id,
                                 _noted(_media_note(MEDIA_KINDS[name], message)))  # fmt: skip
        caption = str(message.get("text") or "").strip()
        if caption:
            await self._answer_text(on_new_message, sender, caption, f"{message_id}:caption")

    async def _turn(
        self, on_new_message: OnNewMessage, sender: str, text: str, message_id: str,
        parse_data: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        message = UserMessage(
            text, self._output(), namespaced(self.name(), sender), parse_data=parse_data, input_channel=self.name(),
            message_id=message_id,
        )  # fmt: skip
        await take_turn(on_new_message, message)


def _delivery_id(event: dict[str, Any]) -> str:
    """Zalo's message id; follows (which have none) by follower and time."""
    message = json_object(event.get("message"))
    if message.get("msg_id"):
        return str(message["msg_id"])
    who = (event.get("sender") or event.get("follower") or {}).get("id")
    return f"{event.get('event_name')}:{who}:{event.get('timestamp')}"


def _noted(note: str) -> dict[str, Any]:
    """Parse data for a note that has no words to classify."""
    return {"text": note, "intent": {"name": "nlu_fallback", "confidence": 1.0}, "entities": []}


def _media_note(kind: str, message: dict[str, Any]) -> str:
    """A transcript line for the agent: what was sent and where to see it."""
    found = []
    for attachment in message.get("attachments") or []:
        payload = (attachment.get("payload") if isinstance(attachment, dict) else None) or {}
        if payload.get("url"):
            found.append(str(payload["url"]))
        elif isinstance(payload.get("coordinates"), dict):
            found.append(f"{payload['coordinates'].get('latitude')}, {payload['coordinates'].get('longitude')}")
    return " ".join([f"[Khách gửi {kind}]", *found, str(message.get("text") or "")]).strip()
