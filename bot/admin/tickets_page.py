"""The tickets page of the console: every reported problem with its team, status, owner and due time.

Agents and admins list and filter tickets and see a ticket's customer, channel, order, phone to call
back (staff need it whole; it is never logged) and comments. Who may change a ticket is decided here,
per request: an admin any ticket, an agent only one that is unassigned or theirs, and an agent gives a
ticket to nobody but themselves. Each change is written to the audit log (hence this lives beside it, in
bot/admin: bot/desk never imports bot/admin).

Every change is news on the live hub (bot/desk/ticket_news.py): open tickets pages refresh their list.

Resolving sends the customer a message on their own channel the way agents' replies go (Rasa's tracker
events API, tagged as the desk's); the ticket is marked resolved first, in one conditional update, so a
double click or two agents at once send it once.
"""

from datetime import datetime, timezone
from typing import Any

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from bot.admin.audit import AuditLog
from bot.desk.accounts import ADMIN, Agent, Session
from bot.desk.console import agent_required, render
from bot.desk.due_times import due_at
from bot.desk.rasa_client import RasaUnavailableError
from bot.desk.texts import REASON_LABELS
from bot.desk.ticket_news import ticket_changed
from bot.handoff_protocol import desk_message
from bot.support import issue_type_or_fallback, issue_types
from bot.tickets import RESOLVED, STATUS_LABELS, STATUSES, TicketStore

tickets_page = Blueprint("desk_tickets")
RESOLVED_MESSAGE = "Yêu cầu {code} của bạn đã được xử lý: {message}"
MAX_TEXT = 2000
NOTICES = {
    "assigned": "Đã giao phiếu.",
    "commented": "Đã thêm ghi chú.",
    "pending": "Phiếu chuyển sang “đang chờ”.",
    "resolved": "Đã xử lý phiếu và nhắn cho khách.",
    "already": "Phiếu này đã được xử lý trước đó: không gửi lại cho khách.",
    "unsent": "Chưa gửi được tin nhắn tới khách (máy chủ bot không phản hồi): phiếu vẫn mở, bạn thử lại nhé.",
    "empty": "Bạn chưa nhập nội dung.",
    "not_open": "Chỉ phiếu mới mới chuyển sang “đang chờ” được.",
}


def _store(request: Request) -> TicketStore:
    store = TicketStore(request.app.ctx.engine)
    config = request.app.ctx.desk.config
    store.stamp_due_times(lambda created, issue: due_at(config, created, issue))
    return store


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def _row(ticket: dict[str, Any], now: datetime) -> dict[str, Any]:
    due = _aware(ticket["due_at"])
    return {
        **ticket, "created_at": _aware(ticket["created_at"]), "due_at": due,
        "overdue": ticket["status"] != RESOLVED and due is not None and due < now,
        "status_label": STATUS_LABELS.get(ticket["status"], ticket["status"]),
        "issue_label": issue_type_or_fallback(ticket["issue_type"]).label,
        # filed because nobody could take the customer's hand-off (out of hours, no agent in time): a call back
        "callback": bool(ticket["handoff_reason"]),
        "callback_reason": REASON_LABELS.get(ticket["handoff_reason"] or "", ticket["handoff_reason"]),
    }  # fmt: skip


def _may_change(agent: Agent, ticket: dict[str, Any]) -> bool:
    """Admins change any ticket; an agent one nobody owns yet or their own."""
    return agent.role == ADMIN or ticket["assignee"] in (None, agent.username)


def _teams() -> dict[str, str]:
    return {t.team: t.team_name for t in issue_types().values()}


@tickets_page.get("/tickets")
@agent_required
async def list_page(request: Request, session: Session) -> HTTPResponse:
    team, status = request.args.get("team") or None, request.args.get("status") or None
    overdue_only, callbacks_only = request.args.get("overdue") == "1", request.args.get("callback") == "1"
    now = datetime.now(timezone.utc)
    rows = [_row(t, now) for t in _store(request).listing(team, status if status in STATUSES else None)]
    if overdue_only:
        rows = [row for row in rows if row["overdue"]]
    if callbacks_only:
        rows = [row for row in rows if row["callback"]]
    return render(
        request, "tickets.html", session=session, tickets=rows, teams=_teams(), statuses=STATUS_LABELS,
        chosen={"team": team or "", "status": status or "", "overdue": overdue_only, "callback": callbacks_only},
    )  # fmt: skip


