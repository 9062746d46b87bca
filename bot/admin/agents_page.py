"""The console's agents page, for admins: every account with its status, whether its console is open, the
conversations it talks in now, its capacity (the most at once) and the support.yml teams it works in.

The capacity is enforced where conversations are claimed (bot/desk/queue.py); teams order each agent's
queue and name transfer targets (bot/desk/teams.py). Each change is written to the audit log (hence this
lives beside it, in bot/admin: bot/desk never imports bot/admin).
"""

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from bot.admin.audit import AuditLog
from bot.desk.accounts import ADMIN, MAX_CAPACITY, Session
from bot.desk.console import _field, admin_required, render
from bot.desk.presence import OFFLINE_LABEL, STATUS_LABELS
from bot.desk.teams import TeamStore
from bot.support import team_names

agents_page = Blueprint("desk_agents", url_prefix="/admin")
NOTICES = {
    "saved": "Đã lưu số cuộc trò chuyện tối đa.",
    "teams": "Đã lưu bộ phận của nhân viên.",
    "unknown": "Không có bộ phận này.",
}


def _page(request: Request, session: Session, status: int = 200, error: str | None = None) -> HTTPResponse:
    desk = request.app.ctx.desk
    rows = [
        {
            "agent": agent, "role": "Quản trị" if agent.role == ADMIN else "Nhân viên",
            "status": STATUS_LABELS.get(agent.status, agent.status) if agent.connected else OFFLINE_LABEL,
            "active": desk.queue.active_count(agent.username),
        }
        for agent in desk.accounts.roster()
    ]  # fmt: skip
    notice = NOTICES.get(request.args.get("notice", ""))
    return render(
        request, "admin_agents.html", status=status, session=session, rows=rows, notice=notice, error=error,
        max_capacity=MAX_CAPACITY, teams=team_names(), memberships=TeamStore(request.app.ctx.engine).all_memberships(),
    )  # fmt: skip


@agents_page.get("/agents")
@admin_required
async def agents(request: Request, session: Session) -> HTTPResponse:
    return _page(request, session)


@agents_page.post("/agents/<username>/capacity")
@admin_required
async def set_capacity(request: Request, session: Session, username: str) -> HTTPResponse:
    raw = _field(request, "capacity").strip()
    capacity = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0
    if not 1 <= capacity <= MAX_CAPACITY:
        return _page(request, session, 400, f"Số cuộc trò chuyện tối đa phải từ 1 đến {MAX_CAPACITY}.")
    if not request.app.ctx.desk.accounts.set_capacity(username, capacity):
        return _page(request, session, 404, "Không tìm thấy nhân viên này.")
    AuditLog(request.app.ctx.engine).record(session.agent.username, "agent_capacity", username, capacity=capacity)
    return response.redirect("/admin/agents?notice=saved")


@agents_page.post("/agents/<username:str>/teams")
@admin_required
async def set_teams(request: Request, session: Session, username: str) -> HTTPResponse:
    if request.app.ctx.desk.accounts.agent(username) is None:
        return render(request, "missing.html", status=404, session=session)
    chosen = request.form.getlist("team") if request.form else []
    try:
        TeamStore(request.app.ctx.engine).set_teams(username, chosen)
    except ValueError:
        return response.redirect("/admin/agents?notice=unknown")
    AuditLog(request.app.ctx.engine).record(session.agent.username, "agent_teams", username, teams=sorted(chosen))
    return response.redirect("/admin/agents?notice=teams")
