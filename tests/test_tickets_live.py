"""Ticket news on the console's live stream, which the tickets page follows (bot/desk/ticket_news.py): a ticket
the bot's actions file straight into the project database is noticed at the desk's timer, and each change an
agent makes on a ticket (assign, comment, pending, resolve) or a transfer that moves it is published at once.
The news names the ticket and the change only, and goes only to streams that asked for it with a session.

Over HTTP against the console in this process (its timer every 0.2 s), Rasa being the loopback stand-in of
tests/test_desk_console.py.
"""

import time
from pathlib import Path

import pytest
import requests

from bot.desk import console
from bot.desk.accounts import AccountStore
from bot.sandbox import DeskAgent, LiveStream
from bot.tickets import TicketStore
from tests.console_server import console_server
from tests.test_desk_console import RASA_TOKEN, FakeRasa
from tests.test_tickets_page import act


@pytest.fixture
def desk(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(console, "HEARTBEAT_SECONDS", 0.3)  # a closed stream is noticed at its next beat
    with FakeRasa() as rasa:
        port = int(rasa.url.rsplit(":", 1)[1])
        with console_server(tmp_path, rasa_port=port, rasa_token=RASA_TOKEN, desk_tick_seconds=0.2) as server:
            accounts = AccountStore(server.engine)
            accounts.add_agent("lan", "lan-password-123", "Lan")
            accounts.add_agent("minh", "minh-password-123", "Minh")
            yield server


def file_ticket(server, sender: str = "web:khach-1") -> str:
    """A ticket as the action server files it: straight into the project database, the desk not told."""
    filed = TicketStore(server.engine).create(
        channel="rest", sender_id=sender, issue_type="damaged", description="Hộp bị móp", contact_phone="0912345678"
    )
    return filed.code


def news(stream: LiveStream, code: str, change: str, timeout: float = 5) -> None:
    stream.wait_for("ticket", lambda data: data == {"code": code, "change": change}, timeout)


def test_a_ticket_the_bot_files_is_news_within_a_few_timer_ticks(desk) -> None:
    already = file_ticket(desk, "web:truoc")
    time.sleep(1)  # the desk noticed it at a tick (five of them) before the page opened: no news to it
    stream = LiveStream(DeskAgent(desk.url, "lan", "lan-password-123"), tickets=True)
    try:
        first, second = file_ticket(desk, "web:a"), file_ticket(desk, "web:b")
        news(stream, first, "created")
        news(stream, second, "created")
        tickets = [data for _, event, data in stream.events if event == "ticket"]
        assert all(set(data) == {"code", "change"} for data in tickets)  # nothing of the customer rides along
        assert already not in {data["code"] for data in tickets}
        assert [data["code"] for data in tickets].count(first) == 1  # once, not at every tick
    finally:
        stream.close()


def test_each_change_an_agent_makes_is_news_to_the_other_agents_tickets_page(desk) -> None:
    code = file_ticket(desk)
    lan, minh = DeskAgent(desk.url, "lan", "lan-password-123"), DeskAgent(desk.url, "minh", "minh-password-123")
    stream = LiveStream(lan, tickets=True)
    try:
        assert act(minh, code, "assign").status_code == 302
        news(stream, code, "assigned")
        assert act(minh, code, "comment", text="Đã gọi khách, hẹn đổi hàng").status_code == 302
        news(stream, code, "commented")
        assert act(minh, code, "pending").status_code == 302
        news(stream, code, "pending")
        assert act(minh, code, "resolve", message="Shop đổi máy mới cho bạn ạ.").status_code == 302
        news(stream, code, "resolved")
    finally:
        stream.close()


def test_a_refused_change_is_no_news_and_the_news_needs_a_session(desk) -> None:
    code = file_ticket(desk)
    lan, minh = DeskAgent(desk.url, "lan", "lan-password-123"), DeskAgent(desk.url, "minh", "minh-password-123")
    assert act(lan, code, "assign").status_code == 302
    stream = LiveStream(lan, tickets=True)
    try:
        assert act(minh, code, "resolve", message="không phải phiếu của mình").status_code == 403  # lan's
        forged = minh.http.post(f"{desk.url}/tickets/{code}/comment", data={"text": "x"}, timeout=10)
        assert forged.status_code == 403  # no CSRF token
        assert act(lan, code, "comment", text="Khách hẹn chiều nay").status_code == 302
        news(stream, code, "commented")
        changes = [data["change"] for _, event, data in stream.events if event == "ticket"]
        assert [change for change in changes if change != "created"] == ["commented"]  # its filing may be news yet
    finally:
        stream.close()
    assert requests.get(f"{desk.url}/stream", params={"tickets": 1}, timeout=10).status_code == 401
