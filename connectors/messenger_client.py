"""The Messenger Send API and its limits, for ``connectors.messenger``.

Facebook answers a failed call with ``{"error": {"message", "type", "code",
"error_subcode", "fbtrace_id"}}``. A message's send answers with an ``Attempt``
(connectors/outbox.py): a rate limit (4, 32, 613; retried no sooner than its
``Retry-After`` or the ``estimated_time_to_regain_access`` of the usage header
says), Facebook's temporary errors (1, 2, 1200), HTTP 5xx and network failures
are worth retrying; an invalid token, a closed messaging window or a person who
cannot be reached are not: sending again would fail the same way. Each ends with
a log line (recipient masked, token never) and, for the agent, a reason in
Vietnamese. The page token travels only in the query string of the request
itself, never in a log line or exception text.
"""

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.privacy import mask_id, redact
from connectors.files import MISSING_REASON, StoredFile
from connectors.outbox import DELIVERED, Attempt, refused, retry_later

logger = logging.getLogger(__name__)

MAX_TEXT = 2000  # characters in one message (the Send API refuses more); longer texts are split
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_QUICK_REPLY_PAYLOAD = 1000
# the generic template (developers.facebook.com/docs/messenger-platform/send-messages/template/generic)
MAX_CARDS, MAX_CARD_TEXT, MAX_CARD_BUTTONS = 10, 80, 3  # a button title: 20, as a quick reply's
RATE_LIMIT_CODES = frozenset({4, 32, 613})
TEMPORARY_CODES = frozenset({1, 2, 1200})  # Facebook's "try again later" errors
INVALID_TOKEN = 190
OUTSIDE_WINDOW = (10, 2018278)
WINDOW_SUBCODES = frozenset({2018278, 2018108, 2018065})  # code 10: sent outside the allowed window
USER_UNAVAILABLE = 551
# private replies to comments (connectors/messenger_comments.py): one per comment, within 7 days
ALREADY_REPLIED = 10900  # "Activity already replied to"
CANNOT_REPLY = 10903  # "This user cant reply to this activity"
TIMEOUT_SECONDS = 10.0
USAGE_HEADER = "X-Business-Use-Case-Usage"  # page tokens' rate limits: JSON per business id
# what the agent reads next to a message Facebook did not take (bot/desk/console.py)
RATE_LIMITED_REASON = "Facebook đang giới hạn số tin trang được gửi."
TEMPORARY_REASON = "Facebook đang tạm thời gặp lỗi."
UNREACHED_REASON = "Không kết nối được tới Facebook."
TOKEN_REASON = "Mã truy cập của trang Facebook không còn hiệu lực: quản trị viên cần cấp mã mới."
WINDOW_REASON = "Đã quá thời hạn Messenger cho phép trang trả lời khách (khách cần nhắn lại trước)."
REPLIED_REASON = "Bình luận này đã được trả lời riêng trước đó (Facebook chỉ cho một tin)."
CANNOT_REPLY_REASON = "Facebook không cho trang nhắn riêng cho người bình luận này."
UNAVAILABLE_REASON = "Khách hiện không nhận được tin nhắn (có thể đã chặn trang hoặc khoá tài khoản)."
PERMISSION_REASON = "Facebook không cho trang gửi tin này: ứng dụng của trang thiếu quyền (ví dụ quyền Human Agent)."
MORE_CHOICES = "Bạn cũng có thể nhắn cho mình một trong các lựa chọn sau:"


@dataclass(frozen=True)
class SendError:
    """What the Send API said went wrong (or that it could not be reached)."""

    code: int | None
    subcode: int | None = None
    message: str = ""
    fbtrace_id: str | None = None
    status: int | None = None  # HTTP status; None when no answer came
    wait_seconds: float = 0.0  # what Facebook asked to wait before the next call

    @classmethod
    def from_reply(cls, status: int, body: Any, wait_seconds: float = 0.0) -> "SendError":
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls(None, message=f"HTTP {status} without an error object", status=status)
        code, subcode, trace = error.get("code"), error.get("error_subcode"), error.get("fbtrace_id")
        return cls(code, subcode, str(error.get("message", "")), trace, status, wait_seconds)

    def attempt(self) -> Attempt:
        """Whether sending again can help, and what the agent is told."""
        code = f"messenger:{self.code}" + (f"/{self.subcode}" if self.subcode else "")
        if self.code in RATE_LIMIT_CODES:
            return retry_later(code, RATE_LIMITED_REASON, self.wait_seconds)
        if self.code in TEMPORARY_CODES:
            return retry_later(code, TEMPORARY_REASON, self.wait_seconds)
        if self.code is None:
            if self.status is None:
                return retry_later("network", UNREACHED_REASON)
            if self.status >= 500 or self.status == 429:
                return retry_later(f"http:{self.status}", TEMPORARY_REASON, self.wait_seconds)
            return refused(f"http:{self.status}", f"Facebook từ chối tin nhắn (HTTP {self.status}).")
        if self.code == INVALID_TOKEN:
            return refused(code, TOKEN_REASON)
        if self.code == OUTSIDE_WINDOW[0] and self.subcode in WINDOW_SUBCODES:
            return refused(code, WINDOW_REASON)
        if self.code == OUTSIDE_WINDOW[0]:  # code 10 is "permission denied": e.g. HUMAN_AGENT without App Review
            return refused(code, PERMISSION_REASON)
        if self.code == USER_UNAVAILABLE:
            return refused(code, UNAVAILABLE_REASON)
        if self.code == ALREADY_REPLIED:
            return refused(code, REPLIED_REASON)
        if self.code == CANNOT_REPLY:
            return refused(code, CANNOT_REPLY_REASON)
        if self.status is not None and self.status >= 500:
            return retry_later(code, TEMPORARY_REASON, self.wait_seconds)
        return refused(code, f"Facebook từ chối tin nhắn (mã lỗi {code.removeprefix('messenger:')}).")