@tickets_page.get("/tickets/<code:str>")
@agent_required
async def detail_page(request: Request, session: Session, code: str) -> HTTPResponse:
    store = _store(request)
    ticket = store.get(code)
    if ticket is None:
        return render(request, "missing.html", status=404, session=session)
    return render(
        request, "ticket.html", session=session, ticket=_row(ticket, datetime.now(timezone.utc)),
        comments=store.comments(code), teams=_teams(), may_change=_may_change(session.agent, ticket),
        attachments=request.app.ctx.attachments.of_ticket(code),
        notice=NOTICES.get(request.args.get("notice", "")),
    )  # fmt: skip


def _form(request: Request, name: str) -> str:
    return ((request.form or {}).get(name) or "").strip()


def _back(code: str, notice: str) -> HTTPResponse:
    return response.redirect(f"/tickets/{code}?notice={notice}")


def _changeable(request: Request, session: Session, code: str) -> tuple[TicketStore, dict[str, Any]] | HTTPResponse:
    """The store and the ticket when ``session`` may change it; the refusal to answer otherwise."""
    store = TicketStore(request.app.ctx.engine)
    ticket = store.get(code)
    if ticket is None:
        return render(request, "missing.html", status=404, session=session)
    if not _may_change(session.agent, ticket):
        return render(request, "forbidden.html", status=403, session=session)
    return store, ticket


@tickets_page.post("/tickets/<code:str>/assign")
@agent_required
async def assign(request: Request, session: Session, code: str) -> HTTPResponse:
    found = _changeable(request, session, code)
    if isinstance(found, HTTPResponse):
        return found
    store, _ = found
    agent, wanted = session.agent, _form(request, "assignee") or session.agent.username
    if wanted != agent.username and agent.role != ADMIN:
        return render(request, "forbidden.html", status=403, session=session)
    if request.app.ctx.desk.accounts.agent(wanted) is None:
        return render(request, "missing.html", status=404, session=session)
    guard = None if agent.role == ADMIN else agent.username
    if not store.assign(code, wanted, only_if_unassigned_or=guard):
        return render(request, "forbidden.html", status=403, session=session)
    AuditLog(request.app.ctx.engine).record(agent.username, "ticket_assign", code, assignee=wanted)
    ticket_changed(request.app.ctx.desk.hub, code, "assigned")
    return _back(code, "assigned")


@tickets_page.post("/tickets/<code:str>/comment")
@agent_required
async def comment(request: Request, session: Session, code: str) -> HTTPResponse:
    found = _changeable(request, session, code)
    if isinstance(found, HTTPResponse):
        return found
    store, _ = found
    text = _form(request, "text")[:MAX_TEXT]
    if not text:
        return _back(code, "empty")
    store.comment(code, session.agent.username, text)
    AuditLog(request.app.ctx.engine).record(session.agent.username, "ticket_comment", code)
    ticket_changed(request.app.ctx.desk.hub, code, "commented")
    return _back(code, "commented")


@tickets_page.post("/tickets/<code:str>/pending")
@agent_required
async def set_pending(request: Request, session: Session, code: str) -> HTTPResponse:
    found = _changeable(request, session, code)
    if isinstance(found, HTTPResponse):
        return found
    store, _ = found
    if not store.set_pending(code):
        return _back(code, "not_open")
    AuditLog(request.app.ctx.engine).record(session.agent.username, "ticket_pending", code)
    ticket_changed(request.app.ctx.desk.hub, code, "pending")
    return _back(code, "pending")


@tickets_page.post("/tickets/<code:str>/resolve")
@agent_required
async def resolve(request: Request, session: Session, code: str) -> HTTPResponse:
    found = _changeable(request, session, code)
    if isinstance(found, HTTPResponse):
        return found
    store, ticket = found
    message = _form(request, "message")[:MAX_TEXT]
    if not message:
        return _back(code, "empty")
    before = store.resolve(code, message)
    if before is None:
        return _back(code, "already")
    said = desk_message(RESOLVED_MESSAGE.format(code=code, message=message), agent=session.agent.display_name)
    try:
        await request.app.ctx.desk.rasa.append(ticket["sender_id"], [said])
    except RasaUnavailableError:
        store.reopen(code, before)
        return _back(code, "unsent")
    AuditLog(request.app.ctx.engine).record(session.agent.username, "ticket_resolve", code, previous=before)
    ticket_changed(request.app.ctx.desk.hub, code, "resolved")
    return _back(code, "resolved")
