"""The agents' web console: login, queue, conversation, live updates by SSE.

Pages are rendered server-side by Jinja2 with autoescaping, and the small
script adds live lines with ``textContent``, so whatever a customer types is
shown as text. Every state-changing request carries the session's CSRF token;
the session cookie is HttpOnly and SameSite=Strict.

Who sees what is decided here, per request and per conversation id: admins see
every conversation; an agent sees the waiting queue and the conversations they
claimed, and nothing else answers differently from a conversation that does not
exist. Failed logins are slowed per (name, address) and per address
(bot/desk/throttle.py); a live stream re-checks its session every few seconds.

A line the bot or an agent sent that has not reached a Zalo or Messenger customer carries its
``delivery`` from the platform outbox the Rasa server keeps in the same database (bot/outbox.py):
"đang gửi lại…" while it is retried, "chưa gửi được" with the reason once it failed for good.
"""

import asyncio
import hmac
import json
import math
import secrets
import time
from collections.abc import Awaitable, Sequence
from functools import wraps
from typing import Any

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from bot.client_address import client_address
from bot.desk import texts
from bot.desk.accounts import ADMIN, SESSION_IDLE, Agent, Session
from bot.desk.customer import customer_panel
from bot.desk.file_lines import with_file
from bot.desk.labels import LabelStore, distinct
from bot.desk.live import QUEUE_TOPIC, agent_topic, handoff_topic
from bot.desk.queue import CUSTOMER, NOTE, WAITING, Handoff
from bot.desk.service import AtCapacityError, DeskError
from bot.desk.teams import TeamStore, team_name
from bot.desk.ticket_news import TICKETS_TOPIC
from bot.desk.transfer import transfer_choices
from bot.desk.windows import refused_before_sending, window_of
from bot.handoff_protocol import Mood
from bot.outbox import Delivery, OutboxStore, line_key
from bot.schema import AGENT_ONLINE, OUTBOX_PENDING
from bot.support import FALLBACK_TEAM, issue_type_or_fallback
from bot.tickets import STATUS_LABELS as TICKET_STATUS_LABELS
from bot.topic_titles import title_of, topic_titles

console = Blueprint("desk_console")
SESSION_COOKIE = "cskh_session"
LOGIN_CSRF_COOKIE = "cskh_login_csrf"
HEARTBEAT_SECONDS = 15
SESSION_CHECK_SECONDS = 2.0
KDF_SLOTS = 2  # password checks at once: each takes 19 MiB, and the machine has few cores
NOT_FOUND = "Không tìm thấy cuộc trò chuyện này."
NOTICES = {
    "taken": "Cuộc trò chuyện này đã được nhân viên khác nhận hoặc khách đã rời hàng chờ.",
    "closed": "Đã đóng cuộc trò chuyện và gửi câu hỏi đánh giá cho khách.",
    "returned": "Đã trả cuộc trò chuyện lại cho bot.",
    "transferred": "Đã chuyển cuộc trò chuyện.",
    "full": "Bạn đã nhận đủ số cuộc trò chuyện tối đa cùng lúc. Bạn đóng hoặc trả bớt một cuộc rồi nhận thêm nhé.",
}


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    page = request.app.ctx.templates.get_template(template).render(**context)
    return response.html(page, status=status)


def _set_cookie(request: Request, reply: HTTPResponse, name: str, value: str, max_age: int) -> None:
    reply.cookies[name] = value
    cookie = reply.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/"
    cookie["max-age"] = max_age
    if request.app.ctx.secure_cookies:
        cookie["secure"] = True


def _session(request: Request) -> Session | None:
    return request.app.ctx.desk.accounts.session(request.cookies.get(SESSION_COOKIE))


def _csrf_ok(request: Request, session: Session) -> bool:
    provided = request.headers.get("X-CSRF-Token") or (request.form.get("csrf_token") if request.form else "")
    return bool(provided) and hmac.compare_digest(provided.encode(), session.csrf_token.encode())


