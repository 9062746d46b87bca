"""The Messenger Send API and its limits, for ``connectors.messenger``.

Facebook answers a failed call with ``{"error": {"message", "type", "code",
"error_subcode", "fbtrace_id"}}``. A rate limit gets one retry after a short
wait; an invalid token, a closed messaging window or a person who cannot be
reached end the delivery with a log line (recipient masked, token never):
sending again would fail the same way. The page token travels only in the
query string of the request itself, never in a log line or exception text.
"""

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.observability.metrics import rasa_server_metrics
from bot.privacy import mask_id, redact

logger = logging.getLogger(__name__)

MAX_TEXT = 2000  # characters in one message (the Send API refuses more); longer texts are split
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_QUICK_REPLY_PAYLOAD = 1000
RATE_LIMIT_CODES = frozenset({4, 32, 613})
INVALID_TOKEN = 190
OUTSIDE_WINDOW = (10, 2018278)
USER_UNAVAILABLE = 551
RETRY_WAIT_SECONDS = 1.0
TIMEOUT_SECONDS = 10.0
MORE_CHOICES = "Bạn cũng có thể nhắn cho mình một trong các lựa chọn sau:"


@dataclass(frozen=True)
class SendError:
    """What the Send API said went wrong (or that it could not be reached)."""

    code: int | None
    subcode: int | None = None
    message: str = ""
    fbtrace_id: str | None = None

    @classmethod
    def from_reply(cls, status: int, body: Any) -> "SendError":
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls(None, message=f"HTTP {status} without an error object")
        message = str(error.get("message", ""))
        return cls(error.get("code"), error.get("error_subcode"), message, error.get("fbtrace_id"))


class SendApi:
    """``POST {graph_url}/me/messages`` for one page, over one aiohttp session."""

    def __init__(
        self,
        graph_url: str,
        page_access_token: str,
        retry_wait: float = RETRY_WAIT_SECONDS,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._url = graph_url.rstrip("/") + "/me/messages"
        self._token = page_access_token
        self._retry_wait = retry_wait
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
    ) -> bool:
        """Sends one message; False when it was not delivered (already logged, and counted)."""
        body: dict[str, Any] = {"messaging_type": messaging_type, "recipient": {"id": recipient_id}, "message": message}
        if tag:
            body["tag"] = tag
        delivered = await self._post(body)
        if not delivered:
            rasa_server_metrics().send_failed("messenger")
        return delivered

    async def sender_action(self, recipient_id: str, action: str) -> bool:
        """``typing_on``, ``typing_off`` or ``mark_seen``."""
        return await self._post({"recipient": {"id": recipient_id}, "sender_action": action})

    async def _post(self, body: dict[str, Any]) -> bool:
        error = await self._post_once(body)
        if error is not None and error.code in RATE_LIMIT_CODES:
            await asyncio.sleep(self._retry_wait)
            error = await self._post_once(body)
        if error is None:
            return True
        _log(error, body["recipient"]["id"])
        return False

    async def _post_once(self, body: dict[str, Any]) -> SendError | None:
        try:
            async with self._http().post(self._url, params={"access_token": self._token}, json=body) as reply:
                if reply.status < 400:
                    return None
                try:
                    payload = await reply.json(content_type=None)
                except ValueError:
                    payload = None
                return SendError.from_reply(reply.status, payload)
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
    elif error.code in RATE_LIMIT_CODES:
        logger.warning("messenger: rate limited twice, message to %s dropped (fbtrace %s)", who, trace)
    else:
        logger.error(
            "messenger: message to %s not sent (code %s/%s, fbtrace %s): %s",
            who, error.code, error.subcode, trace, redact(error.message)[:300],
        )  # fmt: skip


def _shortened(title: str) -> str:
    return title if len(title) <= MAX_QUICK_REPLY_TITLE else title[: MAX_QUICK_REPLY_TITLE - 1].rstrip() + "…"


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
