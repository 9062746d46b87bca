"""The console's tickets page, in this process: staff list and filter tickets, take one, comment, and resolve
it with a message that reaches the customer's conversation once; a forged request or another agent's
ticket changes nothing and tells the customer nothing.

Rasa, which delivers the resolution to the customer, is the loopback stand-in of tests/test_desk_console.py.
"""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from bot.admin.audit import AuditLog
from bot.desk.accounts import ADMIN, AccountStore
from bot.sandbox import DeskAgent
from bot.schema import tickets_table
from bot.tickets import TicketStore
from tests.console_server import console_server
from tests.test_desk_console import RASA_TOKEN, FakeRasa


@pytest.fixture
def desk(tmp_path: Path):
    with FakeRasa() as rasa:
        port = int(rasa.url.rsplit(":", 1)[1])
        with console_server(tmp_path, rasa_port=port, rasa_token=RASA_TOKEN) as server:
            accounts = AccountStore(server.engine)
            accounts.add_agent("lan", "lan-password-123", "Lan")
            accounts.add_agent("minh", "minh-password-123", "Minh")
            accounts.add_agent("chu", "chu-password-123", "Chủ", role=ADMIN)
            yield server, rasa


def ticket(server, sender: str, issue_type: str = "damaged", phone: str | None = None) -> str:
    return TicketStore(server.engine).create(
        channel="rest", sender_id=sender, issue_type=issue_type, description="Hộp bị móp, máy không lên nguồn",
        order_number="DH123456", contact_phone=phone,
    ).code  # fmt: skip


def act(agent: DeskAgent, code: str, action: str, **fields: str) -> requests.Response:
    """A form on the ticket's page, submitted as the browser does (with the page's CSRF token)."""
    return agent.http.post(
        f"{agent.desk_url}/tickets/{code}/{action}", data={"csrf_token": agent.csrf, **fields},
        allow_redirects=False, timeout=10,
    )  # fmt: skip


def codes(agent: DeskAgent, query: str = "") -> list[str]:
    page = agent.http.get(f"{agent.desk_url}/tickets{query}", timeout=10)
    assert page.status_code == 200
    return [line.split('data-code="')[1].split('"')[0] for line in page.text.splitlines() if 'data-code="' in line]


def said_to(rasa: FakeRasa, sender: str) -> list[str]:
    return [event["text"] for event in rasa.appended.get(sender, []) if event["event"] == "bot"]


def test_staff_list_and_filter_tickets_by_team_status_and_overdue_with_the_phone_to_call(desk) -> None:
    server, _ = desk
    broken = ticket(server, "web:a", "damaged", phone="0912345678")
    late = ticket(server, "web:b", "late_delivery")
    with server.engine.begin() as connection:  # filed two days ago: past any promise
        connection.execute(tickets_table.update().where(tickets_table.c.code == late)
                           .values(due_at=datetime.now(timezone.utc) - timedelta(hours=1)))  # fmt: skip
    lan = DeskAgent(server.url, "lan", "lan-password-123")

    assert sorted(codes(lan)) == sorted([broken, late])
    assert codes(lan, "?team=warehouse") == [broken]
    assert codes(lan, "?overdue=1") == [late]
    assert codes(lan, "?status=resolved") == []
    page = lan.http.get(f"{server.url}/tickets/{broken}", timeout=10).text
    assert "0912345678" in page and "DH123456" in page and "Hộp bị móp" in page
    due = TicketStore(server.engine).get(broken)["due_at"].replace(tzinfo=timezone.utc)
    assert due > datetime.now(timezone.utc) + timedelta(hours=24)  # 24 hours of open desk: beyond a night


def test_a_call_back_promised_when_nobody_could_answer_is_listed_with_the_phone_to_call(desk) -> None:
    server, _ = desk
    ticket(server, "web:c", "other")
    promised = TicketStore(server.engine).create(
        channel="rest", sender_id="web:d", issue_type="other", description="Muốn đổi địa chỉ giao hàng",
        contact_phone="0987654321", handoff_reason="customer_request",
    ).code  # fmt: skip
    lan = DeskAgent(server.url, "lan", "lan-password-123")

    assert codes(lan, "?callback=1") == [promised]
    row = next(line for line in lan.http.get(f"{server.url}/tickets", timeout=10).text.split("<tr") if promised in line)
    assert "Hẹn gọi lại" in row and "0987654321" in row
    assert "Khách yêu cầu gặp nhân viên" in lan.http.get(f"{server.url}/tickets/{promised}", timeout=10).text


