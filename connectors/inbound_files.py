"""Pictures and PDFs customers send, on any channel: fetched, checked, stored, and made one Rasa turn.

The widget uploads the bytes (connectors/webchat.py); Zalo and Messenger send a link to their CDN in a
signed webhook, which is downloaded here. Either way the file goes through ``AttachmentStore.save``
(bot/attachments.py: judged by its bytes, images re-encoded) and then enters Rasa as a normal customer
turn, so the bot, the tracker and the desk's transcript all see it:

- its text is a marker, ``[ảnh #<id>]`` or ``[tệp <name> #<id>]``, which the desk's console shows as the
  picture or a download link (bot/desk/static/attachments.js), and which reads as plain text elsewhere;
- its metadata carries ``{"attachments": [{"id", "kind", "name", "mime"}]}``, set here only (the channels
  keep no client metadata), which the actions read (actions/attachments.py);
- its intent is set to ``nlu_fallback`` without the NLU: there are no words to classify, and the rules
  already send a fallback outside a form to ``action_fallback_help``.

Downloads are bounded: http(s) only, ``MAX_BYTES`` at most (refused by Content-Length before reading,
and counted while reading), ``DOWNLOAD_SECONDS`` in all, at most ``MAX_REDIRECTS`` redirects each checked
again, and never to a private, loopback or link-local address (the resolver drops those; the webhook is
signed, but the link in it still names a host someone else chose), except the hosts of
``Settings.media_private_hosts``.
"""

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.attachments import MAX_BYTES, Attachment, AttachmentRefusedError, AttachmentStore, attachment_store
from bot.database import project_engine
from bot.settings import Settings, current_settings

logger = logging.getLogger(__name__)

ATTACHMENTS_KEY = "attachments"  # in a user turn's metadata
DOWNLOAD_SECONDS = 20.0
MAX_REDIRECTS = 3
NOT_DOWNLOADED = "Mình chưa tải được tệp bạn gửi, bạn gửi lại giúp mình sau ít phút nhé."
# as bot/attachments.py says it: a download over the limit is stopped before it is all read
TOO_BIG = "Tệp lớn quá (tối đa 10 MB), bạn gửi tệp nhỏ hơn giúp mình nhé."


class DownloadError(Exception):
    """A link that was not fetched: refused (private address, too big) or the CDN failed."""


@lru_cache(maxsize=4)
def _store_for(settings: Settings) -> AttachmentStore:
    return attachment_store(project_engine(settings), settings)


def inbound_store() -> AttachmentStore:
    """The attachment store of this process's settings, built once."""
    return _store_for(current_settings())


def marker(attachment: Attachment) -> str:
    """What the customer's turn says: the kind, a file's name and the id the desk shows it by."""
    if attachment.is_image:
        return f"[ảnh #{attachment.id}]"
    return f"[tệp {attachment.name} #{attachment.id}]"


def described(attachment: Attachment) -> dict[str, str]:
    return {"id": attachment.id, "kind": attachment.kind, "name": attachment.name, "mime": attachment.mime}


def attachment_turn(
    attachments: Sequence[Attachment], output: OutputChannel, sender: str, channel: str, message_id: str | None = None
) -> UserMessage:
    """One customer turn carrying ``attachments`` (``sender`` is the tracker key)."""
    text = " ".join(marker(attachment) for attachment in attachments)
    parse_data = {
        "text": text, "intent": {"name": "nlu_fallback", "confidence": 1.0},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 1.0}], "entities": [],
    }  # fmt: skip
    metadata = {ATTACHMENTS_KEY: [described(attachment) for attachment in attachments]}
    return UserMessage(
        text, output, sender, parse_data=parse_data, input_channel=channel, message_id=message_id, metadata=metadata
    )


async def save_inbound(data: bytes, name: str, channel: str, sender: str) -> Attachment:
    """Checks and stores a customer's file (off the event loop); ``AttachmentRefusedError`` says why not."""
    return await asyncio.to_thread(inbound_store().save, data, name, channel=channel, sender_id=sender, direction="in")


def _public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast


class PublicOnlyResolver(AbstractResolver):
    """DNS answers without private, loopback or link-local addresses (a name that has only those fails)."""

    def __init__(self, allowed_hosts: frozenset[str]) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self._allowed = allowed_hosts

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict[str, Any]]:
        found = await self._inner.resolve(host, port, family)
        if host in self._allowed:
            return found
        public = [entry for entry in found if _public(entry["host"])]
        if not public:
            raise OSError("the host resolves to no public address")
        return public

    async def close(self) -> None:
        await self._inner.close()


def _checked_url(url: str, allowed_hosts: frozenset[str]) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DownloadError("not an http(s) link")
    host = parts.hostname
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return url  # a name: the resolver decides
    if host not in allowed_hosts and not _public(host):
        raise DownloadError("a private address")
    return url


async def download(url: str, *, max_bytes: int = MAX_BYTES, seconds: float = DOWNLOAD_SECONDS) -> bytes:
    """The body behind ``url`` within the bounds above; ``DownloadError`` otherwise. Oversize bodies are
    refused as ``AttachmentRefusedError`` (the customer is told the limit)."""
    allowed = frozenset(current_settings().media_private_hosts)
    connector = aiohttp.TCPConnector(resolver=PublicOnlyResolver(allowed), limit=4)
    timeout = aiohttp.ClientTimeout(total=seconds, sock_connect=min(5.0, seconds))
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            for _ in range(MAX_REDIRECTS + 1):
                async with session.get(_checked_url(url, allowed), allow_redirects=False) as reply:
                    if reply.status in (301, 302, 303, 307, 308) and reply.headers.get("Location"):
                        url = urljoin(url, reply.headers["Location"])
                        continue
                    if reply.status != 200:
                        raise DownloadError(f"HTTP {reply.status}")
                    if (reply.content_length or 0) > max_bytes:
                        raise AttachmentRefusedError(TOO_BIG)
                    body = bytearray()
                    async for chunk in reply.content.iter_chunked(64 * 1024):
                        body += chunk
                        if len(body) > max_bytes:
                            raise AttachmentRefusedError(TOO_BIG)
                    return bytes(body)
            raise DownloadError("too many redirects")
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as error:
        raise DownloadError(type(error).__name__) from None


async def fetch_and_save(
    links: Sequence[tuple[str, str]], channel: str, sender: str
) -> tuple[list[Attachment], list[str]]:
    """Downloads and stores each ``(url, name)``; the stored attachments, and what to tell the customer about
    the others (each reason once)."""
    stored: list[Attachment] = []
    reasons: list[str] = []
    for url, name in links:
        try:
            stored.append(await save_inbound(await download(url), name, channel, sender))
        except AttachmentRefusedError as refused:
            reasons.append(refused.reason)
        except DownloadError as error:
            logger.warning("%s: a customer's file was not downloaded (%s)", channel, error)
            reasons.append(NOT_DOWNLOADED)
    return stored, list(dict.fromkeys(reasons))
