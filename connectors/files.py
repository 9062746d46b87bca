"""Agents' files on the customer's channel: the widget's signed download route, and the bytes a platform takes.

An agent's picture or PDF reaches the Rasa server as a bot message whose ``attachment`` names a stored file
(bot/handoff_protocol.py ``SentFile``). The widget gets a link signed for that customer's conversation
(bot/file_links.py) and fetches it here, at ``/webhooks/socketio/files/<id>``; Zalo and Messenger get the
bytes uploaded by their clients, read here from the attachment store (bot/attachments.py), and shaped to
what the platform accepts (Zalo takes JPG/PNG pictures of at most 1 MB: larger ones are scaled down).
"""

import asyncio
import io
import logging
from dataclasses import dataclass
from urllib.parse import quote

from PIL import Image
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.attachments import Attachment, AttachmentStore, attachment_store
from bot.database import engine_for
from bot.file_links import link_key, signed_query, valid
from bot.settings import current_settings

logger = logging.getLogger(__name__)

ROUTE = "/files/<attachment_id>"  # under the widget's /webhooks/socketio
MISSING_REASON = "Tệp không còn trong kho lưu trữ nên không gửi được."


@dataclass(frozen=True)
class StoredFile:
    """A stored file's bytes and what they are."""

    kind: str
    mime: str
    name: str
    data: bytes


_stores: dict[tuple[str, str, str], AttachmentStore] = {}


def files() -> AttachmentStore:
    """The attachment store of this process's settings (the project database, the folder or bucket)."""
    settings = current_settings()
    key = (settings.database_url, str(settings.var_dir), settings.attachments_s3_bucket)
    if key not in _stores:
        _stores[key] = attachment_store(engine_for(settings.database_url), settings)
    return _stores[key]


def read_file(attachment_id: str) -> StoredFile | None:
    """The file, or None when it is gone (synchronous: call it from a thread)."""
    found = files().get(attachment_id)
    if found is None:
        return None
    try:
        data = files().read(found)
    except (OSError, KeyError) as error:
        logger.error("attachment %s… has a row but no bytes (%s)", attachment_id[:6], type(error).__name__)
        return None
    return StoredFile(found.kind, found.mime, found.name, data)


def link_for(attachment_id: str, sender_id: str) -> str:
    """The path, relative to ``/webhooks/socketio/``, the widget fetches the file from."""
    return f"files/{attachment_id}?{signed_query(link_key(current_settings()), attachment_id, sender_id)}"


async def customer_file(request: Request, attachment_id: str) -> HTTPResponse:
    """The file, to whoever holds a link signed for its conversation and not expired; 404 otherwise."""
    found: Attachment | None = await asyncio.to_thread(files().get, attachment_id)
    expires, given = request.args.get("e", ""), request.args.get("s", "")
    if found is None or not valid(link_key(current_settings()), found.id, found.sender_id, expires, given):
        return response.json({"error": "not found"}, status=404)
    stored = await asyncio.to_thread(read_file, found.id)
    if stored is None:
        return response.json({"error": "not found"}, status=404)
    disposition = "inline" if stored.kind == "image" else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(stored.name)}",  # names are Vietnamese
        "Cache-Control": "private, max-age=86400",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cross-Origin-Resource-Policy": "cross-origin",  # the shop's page shows it from another origin
    }
    return response.raw(stored.data, content_type=stored.mime, headers=headers)


def fitted_image(data: bytes, max_bytes: int) -> tuple[bytes, str]:
    """A picture a platform with a size cap takes: PNG or JPEG as stored when small enough, else a JPEG scaled
    down step by step until it fits (a size chart stays readable at a few hundred kB)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        if image.format in ("JPEG", "PNG") and len(data) <= max_bytes:
            return data, Image.MIME[image.format]
        picture = image.convert("RGB")
    quality, scale = 85, 1.0
    while True:
        size = (max(1, int(picture.width * scale)), max(1, int(picture.height * scale)))
        out = io.BytesIO()
        picture.resize(size).save(out, "JPEG", quality=quality, optimize=True)
        if out.tell() <= max_bytes or size == (1, 1):
            return out.getvalue(), "image/jpeg"
        quality, scale = max(60, quality - 10), scale * 0.8
