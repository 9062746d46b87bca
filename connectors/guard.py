"""What every chat webhook checks before a message reaches the bot, and the answer of last resort.

- a body that is not a JSON object with a text ``message`` and a ``sender`` → 400 with a reason;
- a message longer than ``MAX_MESSAGE_CHARS`` → a polite request to shorten it (the NLU is not
  run on 100 kB of text);
- more than ``BURST`` messages from one sender within ``BURST_SECONDS`` → 429 with a polite
  message and Retry-After (per server process; approximate behind a load balancer, on purpose:
  a shared counter would put Redis on every message's path);
- a turn that produced no reply although the bot is not paused for an agent (the action server
  down, a storage error) → an apology instead of silence (``NO_ANSWER``, a shop-policy template).
"""

import time
from collections import defaultdict, deque
from typing import Any

MAX_MESSAGE_CHARS = 5000
BURST, BURST_SECONDS = 10, 10.0
TOO_LONG = "Tin nhắn của bạn dài quá, bạn gửi ngắn gọn hơn (dưới 5.000 ký tự) giúp mình nhé."
TOO_FAST = "Bạn nhắn nhanh quá, mình chưa kịp trả lời. Bạn đợi vài giây rồi nhắn tiếp nhé."
NO_ANSWER = (
    "Xin lỗi bạn, hệ thống của shop đang bận nên mình chưa trả lời được. Bạn thử lại sau ít phút, "
    "hoặc gọi hotline {shop.hotline} nhé."
)


def problem_with(body: Any) -> str | None:
    """Why a webhook body cannot be a customer message; None when it can."""
    if not isinstance(body, dict):
        return "expected a JSON object with 'sender' and 'message'"
    if not isinstance(body.get("sender"), str) or not body["sender"].strip() or len(body["sender"]) > 255:
        return "'sender' must be a non-empty string of at most 255 characters"
    if not isinstance(body.get("message"), str):
        return "'message' must be a string"
    return None


class BurstLimiter:
    """A sliding window of message times per sender."""

    def __init__(self, burst: int = BURST, seconds: float = BURST_SECONDS) -> None:
        self.burst, self.seconds = burst, seconds
        self._recent: dict[str, deque] = defaultdict(deque)

    def allow(self, sender: str) -> float | None:
        """None when the message may go on; else the seconds to wait."""
        now = time.monotonic()
        recent = self._recent[sender]
        while recent and now - recent[0] > self.seconds:
            recent.popleft()
        if len(recent) >= self.burst:
            return self.seconds - (now - recent[0])
        recent.append(now)
        if len(self._recent) > 100_000:  # forget idle senders now and then
            for idle in [s for s, times in self._recent.items() if not times]:
                del self._recent[idle]
        return None
