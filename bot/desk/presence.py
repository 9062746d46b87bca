"""Agents' status in the console: each agent sets their own (online, busy, away) in the header, and every
console shows its colleagues' (bot/desk/static/status.js).

The status decides who is alerted to a new waiting customer and who counts as an agent online for the
bot's "no agent: we call you back" promise (bot/desk/accounts.py, bot/desk/service.py). Only the session's
own agent is changed, with the page's CSRF token; the roster shows names and statuses, nothing else.
"""

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from bot.desk.accounts import STATUSES, Session
from bot.desk.console import _field, agent_required
from bot.schema import AGENT_AWAY, AGENT_BUSY, AGENT_ONLINE

presence = Blueprint("desk_presence")
STATUS_LABELS = {AGENT_ONLINE: "Sẵn sàng", AGENT_BUSY: "Đang bận", AGENT_AWAY: "Vắng mặt"}
OFFLINE_LABEL = "Ngoại tuyến"


@presence.post("/me/status")
@agent_required
async def set_status(request: Request, session: Session) -> HTTPResponse:
    status = _field(request, "status")
    if status not in STATUSES:
        return response.json({"error": "Trạng thái không hợp lệ."}, status=400)
    request.app.ctx.desk.set_status(session.agent, status)
    if request.form:  # the header's form without its script: back to where the agent was
        return response.redirect("/")
    return response.json({"status": status, "label": STATUS_LABELS[status]})


@presence.get("/agents.json")
@agent_required
async def roster(request: Request, session: Session) -> HTTPResponse:
    """Colleagues and their status as the team card shows them: a closed console reads as offline."""
    return response.json([
        {
            "username": agent.username, "display_name": agent.display_name, "status": agent.status,
            "label": STATUS_LABELS.get(agent.status, agent.status) if agent.connected else OFFLINE_LABEL,
            "connected": agent.connected,
        }
        for agent in request.app.ctx.desk.accounts.roster()
    ])  # fmt: skip
