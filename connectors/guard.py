"""One guard for every door customers write through: REST, the widget's socket.io, Zalo and Messenger.

Before a message reaches the NLU:
- the server refuses bodies over ``MAX_BODY_BYTES`` with 413 before reading them (Sanic's
  ``REQUEST_MAX_SIZE``, 100 MB by default, is lowered by ``limit_request_size``), and
  socket.io packets over ``MAX_SOCKET_PACKET_BYTES`` (engine.io's ``max_http_buffer_size``);
- a message longer than ``MAX_MESSAGE_CHARS`` gets a polite request to shorten it: one
  988,000-character message once held the NLU for 35 s, and every other customer with it;
- more than ``BURST`` messages from one sender within ``BURST_SECONDS``, or more than
  ``ADDRESS_BURST`` from one client address (however many sender ids it makes up), get a polite
  "slow down" (HTTP 429 with Retry-After on REST). The address is the peer's, or what
  X-Forwarded-For says when the peer is a proxy named in ``CSKH_TRUSTED_PROXIES``; loopback
  clients (this machine's own tools, tests, an unconfigured local proxy) are counted per sender
  only. Zalo and Messenger webhooks come from the platforms' servers, so they are counted per
  sender only; the platforms' signatures vouch for the sender.
- files (widget uploads, Zalo and Messenger pictures) have limits of their own, ``UPLOAD_BURST`` per
  sender and ``ADDRESS_UPLOAD_BURST`` per address within ``UPLOAD_SECONDS`` (``check_upload``).
Counts are per server process (approximate behind a load balancer, on purpose: a shared counter
would put Redis on every message's path) and bounded in memory.

``NO_ANSWER`` is the answer of last resort when a turn produced no reply although the bot is
not paused for an agent (the action server down, a storage error).
"""

import ipaddress
import logging
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sanic import Blueprint, Sanic

from bot.client_address import Network, client_address
from bot.settings import trusted_proxies

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000  # the widget's input limit, and more than Zalo or Messenger customers type
MAX_SENDER_CHARS = 120  # namespaced ("web:" + id) it still fits the desk's and tickets' columns
# a 2,000-character message is at most ~12 kB of JSON; a 100 kB paste (escaped, ~200 kB) still hears why not
MAX_BODY_BYTES = 256 * 1024
MAX_SOCKET_PACKET_BYTES = 64 * 1024
BURST, BURST_SECONDS = 10, 10.0
ADDRESS_BURST = 30  # per client address within BURST_SECONDS: an office behind one NAT still chats freely
# files (connectors/inbound_files.py): each may be 10 MB to receive, check and store, so fewer than messages
UPLOAD_BURST, UPLOAD_SECONDS = 5, 60.0
ADDRESS_UPLOAD_BURST = 20
MAX_TRACKED = 100_000  # senders or addresses remembered per limiter; the least recently seen go first

TOO_LONG = "Tin nhắn của bạn dài quá, bạn gửi ngắn gọn hơn (dưới 2.000 ký tự) giúp mình nhé."
TOO_FAST = "Bạn nhắn nhanh quá, mình chưa kịp trả lời. Bạn đợi vài giây rồi nhắn tiếp nhé."
TOO_MANY_FILES = "Bạn gửi nhiều tệp quá, mình chưa kịp nhận. Bạn đợi khoảng một phút rồi gửi tiếp nhé."
NO_ANSWER = (
    "Xin lỗi bạn, hệ thống của shop đang bận nên mình chưa trả lời được. Bạn thử lại sau ít phút, "
    "hoặc gọi hotline {shop.hotline} nhé."
)


def problem_with(body: Any) -> str | None:
    """Why a REST webhook body cannot be a customer message; None when it can."""
    if not isinstance(body, dict):
        return "expected a JSON object with 'sender' and 'message'"
    if not isinstance(body.get("sender"), str) or not body["sender"].strip() or len(body["sender"]) > MAX_SENDER_CHARS:
        return f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters"
    if not isinstance(body.get("message"), str):
        return "'message' must be a string"
    return None


@dataclass(frozen=True)
class Refusal:
    """Why a message does not reach the bot, and what the customer is told."""

    text: str
    retry_after: int | None = None  # seconds; set for bursts
    worth_answering: bool = True  # False for a burst already told to slow down: no reply per flooded message

    @property
    def status(self) -> int:
        return 429 if self.retry_after is not None else 200


