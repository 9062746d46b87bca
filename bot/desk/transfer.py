"""Passing a live conversation on: to another agent, or back to the waiting queue for a team.

Only the agent who has the conversation, or an admin, may pass it on, and only while it is live; the
target agent must exist and be in the console now (a conversation given to someone away would leave the
customer waiting on nobody: give it to their team instead), the target team must be one of support.yml's.
All of that is checked here at the moment of the transfer, and the change itself is one conditional
UPDATE on (conversation, current owner) (bot/desk/queue.py), so of two transfers at once exactly one lands.

The reason goes into the transcript as an internal note the customer never sees; the customer hears one
polite line on their own channel through Rasa, like every desk message. The conversation's ticket, if it
has one, follows it to the new team (and agent); the route (bot/admin/transfer_page.py) audits both.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.desk.accounts import ADMIN, Agent
from bot.desk.live import QUEUE_TOPIC, handoff_topic
from bot.desk.queue import ACTIVE, Handoff
from bot.desk.rasa_client import RasaUnavailableError
from bot.desk.service import Desk, DeskError
from bot.desk.teams import TeamStore, team_name
from bot.desk.ticket_news import ticket_changed
from bot.support import FALLBACK_TEAM, team_names

logger = logging.getLogger(__name__)

MAX_NOTE = 1000
AGENT_TARGET, TEAM_TARGET = "agent", "team"
TO_TEAM = "Mình chuyển bạn sang bộ phận {team} để hỗ trợ tiếp nhé, bạn chờ mình một chút ạ."
TO_AGENT = "Mình chuyển bạn sang nhân viên {agent} bên bộ phận {team} để hỗ trợ tiếp nhé, bạn chờ mình một chút ạ."
NOTE_TEXT = "Chuyển từ {source} sang {target}: {note}"
MOVED_MEANWHILE = "Cuộc trò chuyện vừa đổi người phụ trách hoặc đã kết thúc. Bạn tải lại trang nhé."


@dataclass(frozen=True)
class Transferred:
    """What a transfer changed, for the audit log and the answer to the console."""

    handoff_id: int
    previous_owner: str
    team: str
    agent: str | None  # the agent it went to; None when it went back to the queue
    ticket: dict[str, Any] | None  # the ticket that followed it, as it was before


def _now() -> datetime:
    return datetime.now(timezone.utc)


def parse_target(target: str) -> tuple[str, str]:
    """``agent:<username>`` or ``team:<key>`` as (kind, name); refused politely otherwise."""
    kind, _, name = target.strip().partition(":")
    if kind not in (AGENT_TARGET, TEAM_TARGET) or not name or len(name) > 64:
        raise DeskError("Bạn chọn nhân viên hoặc bộ phận nhận cuộc trò chuyện nhé.")
    return kind, name


def _checked_note(note: str) -> str:
    note = note.strip()
    if not note:
        raise DeskError("Bạn ghi chú lý do chuyển để người nhận nắm tình hình nhé.")
    if len(note) > MAX_NOTE:
        raise DeskError(f"Ghi chú chuyển dài quá {MAX_NOTE} ký tự, bạn rút gọn giúp nhé.")
    return note


def _transferable(desk: Desk, handoff_id: int, actor: Agent, owner: str) -> Handoff:
    handoff = desk.queue.get(handoff_id)
    if handoff is None:
        raise DeskError("Không tìm thấy cuộc trò chuyện này.")
    if handoff.status != ACTIVE or handoff.claimed_by is None:
        raise DeskError("Cuộc trò chuyện này đã kết thúc hoặc chưa có ai nhận nên không chuyển được.")
    if actor.role != ADMIN and handoff.claimed_by != actor.username:
        raise DeskError("Chỉ người đang phụ trách cuộc trò chuyện (hoặc quản trị viên) mới chuyển được.")
    if handoff.claimed_by != owner:
        raise DeskError(MOVED_MEANWHILE)
    return handoff


async def transfer(
    desk: Desk, teams: TeamStore, handoff_id: int, actor: Agent, target: str, note: str, owner: str = ""
) -> Transferred:
    """Passes the conversation to ``target`` (``agent:<username>`` or ``team:<key>``) with ``note``;
    raises DeskError, worded for the agent, when it may not.

    ``owner`` is who had it when the page was shown (the actor when empty): an admin acting on a page that is
    out of date (it was passed on meanwhile) is refused, as is the second of two transfers at once.
    """
    kind, name = parse_target(target)
    note = _checked_note(note)
    owner = owner or actor.username
    handoff = _transferable(desk, handoff_id, actor, owner)
    source = (desk.accounts.agent(owner) or actor).display_name
    to_agent = name if kind == AGENT_TARGET else None
    if to_agent is not None:
        to = desk.accounts.agent(to_agent)
        if to is None or to_agent not in desk.accounts.online_usernames():
            raise DeskError("Nhân viên này không có hoặc đang không trực: bạn chuyển cho bộ phận của họ nhé.")
        if to_agent == owner:
            raise DeskError("Cuộc trò chuyện đang do chính nhân viên này phụ trách.")
        theirs = teams.teams_of(to_agent)
        team = (handoff.team if handoff.team in theirs or not theirs else theirs[0]) or FALLBACK_TEAM
        moved = desk.queue.transfer_to_agent(handoff_id, owner, to_agent, team, by=source)
        target_name, said = to.display_name, TO_AGENT.format(agent=to.display_name, team=team_name(team))
    else:
        if name not in team_names():
            raise DeskError("Không có bộ phận này.")
        team = name
        expires = _now() + timedelta(minutes=desk.config.accept_timeout_minutes)
        moved = desk.queue.transfer_to_team(handoff_id, owner, team, by=source, expires_at=expires)
        target_name, said = f"bộ phận {team_name(team)}", TO_TEAM.format(team=team_name(team))
    if not moved:
        raise DeskError(MOVED_MEANWHILE)
    if to_agent is None:  # back in the queue: the transfer line is all the customer needs to hear now
        desk.queue.set_told_position(handoff_id, desk.queue.position(handoff_id) or 1)
    ticket = _move_ticket(desk, handoff, team, to_agent)
    desk.add_note(handoff_id, NOTE_TEXT.format(source=source, target=target_name, note=note), actor)
    try:
        await desk.tell(handoff, said)
    except RasaUnavailableError as error:  # the conversation has its new owner; only the courtesy line is lost
        logger.warning("could not tell the customer of handoff %s about its transfer: %s", handoff_id, error)
    desk.hub.publish(handoff_topic(handoff_id), "transferred", {"handoff_id": handoff_id})
    desk.hub.publish(QUEUE_TOPIC, "queue", {"handoff_id": handoff_id})
    return Transferred(handoff_id, owner, team, to_agent, ticket)


def _move_ticket(desk: Desk, handoff: Handoff, team: str, agent: str | None) -> dict[str, Any] | None:
    """The conversation's ticket (the one the desk filed for it, else the customer's newest unresolved one
    filed around it) moved to ``team`` and ``agent``; what it was before, or None when there is none."""
    ticket = desk.tickets.conversation_ticket(handoff.sender_id, handoff.created_at, handoff.ticket_code)
    if ticket is None or not desk.tickets.move(ticket["code"], team, agent):
        return None
    ticket_changed(desk.hub, ticket["code"], "moved")
    return ticket


def transfer_choices(desk: Desk, teams: TeamStore, handoff: Handoff, agent: Agent) -> dict[str, Any]:
    """What the conversation page shows of teams: the conversation's team, and where it may be passed on."""
    may = handoff.status == ACTIVE and (agent.role == ADMIN or handoff.claimed_by == agent.username)
    online = desk.accounts.online_usernames() if may else set()
    memberships = teams.all_memberships() if may else {}
    names = team_names()
    agents = [
        {"username": a.username, "display_name": a.display_name,
         "teams": ", ".join(names.get(t, t) for t in memberships.get(a.username, []))}
        for a in desk.accounts.agents() if a.username in online and a.username != handoff.claimed_by
    ]  # fmt: skip
    return {
        "team_name": team_name(handoff.team), "transferred_from": handoff.transferred_from, "may_transfer": may,
        "transfer_agents": agents, "transfer_teams": names, "max_transfer_note": MAX_NOTE,
    }  # fmt: skip