def agent_required(handler):
    """Pages need a live session (else the login page); changes also need its CSRF token."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        session = _session(request)
        if session is None:
            if request.method == "GET" and not request.path.endswith((".json", "/stream")):
                return response.redirect("/login")
            return response.json({"error": "Phiên đăng nhập đã hết hạn, bạn đăng nhập lại nhé."}, status=401)
        if request.method == "POST" and not _csrf_ok(request, session):
            return response.json({"error": "Yêu cầu không hợp lệ (CSRF). Bạn tải lại trang nhé."}, status=403)
        return await handler(request, session, *args, **kwargs)

    return wrapper


def admin_required(handler):
    """Admin pages: a live session of an account with the admin role."""

    @wraps(handler)
    async def wrapper(request: Request, session: Session, *args: Any, **kwargs: Any) -> HTTPResponse:
        if session.agent.role != ADMIN:
            return render(request, "forbidden.html", status=403, session=session)
        return await handler(request, session, *args, **kwargs)

    return agent_required(wrapper)


# --- login ----------------------------------------------------------------------------------------


@console.get("/login")
async def login_page(request: Request) -> HTTPResponse:
    token = secrets.token_urlsafe(32)
    reply = render(request, "login.html", csrf_token=token, error=None)
    _set_cookie(request, reply, LOGIN_CSRF_COOKIE, token, 600)
    return reply


def _client(request: Request) -> str:
    return client_address(request.ip, request.headers.get("X-Forwarded-For"), request.app.ctx.trusted_proxies)


async def _authenticate(request: Request, username: str, password: str) -> Agent | None:
    """The password check off the event loop (it takes tens of ms), a few at a time to bound memory."""
    async with request.app.ctx.kdf_slots:
        return await asyncio.to_thread(request.app.ctx.desk.accounts.authenticate, username, password)


@console.post("/login")
async def login(request: Request) -> HTTPResponse:
    form = request.form or {}
    username, password = (form.get("username") or "").strip(), form.get("password") or ""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    provided = form.get("csrf_token") or ""
    token = secrets.token_urlsafe(32)

    def refuse(message: str, status: int) -> HTTPResponse:
        reply = render(request, "login.html", status=status, csrf_token=token, error=message)
        _set_cookie(request, reply, LOGIN_CSRF_COOKIE, token, 600)
        return reply

    if not expected or not hmac.compare_digest(expected.encode(), provided.encode()):
        return refuse("Trang đăng nhập đã cũ, bạn thử lại nhé.", 403)
    address, throttle = _client(request), request.app.ctx.login_throttle
    wait = throttle.wait(username, address)
    if wait > 0:
        minutes = math.ceil(wait / 60)
        reply = refuse(f"Đăng nhập sai quá nhiều lần. Bạn đợi khoảng {minutes} phút rồi thử lại nhé.", 429)
        reply.headers["Retry-After"] = str(math.ceil(wait))
        return reply
    agent = await _authenticate(request, username, password)
    if agent is None:
        throttle.failed(username, address)
        return refuse("Sai tên đăng nhập hoặc mật khẩu.", 401)
    throttle.succeeded(username, address)
    request.app.ctx.desk.set_status(agent, AGENT_ONLINE)  # logging in says "I am here", whatever was set before
    cookie, _ = request.app.ctx.desk.accounts.start_session(agent)
    reply = response.redirect("/")
    _set_cookie(request, reply, SESSION_COOKIE, cookie, int(SESSION_IDLE.total_seconds()))
    del reply.cookies[LOGIN_CSRF_COOKIE]
    return reply


@console.post("/logout")
@agent_required
async def logout(request: Request, session: Session) -> HTTPResponse:
    request.app.ctx.desk.accounts.end_session(request.cookies.get(SESSION_COOKIE))
    request.app.ctx.desk.accounts.offline(session.agent.username)
    reply = response.redirect("/login")
    del reply.cookies[SESSION_COOKIE]
    return reply


# --- queue ----------------------------------------------------------------------------------------


def _queue_row(
    handoff: Handoff, labels: dict[int, list[str]] | None = None, my_teams: Sequence[str] = ()
) -> dict[str, Any]:
    return {
        "id": handoff.id, "channel": handoff.channel, "reason": texts.REASON_LABELS.get(handoff.reason, handoff.reason),
        "summary": handoff.summary, "created_at": handoff.created_at.timestamp(), "claimed_by": handoff.claimed_by,
        "status": handoff.status, "labels": (labels or {}).get(handoff.id, []), **_mood(handoff),
        "team": handoff.team or FALLBACK_TEAM, "team_name": team_name(handoff.team),
        "my_team": (handoff.team or FALLBACK_TEAM) in my_teams, "transferred_from": handoff.transferred_from or "",
    }  # fmt: skip


def _mood(handoff: Handoff) -> dict[str, str]:
    """The mood flag of a row: its label, its level (for the colour) and the words that showed it."""
    mood: Mood | dict[str, Any] = handoff.mood or {}
    label = texts.MOOD_LABELS.get(mood.get("label", ""), "")
    level = mood.get("label", "") if label else ""
    return {"mood": label, "mood_level": level, "mood_cues": ", ".join(mood.get("cues", []))}


def _queue_state(request: Request, session: Session) -> dict[str, Any]:
    """The waiting queue with the agent's teams' customers first (each part longest-waiting first: the
    others stay listed, so a customer of a team nobody is in is never out of sight) and the agent's own
    conversations; only those labelled ``?label=`` when it is given."""
    queue, store = request.app.ctx.desk.queue, LabelStore(request.app.ctx.engine)
    my_teams = TeamStore(request.app.ctx.engine).teams_of(session.agent.username)
    waiting, mine = queue.waiting(), queue.active_for(session.agent.username)
    labels = store.labels_of([h.id for h in (*waiting, *mine)])
    wanted = request.args.get("label", "").strip()
    if wanted:
        chosen = store.with_label(wanted)
        waiting, mine = [h for h in waiting if h.id in chosen], [h for h in mine if h.id in chosen]
    rows = [_queue_row(h, labels, my_teams) for h in waiting]
    return {
        "waiting": sorted(rows, key=lambda row: not row["my_team"]),
        "mine": [_queue_row(h, labels, my_teams) for h in mine],
        "labels": distinct(label for found in labels.values() for label in found),
        "label": wanted,
        "now": time.time(),
        # whether a new customer is for this agent now (the rule of the "waiting" alert): the "n" shortcut asks
        "offered": request.app.ctx.desk.offered_new_customers(session.agent.username),
    }


@console.get("/")
@agent_required
async def queue_page(request: Request, session: Session) -> HTTPResponse:
    state = _queue_state(request, session)
    notice = NOTICES.get(request.args.get("notice", ""))
    return render(request, "queue.html", session=session, state=state, notice=notice)


@console.get("/queue.json")
@agent_required
async def queue_json(request: Request, session: Session) -> HTTPResponse:
    return response.json(_queue_state(request, session))


def _may_see(agent: Agent, handoff: Handoff) -> bool:
    """Admins see every conversation; an agent sees the waiting queue and the conversations they claimed."""
    return agent.role == ADMIN or handoff.status == WAITING or handoff.claimed_by == agent.username


def _visible(request: Request, agent: Agent, handoff_id: int) -> Handoff | None:
    """The conversation if it exists and ``agent`` may see it now; None either way otherwise."""
    handoff = request.app.ctx.desk.queue.get(handoff_id)
    return handoff if handoff is not None and _may_see(agent, handoff) else None


def _not_found() -> HTTPResponse:
    return response.json({"error": NOT_FOUND}, status=404)


def _alert_wanted(request: Request, username: str, event: str) -> bool:
    """Whether this agent's stream carries an alert: new waiting customers only to agents who may take one
    now, their own customers' messages except while away. Other events go to every stream."""
    desk = request.app.ctx.desk
    if event == "waiting":
        return desk.offered_new_customers(username)
    if event == "customer_message":
        return desk.alerted_to_own_customers(username)
    return True


