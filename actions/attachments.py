"""Pictures and files the customer sent, as the actions see them, and what the bot says about them.

The Rasa server puts a customer's stored files in the turn's metadata (connectors/inbound_files.py:
``{"attachments": [{"id", "kind", "name", "mime"}]}``), with the intent ``nlu_fallback`` since there are
no words to read. The channels keep no metadata a client sends, so what is here was stored by the server.
During the issue-report form the files are acknowledged and attached to the ticket it files
(``link_to_ticket``); outside a form a picture usually shows a problem, so a person is offered
(actions/fallback.py); during a hand-off no action runs and the agent sees the file.
"""

import logging
import re
from typing import Any

import sqlalchemy as sa
from rasa_sdk import Tracker

from actions.services import attachment_store

logger = logging.getLogger(__name__)

ATTACHMENTS_KEY = "attachments"
GOT_IT_FOR_TICKET = "Mình đã nhận được {what} bạn gửi, mình sẽ đính kèm vào phiếu."
GOT_IT_OFFER_PERSON = (
    "Mình đã nhận được {what} bạn gửi. Nếu sản phẩm hay đơn hàng có vấn đề, bạn bấm “Báo lỗi đơn hàng” để mình "
    "ghi nhận kèm {what} này, hoặc “Gặp nhân viên” để nhân viên xem và hỗ trợ bạn trực tiếp nhé."
)
OFFER_BUTTONS = [
    {"title": "Báo lỗi đơn hàng", "payload": "Mình muốn báo lỗi đơn hàng"},
    {"title": "Gặp nhân viên", "payload": "/request_human"},
]
_ID = re.compile(r"[0-9a-f]{32}")


def sent_in(message: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The files a user turn (``tracker.latest_message`` or a user event) carried."""
    metadata = (message or {}).get("metadata") or {}
    found = metadata.get(ATTACHMENTS_KEY) if isinstance(metadata, dict) else None
    return [a for a in found or [] if isinstance(a, dict) and _ID.fullmatch(str(a.get("id", "")))]


def what(sent: list[dict[str, Any]]) -> str:
    """The word for what was sent: "ảnh" when every file is a picture, else "tệp"."""
    return "ảnh" if sent and all(a.get("kind") == "image" for a in sent) else "tệp"


def sent_since_last_ticket(tracker: Tracker) -> list[str]:
    """Ids of the files of this session sent since the last ticket was filed: a photo sent just before the
    report (when the bot offered to take it) belongs to it as much as one sent during it."""
    ids: list[str] = []
    for event in reversed(list(tracker.events)):
        if event.get("event") == "session_started" or (
            event.get("event") == "action" and event.get("name") == "action_create_ticket"
        ):
            break
        if event.get("event") == "user":
            ids = [a["id"] for a in sent_in(event)] + ids
    return ids


def link_to_ticket(tracker: Tracker, ticket_code: str) -> int:
    """Attaches the session's recent files to the new ticket; how many (0, and a log line, on failure)."""
    ids = sent_since_last_ticket(tracker)
    linked = 0
    try:
        store = attachment_store()
        for attachment_id in ids:
            attachment = store.get(attachment_id)
            # only this customer's own files, and none already attached to another ticket
            if attachment and attachment.sender_id == tracker.sender_id and not attachment.ticket_code:
                store.link(attachment_id, ticket_code=ticket_code)
                linked += 1
    except (OSError, sa.exc.SQLAlchemyError) as error:
        logger.error("files not attached to ticket %s: %s", ticket_code, type(error).__name__)
    return linked