def asked_wait(headers: Any) -> float:
    """Seconds Facebook asked to wait: ``Retry-After``, or the longest ``estimated_time_to_regain_access``
    (minutes) in the business use case usage header; 0 when it said nothing readable."""
    try:
        retry_after = float(headers.get("Retry-After") or 0)
    except ValueError:
        retry_after = 0.0
    try:
        usage = json.loads(headers.get(USAGE_HEADER) or "{}")
        minutes = [
            float(entry.get("estimated_time_to_regain_access") or 0)
            for entries in usage.values() if isinstance(entries, list)
            for entry in entries if isinstance(entry, dict)
        ]  # fmt: skip
    except (ValueError, TypeError, AttributeError):
        minutes = []
    return max([retry_after, *(60 * m for m in minutes)])


class SendApi:
    """``POST {graph_url}/me/messages`` (and ``/me/message_attachments``) for one page, over one aiohttp session."""

    def __init__(self, graph_url: str, page_access_token: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self._graph_url = graph_url.rstrip("/")
        self._url = graph_url.rstrip("/") + "/me/messages"
        self._upload_url = graph_url.rstrip("/") + "/me/message_attachments"
        self._token = page_access_token
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(3.0, timeout))
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        # created on first use, inside the server's event loop
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send_message(
        self, recipient_id: str, message: dict[str, Any], messaging_type: str = "RESPONSE", tag: str | None = None
    ) -> Attempt:
        """Sends one message; how it went (already logged when it failed), for the outbox to retry or not."""
        body: dict[str, Any] = {"messaging_type": messaging_type, "recipient": {"id": recipient_id}, "message": message}
        if tag:
            body["tag"] = tag
        error = await self._post(body)
        return DELIVERED if error is None else error.attempt()

    async def send_file(
        self, recipient_id: str, stored: StoredFile | None, messaging_type: str = "RESPONSE", tag: str | None = None
    ) -> Attempt:
        """An agent's picture or PDF: uploaded with the Attachment Upload API (``/me/message_attachments``,
        multipart ``message`` + ``filedata``), then sent by its ``attachment_id``. Uploaded again on every try."""
        if stored is None:
            return refused("attachment:missing", MISSING_REASON)
        kind = "image" if stored.kind == "image" else "file"
        form = aiohttp.FormData()
        form.add_field("message", json.dumps({"attachment": {"type": kind, "payload": {"is_reusable": False}}}))
        form.add_field("filedata", stored.data, filename=stored.name, content_type=stored.mime)
        uploaded: dict[str, Any] = {}
        error = await self._post_once(form, self._upload_url, uploaded)
        if error is None and not uploaded.get("attachment_id"):
            error = SendError(None, message="upload answered without an attachment_id", status=200)
        if error is not None:
            _log(error, recipient_id)
            return error.attempt()
        message = {"attachment": {"type": kind, "payload": {"attachment_id": str(uploaded["attachment_id"])}}}
        return await self.send_message(recipient_id, message, messaging_type, tag)

    async def private_reply(self, comment_id: str, message: dict[str, Any]) -> tuple[Attempt, str | None]:
        """The page's one Messenger message to the author of a comment (Send API, ``recipient: {comment_id}``);
        with it delivered, the PSID Facebook answers with: the person's Messenger conversation from then on."""
        body = {"messaging_type": "RESPONSE", "recipient": {"comment_id": comment_id}, "message": message}
        answer: dict[str, Any] = {}
        error = await self._post_once(body, None, answer)
        if error is not None:
            _log(error, comment_id)
            return error.attempt(), None
        psid = answer.get("recipient_id")
        return DELIVERED, str(psid) if psid else None

    async def comment_reply(self, comment_id: str, text: str) -> Attempt:
        """A public reply under the comment (``POST /{comment-id}/comments``, needs pages_manage_engagement)."""
        error = await self._post_once({"message": text}, f"{self._graph_url}/{comment_id}/comments")
        if error is not None:
            _log(error, comment_id)
        return DELIVERED if error is None else error.attempt()

    async def sender_action(self, recipient_id: str, action: str) -> bool:
        """``typing_on``, ``typing_off`` or ``mark_seen``: best effort, never retried."""
        return await self._post({"recipient": {"id": recipient_id}, "sender_action": action}) is None

    async def _post(self, body: dict[str, Any]) -> SendError | None:
        error = await self._post_once(body)
        if error is not None:
            _log(error, body["recipient"]["id"])
        return error

    async def _post_once(
        self, body: dict[str, Any] | aiohttp.FormData, url: str | None = None, answer: dict[str, Any] | None = None
    ) -> SendError | None:
        """None when Facebook took the request (its JSON answer put in ``answer``), else what went wrong."""
        sent: dict[str, Any] = {"data": body} if isinstance(body, aiohttp.FormData) else {"json": body}
        try:
            async with self._http().post(url or self._url, params={"access_token": self._token}, **sent) as reply:
                if reply.status < 400:
                    if answer is not None:
                        taken = await reply.json(content_type=None)
                        answer.update(taken if isinstance(taken, dict) else {})
                    return None
                try:
                    payload = await reply.json(content_type=None)
                except ValueError:
                    payload = None
                return SendError.from_reply(reply.status, payload, asked_wait(reply.headers))
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:  # not the built-in TimeoutError before 3.11
            # the exception's text may hold the URL, and with it the token: log only its type
            return SendError(None, message=f"Send API unreachable ({type(error).__name__})")