def _stream_end(request: Request, token: str | None, handoff_id: int | None) -> str | None:
    """Why a live stream must stop now (``session`` or ``access``), or None while it may go on."""
    current = request.app.ctx.desk.accounts.session(token, touch=False)
    if current is None:
        return "session"
    if handoff_id is not None and _visible(request, current.agent, handoff_id) is None:
        return "access"
    return None


@console.get("/stream")
@agent_required
async def stream(request: Request, session: Session) -> HTTPResponse:
    """Server-sent events: queue changes, and the lines of one conversation when ``?handoff=`` is given
    (with ``delivery`` events when a line being retried to the customer was sent or failed), and the
    alerts of bot/desk/static/alerts.js: ``waiting`` (a new customer, only to agents who may take one now),
    ``customer_message`` (in a conversation of the agent's, not while away) and ``agents`` (a status changed);
    with ``?tickets=1`` also ``ticket`` news for the tickets page (bot/desk/ticket_news.py).

    The session, and the right to see that conversation, are checked again at every event and at
    least every ``SESSION_CHECK_SECONDS``: a logout, an expiry or another agent's claim ends the
    stream, and only a live session's stream marks its agent present.
    """
    desk = request.app.ctx.desk
    token = request.cookies.get(SESSION_COOKIE)
    topics = [QUEUE_TOPIC, agent_topic(session.agent.username)]
    if request.args.get("tickets") == "1":  # the tickets page: every agent sees every ticket there
        topics.append(TICKETS_TOPIC)
    wanted = request.args.get("handoff", "")
    handoff_id = int(wanted) if wanted.isascii() and wanted.isdigit() and len(wanted) < 12 else None
    handoff = None
    if handoff_id is not None:
        handoff = _visible(request, session.agent, handoff_id)
        if handoff is None:
            return _not_found()
        topics.append(handoff_topic(handoff_id))
    deliveries = DeliveryWatch(request, handoff)
    reply = await request.respond(
        content_type="text/event-stream; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )
    with desk.hub.subscribe(*topics) as updates:
        await reply.send(": connected\n\n")
        beat = time.monotonic()
        while True:
            try:
                update = await asyncio.wait_for(updates.get(), timeout=SESSION_CHECK_SECONDS)
            except asyncio.TimeoutError:
                update = None
            ended = _stream_end(request, token, handoff_id)
            if ended:
                await reply.send(f"event: ended\ndata: {json.dumps({'reason': ended})}\n\n")
                return await reply.eof()
            if update is not None and _alert_wanted(request, session.agent.username, update[0]):
                event, data = update
                if event == "message":
                    data = deliveries.line(data)
                await reply.send(f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n")
            for change in deliveries.changes():
                await reply.send(f"event: delivery\ndata: {json.dumps(change, ensure_ascii=False)}\n\n")
            if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                beat = time.monotonic()
                desk.accounts.seen(session.agent.username)
                await reply.send(": heartbeat\n\n")


# --- one conversation -----------------------------------------------------------------------------


@console.post("/handoffs/<handoff_id:int>/claim")
@agent_required
async def claim(request: Request, session: Session, handoff_id: int) -> HTTPResponse:
    try:
        await request.app.ctx.desk.claim(handoff_id, session.agent)
    except AtCapacityError:
        return response.redirect("/?notice=full")
    except DeskError:
        return response.redirect("/?notice=taken")
    return response.redirect(f"/handoffs/{handoff_id}")


def _undelivered(request: Request, handoff: Handoff) -> dict[float, Delivery]:
    return OutboxStore(request.app.ctx.engine).undelivered(handoff.sender_id)


def _with_delivery(line: dict[str, Any], undelivered: dict[float, Delivery]) -> dict[str, Any]:
    """A transcript line with its ``delivery`` when the customer has not got it (only what was sent to them), and
    the agent's file it carried."""
    line = with_file(line)
    found = None if line["role"] in (CUSTOMER, NOTE) else undelivered.get(line_key(line["sent_at"]))
    if found is None:
        return line
    return {**line, "delivery": {"status": found.status, "reason": found.reason}}


def _lines(request: Request, handoff: Handoff) -> list[dict[str, Any]]:
    undelivered = _undelivered(request, handoff)
    return [_with_delivery(m.as_dict(), undelivered) for m in request.app.ctx.desk.queue.messages(handoff.id)]


class DeliveryWatch:
    """The lines of one open conversation still being retried, checked again until they are sent or failed."""

    def __init__(self, request: Request, handoff: Handoff | None) -> None:
        self._request, self._handoff = request, handoff
        self._pending: dict[int, float] = {}  # message id -> its sent_at
        self._checked = time.monotonic()
        if handoff is not None:
            for line in _lines(request, handoff):
                self._note(line)

    def _note(self, line: dict[str, Any]) -> None:
        if line.get("delivery", {}).get("status") == OUTBOX_PENDING:
            self._pending[line["id"]] = line["sent_at"]

    def line(self, data: dict[str, Any]) -> dict[str, Any]:
        """A new transcript line, with its delivery if it has not reached the customer yet."""
        if self._handoff is None:
            return data
        line = _with_delivery(data, _undelivered(self._request, self._handoff))
        self._note(line)
        return line

    def changes(self) -> list[dict[str, Any]]:
        """``{"id", "status", "reason"}`` for each watched line that was sent or failed since the last check."""
        if self._handoff is None or not self._pending or time.monotonic() - self._checked < SESSION_CHECK_SECONDS:
            return []
        self._checked = time.monotonic()
        undelivered = _undelivered(self._request, self._handoff)
        changed = []
        for message_id, sent_at in list(self._pending.items()):
            found = undelivered.get(line_key(sent_at))
            if found is None or found.status != OUTBOX_PENDING:
                del self._pending[message_id]
                status, reason = (found.status, found.reason) if found else ("sent", "")
                changed.append({"id": message_id, "status": status, "reason": reason})
        return changed


def _conversation_ticket(request: Request, handoff: Handoff) -> dict[str, str] | None:
    """The ticket this conversation is about (bot/tickets.py ``conversation_ticket``), as its summary names it."""
    found = request.app.ctx.desk.tickets.conversation_ticket(handoff.sender_id, handoff.created_at, handoff.ticket_code)
    if found is None:
        return None
    status = TICKET_STATUS_LABELS.get(found["status"], found["status"])
    issue = issue_type_or_fallback(found["issue_type"]).label
    return {"code": found["code"], "issue_label": issue, "team_name": team_name(found["team"]), "status_label": status}


@console.get("/handoffs/<handoff_id:int>")
@agent_required
async def conversation_page(request: Request, session: Session, handoff_id: int) -> HTTPResponse:
    handoff = _visible(request, session.agent, handoff_id)
    if handoff is None:
        return render(request, "missing.html", status=404, session=session)
    slots = [(texts.SLOT_LABELS.get(k, k), v) for k, v in handoff.slots.items() if k in texts.SLOT_LABELS and v]
    return render(
        request, "conversation.html", session=session, handoff=handoff, messages=_lines(request, handoff),
        slots=slots, reason=texts.REASON_LABELS.get(handoff.reason, handoff.reason), mood=_mood(handoff),
        mine=handoff.status == "active" and handoff.claimed_by == session.agent.username,
        waiting=handoff.status == WAITING, labels=LabelStore(request.app.ctx.engine).labels_of([handoff.id]).get(
            handoff.id, []),
        **transfer_choices(request.app.ctx.desk, TeamStore(request.app.ctx.engine), handoff, session.agent),
        customer=await asyncio.to_thread(customer_panel, request.app.ctx.engine, request.app.ctx.orders, handoff,
                                         session.agent),
        channel_window=await window_of(request, handoff), conversation_ticket=_conversation_ticket(request, handoff),
    )  # fmt: skip


@console.get("/handoffs/<handoff_id:int>/messages.json")
@agent_required
async def messages_json(request: Request, session: Session, handoff_id: int) -> HTTPResponse:
    handoff = _visible(request, session.agent, handoff_id)
    if handoff is None:
        return _not_found()
    return response.json(_lines(request, handoff))


@console.get("/handoffs/<handoff_id:int>/suggestions.json")
@agent_required
async def suggestions_json(request: Request, session: Session, handoff_id: int) -> HTTPResponse:
    if _visible(request, session.agent, handoff_id) is None:
        return _not_found()
    titles = topic_titles(request.app.ctx.data_dir)  # the agent reads "Phí giao hàng", not shipping_fee
    suggestions = await request.app.ctx.desk.suggestions(handoff_id)
    return response.json([{**s, "title": title_of(titles, s["topic"])} for s in suggestions])


def _field(request: Request, name: str) -> str:
    if request.form and request.form.get(name) is not None:
        return request.form.get(name)
    body = request.json if request.content_type.startswith("application/json") else None
    return str(body.get(name, "")) if isinstance(body, dict) else ""


async def _outcome(change: Awaitable[None], done: dict[str, Any]) -> HTTPResponse:
    """``done`` once the desk made the change; the desk's refusal, worded for the agent, otherwise."""
    try:
        await change
    except DeskError as error:
        return response.json({"error": str(error)}, status=409)
    return response.json(done)


@console.post("/handoffs/<handoff_id:int>/reply")
@agent_required
async def reply(request: Request, session: Session, handoff_id: int) -> HTTPResponse:
    handoff = _visible(request, session.agent, handoff_id)
    if handoff is None:
        return _not_found()
    if (outside := await refused_before_sending(request, handoff)) is not None:
        return outside
    return await _outcome(request.app.ctx.desk.reply(handoff_id, session.agent, _field(request, "text")), {"ok": True})


@console.post("/handoffs/<handoff_id:int>/note")
@agent_required
async def note(request: Request, session: Session, handoff_id: int) -> HTTPResponse:
    if _visible(request, session.agent, handoff_id) is None:
        return _not_found()
    return await _outcome(request.app.ctx.desk.note(handoff_id, session.agent, _field(request, "text")), {"ok": True})


@console.post("/handoffs/<handoff_id:int>/handback")
@agent_required
async def hand_back(request: Request, session: Session, handoff_id: int) -> HTTPResponse:
    if _visible(request, session.agent, handoff_id) is None:
        return _not_found()
    change = request.app.ctx.desk.hand_back(handoff_id, session.agent)
    return await _outcome(change, {"ok": True, "next": "/?notice=returned"})


@console.post("/handoffs/<handoff_id:int>/close")
@agent_required
async def close(request: Request, session: Session, handoff_id: int) -> HTTPResponse:
    if _visible(request, session.agent, handoff_id) is None:
        return _not_found()
    change = request.app.ctx.desk.close(handoff_id, session.agent, _field(request, "resolution"))
    return await _outcome(change, {"ok": True, "next": "/?notice=closed"})
