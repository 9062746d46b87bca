"""The admin's agents page: every console account with its role and the support.yml teams it works in.

Admins tick an agent's teams; the queue shows each agent their teams' customers first and a transfer can
name a team (bot/desk/teams.py). Each change is audited.
"""

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from bot.admin.audit import AuditLog
from bot.desk.accounts import Session
from bot.desk.console import admin_required, render
from bot.desk.teams import TeamStore
from bot.support import team_names

agents_page = Blueprint("desk_agents", url_prefix="/admin")
NOTICES = {"saved": "Đã lưu bộ phận của nhân viên.", "unknown": "Không có bộ phận này."}


@agents_page.get("/agents")
@admin_required
async def agents_list(request: Request, session: Session) -> HTTPResponse:
    return render(
        request, "admin_agents.html", session=session, agents=request.app.ctx.desk.accounts.agents(),
        memberships=TeamStore(request.app.ctx.engine).all_memberships(), teams=team_names(),
        online=request.app.ctx.desk.accounts.online_usernames(), notice=NOTICES.get(request.args.get("notice", "")),
    )  # fmt: skip


@agents_page.post("/agents/<username:str>/teams")
@admin_required
async def set_teams(request: Request, session: Session, username: str) -> HTTPResponse:
    if request.app.ctx.desk.accounts.agent(username) is None:
        return render(request, "missing.html", status=404, session=session)
    chosen = request.form.getlist("team") if request.form else []
    store = TeamStore(request.app.ctx.engine)
    try:
        store.set_teams(username, chosen)
    except ValueError:
        return response.redirect("/admin/agents?notice=unknown")
    AuditLog(request.app.ctx.engine).record(session.agent.username, "agent_teams", username, teams=sorted(chosen))
    return response.redirect("/admin/agents?notice=saved")