def _log(error: SendError, recipient_id: str) -> None:
    who, trace = mask_id(recipient_id), error.fbtrace_id or "-"
    if error.code == INVALID_TOKEN:
        logger.error("messenger: the page token is invalid or expired (code 190, fbtrace %s); renew it", trace)
    elif (error.code, error.subcode) == OUTSIDE_WINDOW:
        logger.warning("messenger: %s wrote too long ago, Messenger refused the message (fbtrace %s)", who, trace)
    elif error.code == USER_UNAVAILABLE:
        logger.warning("messenger: %s cannot receive messages now (code 551, fbtrace %s)", who, trace)
    elif error.code == ALREADY_REPLIED:
        logger.info("messenger: comment %s was already answered privately (code 10900)", who)
    elif error.code in RATE_LIMIT_CODES:
        logger.warning("messenger: rate limited, message to %s not sent now (fbtrace %s)", who, trace)
    else:
        logger.error(
            "messenger: message to %s not sent (code %s/%s, fbtrace %s): %s",
            who, error.code, error.subcode, trace, redact(error.message)[:300],
        )  # fmt: skip


def _shortened(title: str) -> str:
    return title if len(title) <= MAX_QUICK_REPLY_TITLE else title[: MAX_QUICK_REPLY_TITLE - 1].rstrip() + "…"


def generic_element(card: dict[str, Any]) -> dict[str, Any]:
    """A card (bot/catalog/cards.py) as an element of Messenger's generic template, within its limits: title and
    subtitle of at most 80 characters, at most 3 buttons, each a postback of a title of at most 20 characters
    whose payload comes back as the person's message (connectors/messenger.py reads postbacks)."""
    element: dict[str, Any] = {"title": str(card.get("title") or "")[:MAX_CARD_TEXT]}
    if card.get("subtitle"):
        element["subtitle"] = str(card["subtitle"])[:MAX_CARD_TEXT]
    if card.get("image_url"):
        element["image_url"] = str(card["image_url"])
    buttons = [
        {"type": "postback", "title": _shortened(str(b["title"])), "payload": str(b["payload"])}
        for b in card.get("buttons") or []
        if b.get("title") and 0 < len(str(b.get("payload") or "")) <= MAX_QUICK_REPLY_PAYLOAD
    ]
    if buttons:
        element["buttons"] = buttons[:MAX_CARD_BUTTONS]
    return element


def with_quick_replies(text: str, buttons: list[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    """Rasa buttons as Messenger quick replies; what does not fit is listed, numbered, in the text.

    Quick replies hold at most 13 buttons, 20 characters of title and a plain
    payload; a link button or a 14th button becomes a line the customer can read.
    """
    replies: list[dict[str, str]] = []
    listed: list[str] = []
    for number, button in enumerate(buttons, start=1):
        title = str(button.get("title") or button.get("payload") or "").strip()
        payload = str(button.get("payload") or "")
        if button.get("url"):
            listed.append(f"{number}. {title}: {button['url']}")
        elif len(replies) < MAX_QUICK_REPLIES and title and 0 < len(payload) <= MAX_QUICK_REPLY_PAYLOAD:
            replies.append({"content_type": "text", "title": _shortened(title), "payload": payload})
        elif title:
            listed.append(f"{number}. {title}")
    if listed:
        text = "\n\n".join([text.rstrip(), MORE_CHOICES + "\n" + "\n".join(listed)])
    return text, replies
