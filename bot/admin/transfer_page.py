"""The console's transfer action: ``POST /handoffs/<id>/transfer`` with ``target`` (``agent:<username>``
or ``team:<key>``), ``note`` and ``owner`` (who had it when the page was shown). The desk decides whether
it may happen (bot/desk/transfer.py); this route answers like the console's other actions and writes the
transfer, and its ticket's move, to the audit log (hence it lives here, beside the audit log: bot/desk
never imports bot/admin).

An agent asking about a conversation they may not see gets the same 404 as for one that does not exist.
"""

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from bot.admin.audit import AuditLog
from bot.desk.accounts import Session
from bot.desk.console import _visible, agent_required
from bot.desk.service import DeskError
from bot.desk.teams import TeamStore
from bot.desk.transfer import transfer

transfer_page = Blueprint("desk_transfer")
NOT_FOUND = "Không tìm thấy cuộc trò chuyện này."


def _field(request: Request, name: str) -> str:
    if request.form and request.form.get(name) is not None:
        return str(request.form.get(name))
    body = request.json if request.content_type.startswith("application/json") else None
    value = body.get(name, "") if isinstance(body, dict) else ""
    return value if isinstance(value, str) else ""


@transfer_page.post("/handoffs/<handoff_id:int>/transfer")
@agent_required
async def transfer_handoff(request: Request, session: Session, handoff_id: int) -> HTTPResponse:
    desk, agent = request.app.ctx.desk, session.agent
    if _visible(request, agent, handoff_id) is None:
        return response.json({"error": NOT_FOUND}, status=404)
    teams = TeamStore(request.app.ctx.engine)
    try:
        done = await transfer(desk, teams, handoff_id, agent, _field(request, "target"), _field(request, "note"),
                              owner=_field(request, "owner"))  # fmt: skip
    except DeskError as error:
        return response.json({"error": str(error)}, status=409)
    audit = AuditLog(request.app.ctx.engine)
    audit.record(agent.username, "handoff_transfer", f"handoff:{handoff_id}", previous_owner=done.previous_owner,
                 agent=done.agent, team=done.team)  # fmt: skip
    if done.ticket is not None:
        audit.record(agent.username, "ticket_transfer", done.ticket["code"], previous_team=done.ticket["team"],
                     previous_assignee=done.ticket["assignee"], team=done.team, assignee=done.agent)  # fmt: skip
    return response.json({"ok": True, "next": "/?notice=transferred"})