def test_an_agent_takes_comments_and_resolves_a_ticket_and_the_customer_hears_it_once(desk) -> None:
    server, rasa = desk
    code = ticket(server, "web:khach-1")
    lan = DeskAgent(server.url, "lan", "lan-password-123")

    assert act(lan, code, "assign").status_code == 302
    assert TicketStore(server.engine).get(code)["assignee"] == "lan"
    assert act(lan, code, "comment", text="Đã gọi kho kiểm tra").status_code == 302
    assert [c["text"] for c in TicketStore(server.engine).comments(code)] == ["Đã gọi kho kiểm tra"]
    assert act(lan, code, "pending").status_code == 302
    assert TicketStore(server.engine).get(code)["status"] == "pending"

    first = act(lan, code, "resolve", message="Shop gửi bạn máy mới trong 2 ngày ạ.")
    again = act(lan, code, "resolve", message="Shop gửi bạn máy mới trong 2 ngày ạ.")
    assert first.headers["Location"].endswith("notice=resolved") and again.headers["Location"].endswith("already")
    assert said_to(rasa, "web:khach-1") == [
        f"Yêu cầu {code} của bạn đã được xử lý: Shop gửi bạn máy mới trong 2 ngày ạ."
    ]
    sent = next(e for e in rasa.appended["web:khach-1"] if e["event"] == "bot")
    assert sent["metadata"]["source"] == "desk"
    assert TicketStore(server.engine).get(code)["status"] == "resolved"
    assert [e.action for e in AuditLog(server.engine).latest()] == [
        "ticket_resolve", "ticket_pending", "ticket_comment", "ticket_assign"]  # fmt: skip


def test_another_agents_ticket_and_forged_requests_are_refused_and_reach_nobody(desk) -> None:
    server, rasa = desk
    code = ticket(server, "web:khach-2")
    lan, minh = DeskAgent(server.url, "lan", "lan-password-123"), DeskAgent(server.url, "minh", "minh-password-123")
    assert act(lan, code, "assign").status_code == 302

    assert act(minh, code, "resolve", message="xong").status_code == 403
    assert act(minh, code, "assign").status_code == 403
    assert act(minh, code, "comment", text="chen ngang").status_code == 403
    assert act(lan, code, "assign", assignee="minh").status_code == 403  # an agent gives tickets only to themselves
    forged = lan.http.post(f"{server.url}/tickets/{code}/resolve", data={"csrf_token": "x", "message": "giả"},
                           allow_redirects=False, timeout=10)  # fmt: skip
    assert forged.status_code == 403
    stranger = requests.post(f"{server.url}/tickets/{code}/resolve", data={"message": "giả"}, timeout=10)
    assert stranger.status_code == 401
    assert said_to(rasa, "web:khach-2") == []
    stored = TicketStore(server.engine).get(code)
    assert (stored["status"], stored["assignee"]) == ("open", "lan")
    assert TicketStore(server.engine).comments(code) == []

    chu = DeskAgent(server.url, "chu", "chu-password-123")
    assert act(chu, code, "assign", assignee="minh").status_code == 302  # an admin hands it over
    assert act(minh, code, "resolve", message="Đã hoàn tiền cho bạn.").status_code == 302
    assert said_to(rasa, "web:khach-2") == [f"Yêu cầu {code} của bạn đã được xử lý: Đã hoàn tiền cho bạn."]


def test_a_resolution_rasa_did_not_take_leaves_the_ticket_open_to_try_again(desk) -> None:
    server, rasa = desk
    code = ticket(server, "web:khach-3")
    lan = DeskAgent(server.url, "lan", "lan-password-123")

    def refuse(sender: str, events: list) -> None:
        raise ConnectionError("Rasa is restarting")  # the stand-in hangs up without an answer

    rasa.on_append = refuse
    assert act(lan, code, "resolve", message="Xong rồi ạ").headers["Location"].endswith("unsent")
    assert TicketStore(server.engine).get(code)["status"] == "open"
    rasa.on_append = None
    assert act(lan, code, "resolve", message="Xong rồi ạ").headers["Location"].endswith("notice=resolved")