class _Window:
    __slots__ = ("times", "warned")

    def __init__(self) -> None:
        self.times: deque[float] = deque()
        self.warned = False


class BurstLimiter:
    """A sliding window of message times per key, forgetting the least recently seen keys past ``MAX_TRACKED``."""

    def __init__(self, burst: int = BURST, seconds: float = BURST_SECONDS, max_tracked: int = MAX_TRACKED) -> None:
        self.burst, self.seconds, self.max_tracked = burst, seconds, max_tracked
        self._windows: OrderedDict[str, _Window] = OrderedDict()

    def __len__(self) -> int:
        return len(self._windows)

    def allow(self, key: str) -> float | None:
        """None when the message may go on; else the seconds to wait."""
        now = time.monotonic()
        window = self._windows.pop(key, None) or _Window()
        self._windows[key] = window  # now the most recently seen
        while window.times and now - window.times[0] > self.seconds:
            window.times.popleft()
        if len(window.times) >= self.burst:
            return self.seconds - (now - window.times[0])
        window.times.append(now)
        window.warned = False
        while len(self._windows) > self.max_tracked:
            self._windows.popitem(last=False)
        return None

    def first_refusal(self, key: str) -> bool:
        """True once per refused run of ``key``'s messages: whether telling them again is worth it."""
        window = self._windows.get(key)
        if window is None or window.warned:
            return False
        window.warned = True
        return True


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class Guard:
    """Message length and bursts, the same at every door; one per server process (``door_guard``)."""

    def __init__(self, proxies: tuple[Network, ...] = ()) -> None:
        self.proxies = proxies
        self.senders = BurstLimiter()
        self.addresses = BurstLimiter(ADDRESS_BURST)
        self.uploads = BurstLimiter(UPLOAD_BURST, UPLOAD_SECONDS)
        self.upload_addresses = BurstLimiter(ADDRESS_UPLOAD_BURST, UPLOAD_SECONDS)
        self._warned_proxy = False

    def address(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address: X-Forwarded-For counts only when ``peer`` is a trusted proxy."""
        if forwarded_for and _loopback(peer) and not self.proxies and not self._warned_proxy:
            self._warned_proxy = True
            logger.warning(
                "requests come through a proxy on this machine that CSKH_TRUSTED_PROXIES does not name: "
                "customers cannot be told apart by address, only by sender"
            )
        return client_address(peer, forwarded_for, self.proxies)

    def check(self, sender: str, text: str, address: str | None = None) -> Refusal | None:
        """None when the message may reach the bot; ``sender`` is the namespaced tracker key."""
        for limiter, key in ((self.senders, sender), (self.addresses, address)):
            if key is None or (limiter is self.addresses and _loopback(key)):
                continue
            wait = limiter.allow(key)
            if wait is not None:
                first = limiter.first_refusal(key)
                if first:
                    logger.info("burst refused (%s)", "per sender" if limiter is self.senders else "per address")
                return Refusal(TOO_FAST, max(1, round(wait)), first)
        if len(text) > MAX_MESSAGE_CHARS:
            return Refusal(TOO_LONG)
        return None

    def check_upload(self, sender: str, address: str | None = None) -> Refusal | None:
        """None when ``sender`` may send one more file now; counted apart from messages, per sender and per
        (non-loopback) address, and always answered: a refused upload is a request waiting for an answer."""
        for limiter, key in ((self.uploads, sender), (self.upload_addresses, address)):
            if key is None or (limiter is self.upload_addresses and _loopback(key)):
                continue
            wait = limiter.allow(key)
            if wait is not None:
                if limiter.first_refusal(key):
                    logger.info("file burst refused (%s)", "per sender" if limiter is self.uploads else "per address")
                return Refusal(TOO_MANY_FILES, max(1, round(wait)))
        return None


@lru_cache(maxsize=1)
def door_guard() -> Guard:
    """The guard every channel of this process shares, so a sender or an address has one count."""
    return Guard(trusted_proxies())


def limit_request_size(blueprint: Blueprint) -> None:
    """Caps request bodies for the whole server the channel runs in; Sanic answers 413 to bigger ones.

    Sanic reads ``REQUEST_MAX_SIZE`` for every new connection, so setting it before the server
    starts covers the webhooks and socket.io polling alike (and the token-protected HTTP API,
    whose requests are small).
    """

    @blueprint.listener("before_server_start")
    async def cap_bodies(app: Sanic, _: Any) -> None:
        app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, MAX_BODY_BYTES)
