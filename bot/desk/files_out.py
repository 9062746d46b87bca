"""Agents send pictures and PDFs: the console's upload route, and the transcript line that shows them.

``POST /handoffs/<id>/attachment`` (multipart ``file``, optional ``text`` caption) takes a file only from the
agent who has the conversation now, with the session's CSRF token in ``X-CSRF-Token``, and only after those
checks does it read more than the console's usual 1 MB: the route streams its body and allows
``UPLOAD_MAX_REQUEST`` (a 10 MB file and its multipart wrapping) to that agent alone. The file is judged by
its bytes and kept by the attachment store (bot/attachments.py, direction "out"), then the desk sends it
through Rasa like a reply (bot/desk/service.py ``send_file``), and every channel delivers it its own way.

The page shows such a line's file (bot/desk/file_lines.py) from ``GET /attachments/<id>``
(bot/desk/attachment_files.py), as it shows customers' files.
"""

import asyncio

from sanic import Blueprint, Request, response
from sanic.exceptions import PayloadTooLarge
from sanic.response import HTTPResponse

from bot.attachments import MAX_BYTES, AttachmentRefusedError
from bot.desk.accounts import Session
from bot.desk.console import _not_found, _visible, agent_required
from bot.desk.service import DeskError
from bot.desk.windows import refused_before_sending
from bot.handoff_protocol import SentFile

files_out = Blueprint("desk_files_out")
UPLOAD_MAX_REQUEST = MAX_BYTES + 512 * 1024  # the file and the form around it
TOO_BIG = "Tệp lớn quá (tối đa 10 MB)."
NO_FILE = "Bạn chọn ảnh hoặc tệp PDF để gửi nhé."


@files_out.post("/handoffs/<handoff_id:int>/attachment", stream=True)
@agent_required
async def send_file(request: Request, session: Session, handoff_id: int) -> HTTPResponse:
    handoff = _visible(request, session.agent, handoff_id)
    if handoff is None:
        return _not_found()
    desk = request.app.ctx.desk
    try:
        desk.owned(handoff_id, session.agent)
    except DeskError as error:
        return response.json({"error": str(error)}, status=409)
    if (outside := await refused_before_sending(request, handoff)) is not None:
        return outside
    if int(request.headers.get("content-length") or 0) > UPLOAD_MAX_REQUEST:
        return response.json({"error": TOO_BIG}, status=413)
    if request.stream is not None:
        request.stream.request_max_size = UPLOAD_MAX_REQUEST  # the owner's upload only
    try:
        await request.receive_body()
    except PayloadTooLarge:
        return response.json({"error": TOO_BIG}, status=413)
    request.parsed_form = request.parsed_files = None  # read again, now that the body is here
    upload = request.files.get("file") if request.files else None
    if upload is None or not upload.body:
        return response.json({"error": NO_FILE}, status=400)
    try:
        stored = await asyncio.to_thread(
            request.app.ctx.attachments.save, upload.body, upload.name or "", channel=handoff.channel,
            sender_id=handoff.sender_id, direction="out", uploaded_by=session.agent.username, handoff_id=handoff.id,
        )  # fmt: skip
    except AttachmentRefusedError as refused:
        return response.json({"error": refused.reason}, status=400)
    sent = SentFile(id=stored.id, kind=stored.kind, mime=stored.mime, name=stored.name)
    try:
        await desk.send_file(handoff_id, session.agent, sent, (request.form or {}).get("text") or "")
    except DeskError as error:
        return response.json({"error": str(error)}, status=409)
    return response.json({"ok": True, "id": stored.id})
