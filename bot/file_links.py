"""Links that let a customer fetch a file an agent sent them, without a staff session.

The widget shows an agent's picture with an ``<img>`` whose URL points at the Rasa server. Whoever has the
URL gets the file, so it is signed: HMAC-SHA256 over (attachment id, the conversation it was sent to, expiry)
with a key derived from the stack's secret (``CSKH_SECRET_KEY``, else the Rasa API token every Rasa replica
already shares), and refused once expired, altered, or presented for a file of another conversation.
"""

import hashlib
import hmac
import re
import time

from bot.settings import Settings

LINK_DAYS = 7  # the widget keeps its history across reloads: the picture stays visible this long
_KEY_LABEL = b"cskh-bot attachment links v1"
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


def link_key(settings: Settings) -> bytes:
    """A key of its own, derived from the configured secret (so a leaked link key reveals no other secret)."""
    secret = settings.secret_key or settings.rasa_token
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def signature(key: bytes, attachment_id: str, sender_id: str, expires: int) -> str:
    message = f"{attachment_id}\n{sender_id}\n{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed_query(key: bytes, attachment_id: str, sender_id: str, now: float | None = None) -> str:
    """``e=<expiry>&s=<signature>`` for a link to ``attachment_id`` sent to ``sender_id`` (Rasa's tracker key)."""
    expires = int((now or time.time()) + LINK_DAYS * 86400)
    return f"e={expires}&s={signature(key, attachment_id, sender_id, expires)}"


def valid(key: bytes, attachment_id: str, sender_id: str, expires: str, given: str, now: float | None = None) -> bool:
    """Whether a link's expiry and signature are the ones made for this file in this conversation, still in time."""
    if not expires.isascii() or not expires.isdigit() or len(expires) > 12 or not _SIGNATURE.fullmatch(given or ""):
        return False
    if int(expires) < (now or time.time()):
        return False
    return hmac.compare_digest(signature(key, attachment_id, sender_id, int(expires)), given)
