"""/admin/canned: admins write the canned replies agents insert with "/" (bot/desk/canned.py).

Admins only, CSRF on every change (bot/desk/console.py ``admin_required``); each create, edit and delete
is written to the audit log with the reply's shortcut. The text's placeholders are shown as chips with
the shop fact's current value, as in the FAQ editor, so the admin sees what agents will send.
"""

from typing import Any

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from bot.admin.audit import AuditLog
from bot.desk.accounts import Session
from bot.desk.canned import CannedError, CannedStore, chips, clean, pieces
from bot.desk.console import admin_required, render

canned_page = Blueprint("desk_admin_canned", url_prefix="/admin")
NOTICES = {
    "created": "Đã thêm câu trả lời mẫu.",
    "saved": "Đã lưu câu trả lời mẫu.",
    "deleted": "Đã xoá câu trả lời mẫu.",
}


def _store(request: Request) -> CannedStore:
    return CannedStore(request.app.ctx.engine)


def _chips(request: Request) -> dict[str, Any]:
    data_dir = request.app.ctx.data_dir
    return {"chips": lambda text: chips(text, data_dir), "pieces": lambda text: pieces(text, data_dir)}


def _form(request: Request) -> dict[str, str]:
    form = request.form or {}
    return {name: form.get(name) or "" for name in ("shortcut", "title", "text")}


def _edit_page(request: Request, session: Session, reply: dict[str, Any], status: int = 200, **extra: Any):
    return render(request, "admin_canned_reply.html", status=status, session=session, reply=reply,
                  **_chips(request), **extra)  # fmt: skip


@canned_page.get("/canned")
@admin_required
async def canned_list(request: Request, session: Session) -> HTTPResponse:
    return render(
        request, "admin_canned.html", session=session, replies=_store(request).all(),
        notice=NOTICES.get(request.args.get("notice", "")), **_chips(request),
    )  # fmt: skip


@canned_page.get("/canned/new")
@admin_required
async def canned_new(request: Request, session: Session) -> HTTPResponse:
    return _edit_page(request, session, {"id": None, "shortcut": "", "title": "", "text": ""})


@canned_page.post("/canned/new")
@admin_required
async def canned_create(request: Request, session: Session) -> HTTPResponse:
    form = _form(request)
    try:
        shortcut, title, text = clean(form["shortcut"], form["title"], form["text"], request.app.ctx.data_dir)
        reply = _store(request).create(session.agent.username, shortcut, title, text)
    except CannedError as error:
        return _edit_page(request, session, {"id": None, **form}, status=422, error=str(error))
    AuditLog(request.app.ctx.engine).record(session.agent.username, "canned_create", f"/{reply.shortcut}",
                                            id=reply.id, title=reply.title)  # fmt: skip
    return response.redirect("/admin/canned?notice=created")


@canned_page.get("/canned/<reply_id:int>")
@admin_required
async def canned_edit(request: Request, session: Session, reply_id: int) -> HTTPResponse:
    reply = _store(request).get(reply_id)
    if reply is None:
        return render(request, "missing.html", status=404, session=session)
    return _edit_page(request, session, reply.as_dict())


@canned_page.post("/canned/<reply_id:int>")
@admin_required
async def canned_save(request: Request, session: Session, reply_id: int) -> HTTPResponse:
    form, store = _form(request), _store(request)
    before = store.get(reply_id)
    if before is None:
        return render(request, "missing.html", status=404, session=session)
    try:
        shortcut, title, text = clean(form["shortcut"], form["title"], form["text"], request.app.ctx.data_dir)
        if not store.update(session.agent.username, reply_id, shortcut, title, text):
            return render(request, "missing.html", status=404, session=session)
    except CannedError as error:
        return _edit_page(request, session, {"id": reply_id, **form}, status=422, error=str(error))
    AuditLog(request.app.ctx.engine).record(session.agent.username, "canned_edit", f"/{shortcut}", id=reply_id,
                                            previous_shortcut=before.shortcut, previous_text=before.text)  # fmt: skip
    return response.redirect("/admin/canned?notice=saved")


@canned_page.post("/canned/<reply_id:int>/delete")
@admin_required
async def canned_delete(request: Request, session: Session, reply_id: int) -> HTTPResponse:
    removed = _store(request).delete(reply_id)
    if removed is None:
        return render(request, "missing.html", status=404, session=session)
    AuditLog(request.app.ctx.engine).record(session.agent.username, "canned_delete", f"/{removed.shortcut}",
                                            id=reply_id, title=removed.title, text=removed.text)  # fmt: skip
    return response.redirect("/admin/canned?notice=deleted")
