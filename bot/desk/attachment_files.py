"""``GET /attachments/<id>``: a picture or file of a conversation, for the staff who may see that conversation.

The same rule as the conversation pages (console.py ``_may_see``), bound to the file's own conversation:
an admin sees every file; an agent a file of a conversation that is waiting or that they claimed, and a
file linked to a ticket (every agent works the tickets page). Anything else answers 404 as a file that
does not exist would, so ids cannot be probed. The bytes are served with the type stored when the file was
checked (never guessed from the name), inline for pictures and as a download for PDFs, with ``nosniff``;
the console's CSP (``img-src 'self'``) already allows these same-origin pictures.
"""

import asyncio
from urllib.parse import quote

import sqlalchemy as sa
from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from bot.attachments import Attachment
from bot.desk.accounts import ADMIN, Agent, Session
from bot.desk.console import _may_see, agent_required
from bot.desk.queue import HandoffQueue

attachment_files = Blueprint("desk_attachment_files")


def may_see(queue: HandoffQueue, agent: Agent, attachment: Attachment) -> bool:
    """Whether ``agent`` may open ``attachment``: see the module's docstring."""
    if agent.role == ADMIN or attachment.ticket_code:
        return True
    return any(_may_see(agent, handoff) for handoff in queue.of_sender(attachment.sender_id))


@attachment_files.get("/attachments/<attachment_id:str>")
@agent_required
async def attachment_file(request: Request, session: Session, attachment_id: str) -> HTTPResponse:
    store, queue = request.app.ctx.attachments, request.app.ctx.desk.queue

    def allowed() -> tuple[Attachment, bytes] | None:
        attachment = store.get(attachment_id)
        if attachment is None or not may_see(queue, session.agent, attachment):
            return None
        return attachment, store.read(attachment)

    try:
        found = await asyncio.to_thread(allowed)
    except (OSError, sa.exc.SQLAlchemyError):
        found = None  # a file whose bytes are gone is as missing as one never sent
    if found is None:
        return response.text("Không tìm thấy tệp này.", status=404)
    attachment, data = found
    disposition = "inline" if attachment.is_image else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(attachment.name)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=300",
    }
    return response.raw(data, content_type=attachment.mime, headers=headers)
